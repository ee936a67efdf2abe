// Which tensors each op takes and gives, their shapes and formats, and the
// generation of the fill-based inputs.
#include "core/tensor.hpp"

#include "core/dtype.hpp"
#include "core/fill.hpp"

namespace bncheck {

std::vector<std::string> input_names(const problem& p) {
  switch (p.op) {
    case op_kind::forward_training:
    case op_kind::forward_inference:
      return {"x", "gamma", "beta", "running_mean", "running_var"};
    case op_kind::backward: return {"x", "dy", "gamma", "mean", "var", "invstd"};
  }
  return {};
}

std::vector<std::string> output_names(const problem& p) {
  switch (p.op) {
    case op_kind::forward_training:
      return {"y", "mean", p.prof == profile::onnx ? "var" : "invstd", "running_mean",
              "running_var"};
    case op_kind::forward_inference: return {"y"};
    case op_kind::backward: return {"dx", "dgamma", "dbeta"};
  }
  return {};
}

static bool is_data_tensor(const std::string& name) {
  return name == "x" || name == "y" || name == "dy" || name == "dx";
}

std::vector<int64_t> shape_of(const problem& p, const std::string& name) {
  return is_data_tensor(name) ? data_shape(p) : std::vector<int64_t>{p.c};
}

dtype type_of(const problem& p, const std::string& name) {
  return is_data_tensor(name) ? p.data_type : p.param_type;
}

tensor_map generate_inputs(const problem& p) {
  const std::pair<const char*, std::pair<const fill_spec*, fill_stream>> fills[] = {
      {"x", {&p.x, fill_stream::x}},
      {"dy", {&p.dy, fill_stream::dy}},
      {"gamma", {&p.gamma, fill_stream::gamma}},
      {"beta", {&p.beta, fill_stream::beta}},
      {"running_mean", {&p.running_mean, fill_stream::running_mean}},
      {"running_var", {&p.running_var, fill_stream::running_var}}};
  const auto needed = input_names(p);
  tensor_map out;
  for (const auto& [name, f] : fills) {
    bool want = false;
    for (const auto& n : needed) want = want || n == name;
    if (!want) continue;
    tensor t;
    t.type = type_of(p, name);
    t.shape = shape_of(p, name);
    int64_t count = 1;
    for (int64_t s : t.shape) count *= s;
    t.values = generate(*f.first, t.type, count, p.seed, f.second);
    out.emplace(name, std::move(t));
  }
  return out;
}

}  // namespace bncheck
