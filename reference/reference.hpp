// The ground truth: every output of every op, computed in MPFR arithmetic
// (Boost.Multiprecision) and rounded once to float64, with the rounding
// proven stable by recomputation at escalating precision (Ziv's strategy).
#pragma once

#include <cstdint>

#include "core/problem.hpp"
#include "core/tensor.hpp"

namespace bncheck::reference {

/// Counters of the rounding proof, accumulated over calls.
struct rounding_stats {
  int64_t values = 0;        ///< output values whose rounding was proven
  int64_t escalations = 0;   ///< times a precision was not enough and was doubled
  unsigned max_precision = 0;  ///< the largest precision (bits) any value needed
};

/// Computes p's outputs from inputs (tensor_map as generate_inputs() gives:
/// x, gamma, beta, running_mean, running_var; or x, dy, gamma for backward).
/// Saved statistics in the inputs are ignored: backward uses the exact batch
/// statistics of x. Every returned tensor is f64, correctly rounded:
///   forward_training:  y, mean, var (biased), invstd, running_mean, running_var
///   forward_inference: y
///   backward:          dx, dgamma, dbeta, and mean, var, invstd of the batch
///   merge_statistics:  mean, var (biased), invstd of the merged shards
///                      (inputs shard_count, shard_mean, shard_m2; M2 >= 0)
/// A non-finite input value makes every output that reads it undefined
/// (undefined_outputs below): those elements are NaN, and no other changes.
/// Where the math is undefined (unbiased running variance with M = 1) the
/// value is NaN; with eps = 0 a constant channel gives invstd = +inf and
/// y = NaN (0/0), and inference with running_var + eps < 0 gives NaN.
/// Throws input_error for a missing input or one of the wrong shape; extra
/// inputs are ignored. Formulas, the rounding
/// proof and what stats counts: docs/reference.md.
tensor_map compute(const problem& p, const tensor_map& inputs, rounding_stats* stats = nullptr);

/// Per output compute() gives, per element: true where the exact value reads
/// a non-finite input value (NaN, +inf, -inf) and is therefore undefined
/// (docs/reference.md, "Non-finite inputs"): a non-finite x in a channel
/// reaches all of that channel's training outputs and its backward outputs
/// but dbeta (the sum of dy), and in inference only its own y; dy reaches
/// its channel's dx, dgamma, dbeta;
/// gamma reaches y (dx in backward); beta y; running_mean and running_var
/// their own updated value (and y in inference). Missing inputs reach nothing.
std::map<std::string, std::vector<bool>> undefined_outputs(const problem& p, const tensor_map& inputs);

}  // namespace bncheck::reference
