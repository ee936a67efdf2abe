// The tolerance model: per-element error bounds for every checked output,
// derived from error analysis in docs/tolerances.md. This is the only place
// bncheck decides how close is close enough.
#pragma once

#include "core/problem.hpp"
#include "core/tensor.hpp"

namespace bncheck {

/// Safety factor on the propagated (non-final-rounding) part of every bound;
/// docs/tolerances.md section 2.3 says why 2.
inline constexpr double tolerance_safety = 2.0;

/// The longest run of terms a correct kernel may add sequentially before
/// combining partial sums pairwise (docs/tolerances.md section 2.2).
inline constexpr int64_t sequential_run = 32;

/// Error factor of a sum of m terms under that rule: |error| <= L*u*sum|terms|
/// with L = min(m, B) + ceil(log2(ceil(m / B))), B = sequential_run.
double reduction_depth(int64_t m);

/// For every output in output_names(p), a tensor of per-element absolute
/// bounds (same shape, f64). An element passes when |got - expected| <= bound.
/// Zero-variance channels get the exactness rule (docs/tolerances.md section 6):
/// the bound is the distance from expected to its rounding in the output format.
/// inputs are the case's inputs (including saved statistics for backward),
/// expected its reference outputs.
tensor_map tolerance_bounds(const problem& p, const tensor_map& inputs, const tensor_map& expected);

}  // namespace bncheck
