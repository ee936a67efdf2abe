// Storage formats: their parameters and correctly rounded conversion.
#include "core/dtype.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace bncheck {
namespace {

struct format {
  int p;        // precision in bits
  int emin;     // exponent of the smallest normal
  int emax;     // exponent of the largest finite value
  std::size_t bytes;
};

format format_of(dtype t) {
  switch (t) {
    case dtype::f64: return {53, -1022, 1023, 8};
    case dtype::f32: return {24, -126, 127, 4};
    case dtype::f16: return {11, -14, 15, 2};
    case dtype::bf16: return {8, -126, 127, 2};
  }
  return {53, -1022, 1023, 8};
}

}  // namespace

int precision_bits(dtype t) { return format_of(t).p; }
double unit_roundoff(dtype t) { return std::ldexp(1.0, -format_of(t).p); }
double denorm_min(dtype t) {
  const format f = format_of(t);
  return std::ldexp(1.0, f.emin - (f.p - 1));
}
double max_finite(dtype t) {
  const format f = format_of(t);
  return std::ldexp(2.0 - std::ldexp(1.0, 1 - f.p), f.emax);
}
std::size_t size_of(dtype t) { return format_of(t).bytes; }

double round_to(dtype t, double v) {
  if (t == dtype::f64 || !std::isfinite(v) || v == 0.0) return v;
  const format f = format_of(t);
  int e = 0;
  std::frexp(v, &e);  // |v| in [2^(e-1), 2^e)
  const int lead = e - 1;
  const int quantum = (lead < f.emin ? f.emin : lead) - (f.p - 1);
  // v / 2^quantum has at most 53 significant bits; nearbyint rounds it to an
  // integer with ties to even (the default rounding mode), exactly the
  // format's rounding. Scaling by a power of two is exact in double here.
  const double r = std::ldexp(std::nearbyint(std::ldexp(v, -quantum)), quantum);
  if (std::fabs(r) > max_finite(t)) return std::copysign(std::numeric_limits<double>::infinity(), v);
  return r;
}

bool representable(dtype t, double v) {
  if (std::isnan(v)) return true;
  return round_to(t, v) == v;
}

void store(dtype t, double v, void* dst) {
  switch (t) {
    case dtype::f64: std::memcpy(dst, &v, 8); return;
    case dtype::f32: {
      const float f = static_cast<float>(v);
      std::memcpy(dst, &f, 4);
      return;
    }
    case dtype::f16: {
      // v is representable in f16: derive the bits from its exponent and significand.
      uint16_t bits;
      const uint16_t sign = std::signbit(v) ? 0x8000 : 0;
      const double a = std::fabs(v);
      if (std::isnan(v)) bits = 0x7e00;
      else if (std::isinf(v)) bits = sign | 0x7c00;
      else if (a < std::ldexp(1.0, -14))  // subnormal or zero: a = m * 2^-24
        bits = sign | static_cast<uint16_t>(std::ldexp(a, 24));
      else {
        int e = 0;
        const double m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
        const auto frac = static_cast<uint16_t>(std::ldexp(m, 11) - 1024.0);
        bits = sign | static_cast<uint16_t>((e - 1 + 15) << 10) | frac;
      }
      std::memcpy(dst, &bits, 2);
      return;
    }
    case dtype::bf16: {
      // bf16 is the upper half of an f32 with the same value (v is representable).
      const float f = static_cast<float>(v);
      uint32_t u;
      std::memcpy(&u, &f, 4);
      if (std::isnan(f)) u = 0x7fc00000u;
      const auto bits = static_cast<uint16_t>(u >> 16);
      std::memcpy(dst, &bits, 2);
      return;
    }
  }
}

double load(dtype t, const void* src) {
  switch (t) {
    case dtype::f64: {
      double v;
      std::memcpy(&v, src, 8);
      return v;
    }
    case dtype::f32: {
      float f;
      std::memcpy(&f, src, 4);
      return f;
    }
    case dtype::f16: {
      uint16_t bits;
      std::memcpy(&bits, src, 2);
      const double sign = (bits & 0x8000) ? -1.0 : 1.0;
      const int e = (bits >> 10) & 0x1f;
      const int frac = bits & 0x3ff;
      if (e == 0x1f)
        return frac ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
      if (e == 0) return sign * std::ldexp(frac, -24);
      return sign * std::ldexp(1024 + frac, e - 25);
    }
    case dtype::bf16: {
      uint16_t bits;
      std::memcpy(&bits, src, 2);
      const uint32_t u = static_cast<uint32_t>(bits) << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
  }
  return 0;
}

}  // namespace bncheck
