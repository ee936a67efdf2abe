// Our CUDA batch-normalization kernel behind core/kernel.hpp ("cuda"), its
// serial host emulation ("cuda-host", always built), and the entry point on
// device pointers that benchmarks call without copies.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/kernel.hpp"

namespace bncheck::cuda {

/// "cuda-host": the device algorithm executed serially on the CPU, bit for
/// bit (docs/cuda.md says where a device could differ).
std::unique_ptr<kernel> make_cuda_host_kernel();

#if defined(BNCHECK_HAVE_CUDA)
/// "cuda": copies the harness's host buffers to the device, runs, copies
/// the outputs back. Without a usable device every run returns
/// kernel_status::unimplemented with "no CUDA device: <CUDA's error>".
std::unique_ptr<kernel> make_cuda_kernel();

/// Empty when a CUDA device can be used; else "no CUDA device: " and the
/// reason (the CUDA runtime's error string, or that it found no device).
std::string device_unavailable();

/// Bytes of device workspace run_on_device needs for p.
std::size_t workspace_bytes(const problem& p);

/// Runs p on device buffers: every pointer of io (as core/kernel.hpp
/// describes them) and workspace (workspace_bytes(p), 256-byte aligned) are
/// device memory. Enqueues on stream (a cudaStream_t; null for the default
/// stream) and returns without synchronizing; launch errors are reported.
kernel_result run_on_device(const problem& p, const kernel_io& io, void* workspace, void* stream);
#endif

}  // namespace bncheck::cuda
