// The Eigen CPU kernel: every op, layout and profile, for data in f64, f32,
// f16 or bf16 and parameters in f32 or f64 (docs/cpu-kernel.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel.hpp"

namespace bncheck::eigen {

/// A new Eigen kernel, named "eigen". Statistics are chunked two-pass sums in
/// a fixed order, so layouts do not change the bits: in double for f64, f16
/// and bf16 data (reduction.hpp), every output rounded once; in f32 lanes
/// with double chunk merges for f32 data (impl/eigen/f32_model.hpp).
/// Per-channel algebra is in double. Parameter formats other than f32 and
/// f64 give kernel_status::unimplemented.
std::unique_ptr<kernel> make_eigen_kernel();

/// Threads per call, n >= 1, or 0 for the default: BNCHECK_THREADS if set,
/// else min(2, cores). Problems below 128 Ki elements always run on one
/// thread. Outputs are bitwise the same for every thread count.
void set_threads(int n);
/// The thread count a large problem gets now.
int threads();

/// Chunks (256 rows) per window of channel-last f32/f64 statistics, or 0 for
/// the default: as many as take 16 MiB of chunk results. Outputs are bitwise
/// the same for every window; tests set small ones to reach several windows.
void set_chunk_window(int64_t chunks);

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
