// oneDNN's batch-normalization primitives (dnnl::batch_normalization_forward
// and _backward, oneDNN 2.x) behind the kernel interface, named "onednn".
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::onednn {

/// A new oneDNN kernel on the CPU engine. Data in f32 (bf16 and f16 where the
/// CPU and the library implement them), parameters in f32, every layout, data
/// tensors in any storage (takes_strides(): memory descriptors with strides;
/// an output in another storage than its input's is reordered into place).
/// oneDNN computes y, the batch mean and biased variance, and the backward
/// pass; it keeps no running statistics and no inverse std, which forward
/// training declares not produced (docs/adapters.md). Threads: oneDNN's own
/// runtime (OpenMP in Debian's build, OMP_NUM_THREADS).
std::unique_ptr<kernel> make_onednn_kernel();

}  // namespace bncheck::onednn
