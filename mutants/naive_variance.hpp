// A deliberately broken kernel that the checker must reject: the plain kernel
// (plain_kernel.hpp) with the one-pass variance E[x^2] - E[x]^2.
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::mutants {

/// The "naive_variance" mutant of the catalog: correct except that the batch
/// variance is sum(x^2)/M - mean^2, in float32 for f32/f16/bf16 data, which
/// cancels catastrophically when |mean| is large against the spread
/// (x ~ 10^4 +- 1: relative error ~ 6e-8 * 10^8).
std::unique_ptr<kernel> make_naive_variance();

}  // namespace bncheck::mutants
