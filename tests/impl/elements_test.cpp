// The Eigen kernel's 16-bit storage conversions against core/dtype.hpp:
// decoding is exact for every bit pattern, encoding rounds once to nearest even.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/dtype.hpp"
#include "core/fill.hpp"
#include "impl/eigen/elements.hpp"

namespace bncheck::eigen {
namespace {

uint16_t core_bits(dtype t, double v) {
  uint16_t bits;
  store(t, round_to(t, v), &bits);
  return bits;
}

// Doubles that probe the rounding of format t: every representable value's
// neighbourhood at a few exponents (exact midpoints, one double ulp either
// side), the overflow and underflow thresholds, and random bit patterns.
std::vector<double> probes(dtype t) {
  std::vector<double> v = {0.0, -0.0, 1.0, -1.0, max_finite(t), -max_finite(t),
                           denorm_min(t), denorm_min(t) / 2, denorm_min(t) / 4,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::denorm_min(), 1e300, -1e-300};
  const int p = precision_bits(t);
  const double half_ulp_at_max = std::ldexp(1.0, std::ilogb(max_finite(t)) - p);
  v.push_back(max_finite(t) + half_ulp_at_max);  // the overflow midpoint: ties to infinity
  v.push_back(std::nextafter(max_finite(t) + half_ulp_at_max, 0.0));
  for (int e : {-140, -133, -126, -125, -24, -20, -15, -14, -13, 0, 1, 14, 15, 100, 127}) {
    const double quantum = std::ldexp(1.0, e);
    for (int k = 0; k < 64; ++k) {
      const double mid = quantum * (static_cast<double>((1 << (p - 1)) + k) + 0.5);
      for (double m : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e308)}) {
        v.push_back(m);
        v.push_back(-m);
      }
    }
  }
  // Random sign and significand, exponents from just below the smallest
  // subnormal to just above the largest finite value of t.
  const int low = std::ilogb(denorm_min(t)) - 3, high = std::ilogb(max_finite(t)) + 3;
  splitmix64 rng{0x5eed};
  for (int k = 0; k < 200000; ++k) {
    uint64_t bits = rng.next();
    const uint64_t exponent = static_cast<uint64_t>(1023 + low) + rng.next() % static_cast<uint64_t>(high - low + 1);
    bits = (bits & 0x800fffffffffffffull) | (exponent << 52);
    double d;
    std::memcpy(&d, &bits, 8);
    v.push_back(d);
  }
  return v;
}

TEST(eigen_elements, f16_encoding_rounds_like_core_round_to) {
  for (double v : probes(dtype::f16))
    ASSERT_EQ(from_double<f16>(v).bits, core_bits(dtype::f16, v)) << hex_float(v);
}

TEST(eigen_elements, bf16_encoding_rounds_like_core_round_to) {
  for (double v : probes(dtype::bf16))
    ASSERT_EQ(from_double<bf16>(v).bits, core_bits(dtype::bf16, v)) << hex_float(v);
}

TEST(eigen_elements, nan_encodes_as_quiet_nan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(to_double(from_double<f16>(nan))));
  EXPECT_TRUE(std::isnan(to_double(from_double<bf16>(nan))));
  EXPECT_TRUE(std::isnan(to_double(from_double<f16>(-nan))));
}

TEST(eigen_elements, every_16_bit_pattern_decodes_exactly) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const auto bits = static_cast<uint16_t>(b);
    const double h = to_double(f16{bits}), core_h = load(dtype::f16, &bits);
    const double g = to_double(bf16{bits}), core_g = load(dtype::bf16, &bits);
    ASSERT_TRUE(std::isnan(core_h) ? std::isnan(h) : h == core_h && std::signbit(h) == std::signbit(core_h))
        << b;
    ASSERT_TRUE(std::isnan(core_g) ? std::isnan(g) : g == core_g && std::signbit(g) == std::signbit(core_g))
        << b;
  }
}

TEST(eigen_elements, decoding_then_encoding_round_trips_every_finite_pattern) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const auto bits = static_cast<uint16_t>(b);
    if (!std::isnan(to_double(f16{bits}))) {
      ASSERT_EQ(from_double<f16>(to_double(f16{bits})).bits, bits);
    }
    if (!std::isnan(to_double(bf16{bits}))) {
      ASSERT_EQ(from_double<bf16>(to_double(bf16{bits})).bits, bits);
    }
  }
}

TEST(eigen_elements, float_runs_round_once_from_double) {
  // 1 + 2^-24 + 2^-50 is just above a float midpoint: it must round up; the
  // midpoint itself ties to even.
  const std::vector<double> in = {1.0 + 0x1p-24 + 0x1p-50, 1.0 + 0x1p-24, -3.0e38 * 2};
  std::vector<float> out(in.size());
  encode(in.data(), static_cast<int64_t>(in.size()), out.data());
  EXPECT_EQ(out[0], 1.0f + 0x1p-23f);
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_EQ(out[2], -std::numeric_limits<float>::infinity());
}

}  // namespace
}  // namespace bncheck::eigen
