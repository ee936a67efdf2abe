// Which tensors each op takes and gives, their shapes and formats, and the
// generation of the fill-based inputs.
#include "core/tensor.hpp"

#include <cmath>

#include "core/dtype.hpp"
#include "core/fill.hpp"

namespace bncheck {

std::vector<std::string> input_names(const problem& p) {
  switch (p.op) {
    case op_kind::forward_training:
    case op_kind::forward_inference:
      return {"x", "gamma", "beta", "running_mean", "running_var"};
    case op_kind::backward: return {"x", "dy", "gamma", "mean", "var", "invstd"};
    case op_kind::merge_statistics: return {"shard_count", "shard_mean", "shard_m2"};
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
    case op_kind::merge_statistics: return {"mean", "var", "invstd"};
  }
  return {};
}

static bool is_data_tensor(const std::string& name) {
  return name == "x" || name == "y" || name == "dy" || name == "dx";
}

std::vector<int64_t> shape_of(const problem& p, const std::string& name) {
  if (name == "shard_count") return {p.n};
  if (name == "shard_mean" || name == "shard_m2") return {p.n, p.c};  // shard-major
  return is_data_tensor(name) ? data_shape(p) : std::vector<int64_t>{p.c};
}

dtype type_of(const problem& p, const std::string& name) {
  if (name == "shard_count") return dtype::f64;  // integers up to 2^53, exact
  return is_data_tensor(name) ? p.data_type : p.param_type;
}

namespace {

// merge_statistics' inputs: the counts as given, each shard's mean from its
// fill, and M2 = (count - 1) * |v| for a drawn variance v, rounded once to
// the parameter format (so M2 = 0 exactly for a shard of one value).
tensor_map shard_inputs(const problem& p) {
  tensor_map out;
  tensor count{dtype::f64, shape_of(p, "shard_count"), {}};
  for (int64_t k : p.shards) count.values.push_back(static_cast<double>(k));
  const int64_t cells = p.n * p.c;
  tensor mean{p.param_type, shape_of(p, "shard_mean"),
              generate(p.shard_mean, p.param_type, cells, p.seed, fill_stream::shard_mean)};
  tensor m2{p.param_type, shape_of(p, "shard_m2"),
            generate(p.shard_var, p.param_type, cells, p.seed, fill_stream::shard_var)};
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t c = 0; c < p.c; ++c) {
      double& v = m2.values[static_cast<std::size_t>(i * p.c + c)];
      v = round_to(p.param_type, static_cast<double>(p.shards[static_cast<std::size_t>(i)] - 1) * std::fabs(v));
    }
  out.emplace("shard_count", std::move(count));
  out.emplace("shard_mean", std::move(mean));
  out.emplace("shard_m2", std::move(m2));
  return out;
}

}  // namespace

tensor_map generate_inputs(const problem& p) {
  if (p.op == op_kind::merge_statistics) return shard_inputs(p);
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
