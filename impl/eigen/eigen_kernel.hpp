// The Eigen CPU kernel: every op, layout and profile, for data in f64, f32,
// f16 or bf16 and parameters in f32 or f64, computed in double.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/kernel.hpp"

namespace bncheck::eigen {

/// A new Eigen kernel, named "eigen". Statistics are two-pass in double
/// (reduction.hpp fixes the summation order, so layouts do not change the
/// bits); every output is rounded once to its storage format. Parameter
/// formats other than f32 and f64 give kernel_status::unimplemented.
std::unique_ptr<kernel> make_eigen_kernel();

/// Threads per call, n >= 1, or 0 for the default: BNCHECK_THREADS if set,
/// else min(2, cores). Problems below 128 Ki elements always run on one
/// thread. Outputs are bitwise the same for every thread count.
void set_threads(int n);
/// The thread count a large problem gets now.
int threads();

/// The instruction set of the f32 and f64 data loops: "sse2" (the x86-64
/// baseline), "avx2" or "avx512". set_isa("") restores the automatic choice:
/// BNCHECK_EIGEN_ISA if it names a supported one, else the best supported.
/// Returns false, changing nothing, for a name this processor cannot run.
/// Outputs are bitwise the same for every instruction set.
bool set_isa(const std::string& name);
/// The instruction set in use.
std::string isa();
/// The instruction sets this processor can run, baseline first.
std::vector<std::string> supported_isas();

}  // namespace bncheck::eigen
