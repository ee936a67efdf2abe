// Tensors as the harness holds them: values as doubles (every format embeds
// exactly in double) tagged with the format they live in, and named sets of them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/problem.hpp"

namespace bncheck {

struct tensor {
  dtype type = dtype::f64;
  std::vector<int64_t> shape;   ///< C order
  std::vector<double> values;   ///< each exactly representable in type
};

/// Tensors by name. Input names: x, dy, gamma, beta, running_mean, running_var,
/// and for backward the saved statistics mean, var, invstd; merge_statistics
/// takes shard_count {n} (f64), shard_mean and shard_m2 {n, c}. Output names:
/// y, mean, var, invstd, running_mean, running_var, dx, dgamma, dbeta.
using tensor_map = std::map<std::string, tensor>;

/// Names of the inputs a problem's op needs, in a fixed order.
std::vector<std::string> input_names(const problem& p);
/// Names of the outputs a problem's op produces and that are checked, in a fixed order.
/// forward_training: y, mean, and var (onnx) or invstd (pytorch, cudnn), running_mean, running_var;
/// forward_inference: y; backward: dx, dgamma, dbeta; merge_statistics: mean, var, invstd.
std::vector<std::string> output_names(const problem& p);
/// Shape of a named tensor for the problem: data tensors take data_shape(p),
/// per-channel ones {c}.
std::vector<int64_t> shape_of(const problem& p, const std::string& name);
/// Format of a named tensor: data_type for x, y, dy, dx; param_type otherwise.
dtype type_of(const problem& p, const std::string& name);

/// Generates the inputs that come from fills (everything but the saved
/// statistics of backward, which the reference provides: see check/harness.hpp).
tensor_map generate_inputs(const problem& p);

}  // namespace bncheck
