// The Eigen CPU kernel: every op, layout and profile, for data in f64, f32,
// f16 or bf16 and parameters in f32 or f64, computed in double.
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::eigen {

/// A new Eigen kernel, named "eigen". Statistics are two-pass in double
/// (reduction.hpp fixes the summation order, so layouts do not change the
/// bits); every output is rounded once to its storage format. Parameter
/// formats other than f32 and f64 give kernel_status::unimplemented.
std::unique_ptr<kernel> make_eigen_kernel();

}  // namespace bncheck::eigen
