// PyTorch's CPU batch norm (at::native_batch_norm and
// at::native_batch_norm_backward, libtorch 1.13) behind the kernel
// interface, named "libtorch".
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::libtorch {

/// A new libtorch kernel. Data and parameters f32:f32 or f64:f64 (and the
/// mixed formats the library accepts), every layout, borrowed from the
/// harness's buffers without copies, each data tensor with its storage's
/// strides (takes_strides(): channels_last for nhwc and ndhwc, the other
/// format, channel slices). PyTorch saves mean and invstd and updates the
/// running statistics itself with the pytorch profile's formulas, so
/// forward_training with profile onnx is unimplemented and var is declared
/// not produced (docs/adapters.md). Threads: at::set_num_threads(BNCHECK_THREADS, default 2).
///
/// Defined in the loadable module libbncheck_adapter_libtorch.so, not in a
/// library one links: libtorch's start-up costs about 0.4 s per process,
/// which only the processes that use this kernel should pay. Get the kernel
/// through make_kernel("libtorch") or libtorch_loader.hpp; link the module
/// only to call this directly.
std::unique_ptr<kernel> make_libtorch_kernel();

}  // namespace bncheck::libtorch
