// dlib's CPU batch normalization for convolutional layers
// (dlib::tt::batch_normalize_conv, _conv_gradient and _conv_inference,
// dlib 19.24) behind the kernel interface, named "dlib".
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::dlib_adapter {

/// A new dlib kernel. dlib tensors are float and NCHW: f32:f32 problems in
/// nc, nchw and ncdhw (as N x C x (D*H) x W), with eps > 0 and, for training
/// and backward, a batch of more than one sample (dlib's preconditions);
/// everything else is unimplemented. dlib saves mean and invstd and updates
/// the running statistics itself with the pytorch profile's formulas, so
/// forward_training with profile onnx is unimplemented. Single-threaded.
std::unique_ptr<kernel> make_dlib_kernel();

}  // namespace bncheck::dlib_adapter
