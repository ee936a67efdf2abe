// A deliberately broken kernel that the checker must reject: plain float32
// batch normalization whose variance is the one-pass E[x^2] - E[x]^2.
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::mutants {

/// The "naive_variance" kernel: every op, layout and format, computed in
/// float32 with sequential sums; the batch variance is sum(x^2)/M - mean^2 with
/// sums and products in float32, which cancels catastrophically when |mean|
/// is large against the spread (x ~ 10^4 +- 1: relative error ~ 6e-8 * 10^8).
std::unique_ptr<kernel> make_naive_variance();

}  // namespace bncheck::mutants
