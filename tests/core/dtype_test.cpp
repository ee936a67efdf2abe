// Correctly rounded conversion to each format and exact encode/decode.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/dtype.hpp"

namespace bncheck {
namespace {

TEST(dtype, round_to_f32_matches_the_hardware_conversion) {
  const double values[] = {0.1, 1.0 / 3.0, 1e-40, -7e-46, 3.4028235e38, 3.5e38, 1e4 + 1e-4};
  for (double v : values) EXPECT_EQ(round_to(dtype::f32, v), static_cast<double>(static_cast<float>(v))) << v;
}

TEST(dtype, round_to_f16_rounds_ties_to_even_and_handles_the_range_ends) {
  // 2049 lies halfway between 2048 and 2050 (f16 spacing 2 there): ties to even gives 2048.
  EXPECT_EQ(round_to(dtype::f16, 2049.0), 2048.0);
  EXPECT_EQ(round_to(dtype::f16, 2051.0), 2052.0);
  EXPECT_EQ(round_to(dtype::f16, 65504.0), 65504.0);
  EXPECT_EQ(round_to(dtype::f16, 65519.99), 65504.0);
  EXPECT_TRUE(std::isinf(round_to(dtype::f16, 65520.0)));
  EXPECT_EQ(round_to(dtype::f16, std::ldexp(1.0, -24)), std::ldexp(1.0, -24));  // smallest subnormal
  EXPECT_EQ(round_to(dtype::f16, std::ldexp(1.0, -26)), 0.0);                   // below half of it
  EXPECT_EQ(round_to(dtype::f16, std::ldexp(3.0, -26)), std::ldexp(1.0, -24));  // above half of it
}

TEST(dtype, round_to_bf16_keeps_eight_bits) {
  EXPECT_EQ(round_to(dtype::bf16, 1.0 + 1.0 / 256), 1.0);          // tie -> even
  EXPECT_EQ(round_to(dtype::bf16, 1.0 + 3.0 / 256), 1.0 + 4.0 / 256);
  EXPECT_EQ(round_to(dtype::bf16, 1.0 + 1.0 / 128), 1.0 + 1.0 / 128);
}

TEST(dtype, store_then_load_is_exact_for_every_format) {
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    const double values[] = {0.0, -0.0, 1.0, -2.5, 0.1, 1e-6, 60000.0, denorm_min(t), max_finite(t),
                             std::numeric_limits<double>::infinity()};
    for (double v : values) {
      const double r = round_to(t, v);
      unsigned char buf[8] = {};
      store(t, r, buf);
      const double back = load(t, buf);
      EXPECT_EQ(back, r) << to_string(t) << " " << v;
      EXPECT_EQ(std::signbit(back), std::signbit(r));
    }
    unsigned char buf[8] = {};
    store(t, std::numeric_limits<double>::quiet_NaN(), buf);
    EXPECT_TRUE(std::isnan(load(t, buf))) << to_string(t);
  }
}

TEST(dtype, f16_bits_are_ieee_binary16) {
  unsigned char buf[2];
  store(dtype::f16, 1.0, buf);
  uint16_t bits;
  std::memcpy(&bits, buf, 2);
  EXPECT_EQ(bits, 0x3c00);
  store(dtype::f16, -2.0, buf);
  std::memcpy(&bits, buf, 2);
  EXPECT_EQ(bits, 0xc000);
  store(dtype::f16, std::ldexp(1.0, -24), buf);
  std::memcpy(&bits, buf, 2);
  EXPECT_EQ(bits, 0x0001);
}

}  // namespace
}  // namespace bncheck
