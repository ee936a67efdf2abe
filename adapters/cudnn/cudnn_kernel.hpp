// cuDNN 9's batch normalization behind core/kernel.hpp ("cudnn").
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::cudnn_adapter {

/// The legacy cudnnBatchNormalization* entry points (docs/cuda.md says why
/// not the graph API), CUDNN_BATCHNORM_SPATIAL, on copies of the harness's
/// buffers in device memory. Without a usable device every run returns
/// kernel_status::unimplemented with "no CUDA device: <CUDA's error>".
std::unique_ptr<kernel> make_cudnn_kernel();

}  // namespace bncheck::cudnn_adapter
