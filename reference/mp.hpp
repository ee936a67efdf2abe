// High-precision batch normalization without the final rounding: the same
// exact-statistics formulas as compute(), evaluated once at a chosen working
// precision on arbitrary MPFR inputs. For tests (finite differences) and tools.
#pragma once

#include <vector>

#include "core/problem.hpp"
#include "reference/exact.hpp"

namespace bncheck::reference {

/// forward_training outputs at a working precision, unrounded.
struct mp_forward_result {
  std::vector<mpfr_float> y;                  ///< element_count(p) values in p.lay order
  std::vector<mpfr_float> mean, var, invstd;  ///< p.c values each; var is biased
};

/// backward outputs at a working precision, unrounded.
struct mp_backward_result {
  std::vector<mpfr_float> dx;             ///< element_count(p) values in p.lay order
  std::vector<mpfr_float> dgamma, dbeta;  ///< p.c values each
};

/// y = gamma (x - mean) / sqrt(var + p.eps) + beta with the batch statistics
/// of x, every result rounded once from exact intermediates or (where a square
/// root is irrational) within two roundings at `precision` bits. x has
/// element_count(p) finite values in p.lay order (any precision each), gamma
/// and beta p.c. Uses p's sizes, layout and eps; ignores p.op.
/// Throws input_error for wrong sizes.
mp_forward_result mp_forward(const problem& p, const std::vector<mpfr_float>& x,
                             const std::vector<mpfr_float>& gamma, const std::vector<mpfr_float>& beta,
                             mpfr_prec_t precision);

/// dx, dgamma, dbeta from dy with the exact batch statistics of x, at
/// `precision` bits (same conventions as mp_forward).
mp_backward_result mp_backward(const problem& p, const std::vector<mpfr_float>& x,
                               const std::vector<mpfr_float>& dy, const std::vector<mpfr_float>& gamma,
                               mpfr_prec_t precision);

}  // namespace bncheck::reference
