// Which named buffer goes into which kernel_io slot, for each op: the one
// place that knows it (the harness and direct test calls both bind through it).
#include "core/kernel.hpp"

namespace bncheck {

std::vector<io_slot> io_slots(op_kind op) {
  switch (op) {
    case op_kind::forward_training:
      return {{"x", false},   {"gamma", false},  {"beta", false},         {"y", true},
              {"mean", true}, {"var", true},     {"invstd", true},        {"running_mean", true},
              {"running_var", true}};
    case op_kind::forward_inference:
      return {{"x", false},           {"gamma", false},      {"beta", false},
              {"running_mean", false}, {"running_var", false}, {"y", true}};
    case op_kind::backward:
      return {{"x", false},   {"gamma", false}, {"dy", false},     {"mean", false}, {"var", false},
              {"invstd", false}, {"dx", true},  {"dgamma", true}, {"dbeta", true}};
  }
  return {};
}

kernel_io bind_io(op_kind op, const std::function<void*(const std::string&)>& buffer) {
  kernel_io io;
  const std::pair<const char*, void**> writable[] = {
      {"y", &io.y},           {"dx", &io.dx},         {"mean", &io.mean},
      {"var", &io.var},       {"invstd", &io.invstd}, {"running_mean", &io.running_mean},
      {"running_var", &io.running_var}, {"dgamma", &io.dgamma}, {"dbeta", &io.dbeta}};
  const std::pair<const char*, const void**> readonly[] = {
      {"x", &io.x}, {"dy", &io.dy}, {"gamma", &io.gamma}, {"beta", &io.beta}};
  for (const io_slot& slot : io_slots(op)) {
    const std::string name = slot.name;
    for (const auto& [n, field] : writable)
      if (name == n) *field = buffer(name);
    for (const auto& [n, field] : readonly)
      if (name == n) *field = buffer(name);
  }
  return io;
}

}  // namespace bncheck
