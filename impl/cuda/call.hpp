// What the CUDA kernel and its host emulation check and derive from a
// problem before running it: supported formats, the buffers an op needs, the
// geometry and the per-channel scalars.
#pragma once

#include <string>

#include "core/kernel.hpp"
#include "core/problem.hpp"
#include "impl/cuda/decomposition.hpp"

namespace bncheck::cuda {

/// Why p cannot run (empty when it can). Parameters must be f32 or f64;
/// merge_statistics has no device kernel (so none to emulate) yet.
inline std::string unsupported_reason(const problem& p) {
  if (p.op == op_kind::merge_statistics) return "merge_statistics is not implemented (no device kernel)";
  if (p.param_type != dtype::f32 && p.param_type != dtype::f64)
    return "parameters in " + std::string(to_string(p.param_type)) + " are not supported (f32 or f64 only)";
  return {};
}

/// Why io lacks a buffer p's op needs (empty when complete).
inline std::string missing_buffers(const problem& p, const kernel_io& io) {
  switch (p.op) {
    case op_kind::forward_training:
      if (!(io.x && io.gamma && io.beta && io.y)) return "forward_training needs x, gamma, beta and y";
      break;
    case op_kind::forward_inference:
      if (!(io.x && io.gamma && io.beta && io.y && io.running_mean && io.running_var))
        return "forward_inference needs x, gamma, beta, running_mean, running_var and y";
      break;
    case op_kind::backward:
      if (!(io.x && io.dy && io.gamma && io.mean && io.dx && (io.invstd || io.var)))
        return "backward needs x, dy, gamma, mean, invstd (or var) and dx";
      break;
    case op_kind::merge_statistics: break;  // unsupported_reason refuses it first
  }
  return {};
}

inline geometry geometry_of(const problem& p) {
  return {p.c, spatial_size(p), reduction_size(p), channel_last(p.lay)};
}

inline channel_params channel_params_of(const problem& p) {
  return {p.c, reduction_size(p), p.eps, p.momentum, static_cast<int>(p.prof), p.param_type == dtype::f64};
}

inline channel_io channel_io_of(const kernel_io& io) {
  return {io.gamma, io.beta, io.mean, io.var, io.invstd, io.running_mean, io.running_var, io.dgamma, io.dbeta};
}

}  // namespace bncheck::cuda
