// The oracle kernel: reference outputs, rounded once, through the kernel interface.
#include "tests/check/oracle_kernel.hpp"

#include <algorithm>

#include "core/dtype.hpp"
#include "reference/reference.hpp"

namespace bncheck::testing {
namespace {

tensor decode(const problem& p, const std::string& name, const void* data) {
  tensor t{type_of(p, name), shape_of(p, name), {}};
  int64_t n = 1;
  for (int64_t s : t.shape) n *= s;
  t.values.resize(static_cast<std::size_t>(n));
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (int64_t i = 0; i < n; ++i) t.values[i] = load(t.type, bytes + i * size_of(t.type));
  return t;
}

}  // namespace

kernel_result oracle_kernel::run(const problem& p, const kernel_io& io) {
  tensor_map in;
  in["x"] = decode(p, "x", io.x);
  in["gamma"] = decode(p, "gamma", io.gamma);
  if (io.beta) in["beta"] = decode(p, "beta", io.beta);
  if (io.dy) in["dy"] = decode(p, "dy", io.dy);
  if (io.running_mean) in["running_mean"] = decode(p, "running_mean", io.running_mean);
  if (io.running_var) in["running_var"] = decode(p, "running_var", io.running_var);
  tensor_map out = reference::compute(p, in);
  for (auto& [name, t] : out) {
    t.type = type_of(p, name);
    for (double& v : t.values) v = round_to(t.type, v);
  }
  if (perturb_) perturb_(p, in, out);
  const std::pair<const char*, void*> dst[] = {
      {"y", io.y},       {"dx", io.dx},         {"mean", io.mean},
      {"var", io.var},   {"invstd", io.invstd}, {"running_mean", io.running_mean},
      {"running_var", io.running_var}, {"dgamma", io.dgamma}, {"dbeta", io.dbeta}};
  for (const auto& [name, ptr] : dst) {
    if (!ptr || !out.count(name)) continue;
    const bool statistic = std::string(name) == "mean" || std::string(name) == "var" || std::string(name) == "invstd";
    if (statistic && p.op != op_kind::forward_training) continue;  // inputs there, not outputs
    if (std::find(skip_outputs.begin(), skip_outputs.end(), name) != skip_outputs.end()) continue;
    const tensor& t = out.at(name);
    std::size_t n = t.values.size();
    if ((std::string(name) == "y" || std::string(name) == "dx") && unwritten_tail > 0)
      n -= std::min<std::size_t>(n, static_cast<std::size_t>(unwritten_tail));
    for (std::size_t i = 0; i < n; ++i)
      store(t.type, t.values[i], static_cast<unsigned char*>(ptr) + i * size_of(t.type));
  }
  return {};
}

}  // namespace bncheck::testing
