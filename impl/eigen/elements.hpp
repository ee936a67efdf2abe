// How the Eigen kernel reads elements of each storage format into doubles
// (exactly) and writes doubles back (rounding once, to nearest even), one
// element and whole contiguous runs at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <Eigen/Core>

namespace bncheck::eigen {

/// IEEE binary16, held as its bit pattern (1 sign, 5 exponent, 10 fraction bits).
struct f16 {
  uint16_t bits;
};
/// bfloat16, held as its bit pattern: the upper 16 bits of a binary32.
struct bf16 {
  uint16_t bits;
};

/// The value of an element as a double, exactly (also for f16 and bf16 below).
inline double to_double(double v) { return v; }
inline double to_double(float v) { return v; }

/// Exact: every binary16 value is a binary32 value.
inline double to_double(f16 h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  const uint32_t exponent = (h.bits >> 10) & 0x1fu;
  const uint32_t fraction = h.bits & 0x3ffu;
  uint32_t u;
  if (exponent == 0x1f) {
    u = sign | 0x7f800000u | (fraction << 13);
  } else if (exponent == 0) {
    // Subnormal or zero: fraction * 2^-24, exact in float (at most 10 bits).
    const float f = static_cast<float>(fraction) * 0x1p-24f;
    return sign ? -static_cast<double>(f) : static_cast<double>(f);
  } else {
    // Rebias the exponent from 15 to 127; the fraction widens by 13 zero bits.
    u = sign | ((exponent + 112u) << 23) | (fraction << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// Exact: a bfloat16 is the upper half of a binary32.
inline double to_double(bf16 h) {
  const uint32_t u = static_cast<uint32_t>(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// Rounds v to the nearest value (ties to even) of a binary format with
/// `precision` significand bits (implicit bit included), smallest normal
/// exponent `emin` and `exponent_bits` exponent bits, directly from the
/// double's bits so there is only one rounding. Gradual underflow; overflow to
/// infinity; NaN becomes a quiet NaN with the sign kept.
template <int precision, int emin, int exponent_bits>
uint16_t round_to_bits(double v) {
  constexpr int fraction_bits = precision - 1;
  constexpr uint64_t infinity = ((uint64_t{1} << exponent_bits) - 1) << fraction_bits;
  uint64_t u;
  std::memcpy(&u, &v, 8);
  const auto sign = static_cast<uint16_t>((u >> 48) & 0x8000u);
  const int biased = static_cast<int>((u >> 52) & 0x7ff);
  const uint64_t fraction = u & ((uint64_t{1} << 52) - 1);
  if (biased == 0x7ff)
    return static_cast<uint16_t>(sign | infinity |
                                 (fraction ? uint64_t{1} << (fraction_bits - 1) : 0));
  // Double subnormals lie far below half the smallest subnormal of the target.
  if (biased == 0) return sign;
  const int e = biased - 1023;                             // |v| = m * 2^(e - 52)
  const uint64_t m = fraction | (uint64_t{1} << 52);
  // The result's quantum is 2^(max(e, emin) - fraction_bits): drop that many
  // low bits of m. shift >= 54 means |v| < half the smallest subnormal.
  const int shift = 52 - fraction_bits + (e < emin ? emin - e : 0);
  if (shift >= 54) return sign;
  uint64_t kept = m >> shift;
  const uint64_t rest = m & ((uint64_t{1} << shift) - 1);
  const uint64_t half = uint64_t{1} << (shift - 1);
  kept += (rest > half || (rest == half && (kept & 1))) ? 1 : 0;
  // Normals: kept is in [2^fraction_bits, 2^precision] and carries the
  // implicit bit, so adding it to (biased exponent - 1) << fraction_bits gives
  // the encoding, a carry into the exponent included. Subnormals: kept is the
  // encoding itself (reaching 2^fraction_bits gives the smallest normal).
  const uint64_t bits =
      (e < emin ? 0 : static_cast<uint64_t>(e - emin) << fraction_bits) + kept;
  return static_cast<uint16_t>(sign | (bits >= infinity ? infinity : bits));
}

/// Rounds a double to T once (float's conversion rounds to nearest even).
template <class T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, double>) {
    return v;
  } else if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(v);
  } else if constexpr (std::is_same_v<T, f16>) {
    return f16{round_to_bits<11, -14, 5>(v)};
  } else {
    static_assert(std::is_same_v<T, bf16>);
    return bf16{round_to_bits<8, -126, 8>(v)};
  }
}

// Eigen 3.4 does not vectorize cast<>() (scalar_cast_op has no packet
// access), and one cast in an expression makes the whole expression scalar.
// Conversions are therefore plain loops, which the compiler vectorizes
// (cvtps2pd, cvtpd2ps) without reassociating anything.

/// Decodes n elements at src into dst, exactly.
template <class T>
void decode(const T* src, int64_t n, double* dst) {
  if constexpr (std::is_same_v<T, double>) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(double));
  } else if constexpr (std::is_same_v<T, float>) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<double>(src[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = to_double(src[i]);
  }
}

/// Encodes n doubles at src into dst, rounding each once.
template <class T>
void encode(const double* src, int64_t n, T* dst) {
  if constexpr (std::is_same_v<T, double>) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(double));
  } else if constexpr (std::is_same_v<T, float>) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = from_double<T>(src[i]);
  }
}

/// A contiguous run of n elements of T as an Eigen array of doubles: the
/// memory itself for double, else decoded into scratch (at least n doubles).
template <class T>
Eigen::Map<const Eigen::ArrayXd> as_doubles(const T* src, int64_t n, double* scratch) {
  if constexpr (std::is_same_v<T, double>) {
    return {src, n};
  } else {
    decode(src, n, scratch);
    return {scratch, n};
  }
}

}  // namespace bncheck::eigen
