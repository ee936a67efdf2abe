// Our CUDA batch-normalization kernel behind core/kernel.hpp ("cuda"), its
// serial host emulation ("cuda-host", always built), and the entry point on
// device pointers that benchmarks call without copies.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/kernel.hpp"

namespace bncheck::cuda {

/// How the device kernel runs training and backward (docs/cuda.md):
///   fused     one cooperative launch of persistent blocks that keep the
///             values they read in shared memory while they fit (fused.hpp);
///             used wherever the device can launch it;
///   launches  statistics, merge levels, finalize and elementwise as separate
///             launches (the design measured on 2026-12-04).
/// Both compute the same tree, so the same bits.
enum class schedule { fused, launches };

/// The device cuda-host emulates. Only the fused schedule's cutting depends
/// on it; the defaults are an H200's (132 SMs, 228 KB of shared memory per
/// SM, 227 KB per block) with 2 blocks of 256 threads per SM allowed by its
/// registers.
struct emulated_device {
  schedule sched = schedule::fused;
  int sms = 132;
  std::size_t smem_per_sm = 228 * 1024;
  std::size_t smem_per_block = 227 * 1024;
  int max_blocks_per_sm = 2;
};

/// "cuda-host": the device algorithm executed serially on the CPU, bit for
/// bit (docs/cuda.md says where a device could differ), on device d.
std::unique_ptr<kernel> make_cuda_host_kernel(const emulated_device& d = {});

#if defined(BNCHECK_HAVE_CUDA)
/// "cuda": copies the harness's host buffers to the device, runs, copies
/// the outputs back. Without a usable device every run returns
/// kernel_status::unimplemented with "no CUDA device: <CUDA's error>".
std::unique_ptr<kernel> make_cuda_kernel(schedule s = schedule::fused);

/// Empty when a CUDA device can be used; else "no CUDA device: " and the
/// reason (the CUDA runtime's error string, or that it found no device).
std::string device_unavailable();

/// What run_on_device(p, ..., s) launches on the current device, in words:
/// "launches", or "fused: G blocks, K of L leaf blocks kept (...)", or why
/// the fused schedule falls back to the launches there.
std::string schedule_on_device(const problem& p, schedule s);

/// Bytes of device workspace run_on_device needs for p.
std::size_t workspace_bytes(const problem& p);

/// Runs p on device buffers: every pointer of io (as core/kernel.hpp
/// describes them) and workspace (workspace_bytes(p), 256-byte aligned) are
/// device memory. Enqueues on stream (a cudaStream_t; null for the default
/// stream) and returns without synchronizing; launch errors are reported.
kernel_result run_on_device(const problem& p, const kernel_io& io, void* workspace, void* stream,
                            schedule s = schedule::fused);
#endif

}  // namespace bncheck::cuda
