// Properties of the storage formats and correctly rounded conversion from
// double to each of them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/problem.hpp"

namespace bncheck {

/// Bits of precision (including the implicit bit): f64 53, f32 24, f16 11, bf16 8.
int precision_bits(dtype t);
/// Unit roundoff u = 2^-p: |round(v) - v| <= u*|v| for normal results.
double unit_roundoff(dtype t);
/// Smallest positive subnormal of the format (the absolute rounding floor is half of it).
double denorm_min(dtype t);
/// Largest finite value of the format.
double max_finite(dtype t);
/// Bytes per element in memory.
std::size_t size_of(dtype t);

/// Rounds v to the nearest value of format t (ties to even), with gradual
/// underflow and overflow to infinity; the result is returned as a double,
/// exactly. NaN stays NaN.
double round_to(dtype t, double v);
/// True if v is exactly representable in t (NaN and infinities count).
bool representable(dtype t, double v);

/// Encodes the double v (which must be representable in t) into memory at dst.
void store(dtype t, double v, void* dst);
/// Decodes one element of format t at src, exactly, as a double.
double load(dtype t, const void* src);

}  // namespace bncheck
