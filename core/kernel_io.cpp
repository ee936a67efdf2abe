// Which named buffer goes into which kernel_io slot, for each op: the one
// place that knows it (the harness, isolation, judge and direct test calls
// all bind and look up through it).
#include "core/kernel.hpp"

#include <cstring>
#include <map>

#include "core/dtype.hpp"
#include "core/tensor.hpp"

namespace bncheck {
namespace {

// Every kernel_io field by tensor name: outputs (writable) or inputs.
struct field {
  const char* name;
  void* kernel_io::*out;
  const void* kernel_io::*in;
};
constexpr field fields[] = {
    {"x", nullptr, &kernel_io::x},
    {"dy", nullptr, &kernel_io::dy},
    {"gamma", nullptr, &kernel_io::gamma},
    {"beta", nullptr, &kernel_io::beta},
    {"y", &kernel_io::y, nullptr},
    {"dx", &kernel_io::dx, nullptr},
    {"mean", &kernel_io::mean, nullptr},
    {"var", &kernel_io::var, nullptr},
    {"invstd", &kernel_io::invstd, nullptr},
    {"running_mean", &kernel_io::running_mean, nullptr},
    {"running_var", &kernel_io::running_var, nullptr},
    {"dgamma", &kernel_io::dgamma, nullptr},
    {"dbeta", &kernel_io::dbeta, nullptr},
    {"shard_count", nullptr, &kernel_io::shard_count},
    {"shard_mean", nullptr, &kernel_io::shard_mean},
    {"shard_m2", nullptr, &kernel_io::shard_m2},
};

const field* find(const std::string& name) {
  for (const field& f : fields)
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace

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
    case op_kind::merge_statistics:
      return {{"shard_count", false}, {"shard_mean", false}, {"shard_m2", false},
              {"mean", true},         {"var", true},         {"invstd", true}};
  }
  return {};
}

kernel_io bind_io(op_kind op, const std::function<void*(const std::string&)>& buffer) {
  kernel_io io;
  for (const io_slot& slot : io_slots(op)) {
    const field* f = find(slot.name);
    if (f->out) io.*(f->out) = buffer(slot.name);
    else io.*(f->in) = buffer(slot.name);
  }
  return io;
}

const void* io_buffer(const kernel_io& io, const std::string& name) {
  const field* f = find(name);
  if (!f) return nullptr;
  return f->out ? io.*(f->out) : io.*(f->in);
}

bool is_output_name(const std::string& name) {
  const field* f = find(name);
  return f != nullptr && f->out != nullptr;
}

bool optional_output(op_kind op, const std::string& name) {
  if (op == op_kind::merge_statistics) return name == "var" || name == "invstd";
  if (op != op_kind::forward_training) return false;
  for (const char* n : {"mean", "var", "invstd", "running_mean", "running_var"})
    if (name == n) return true;
  return false;
}

void* io_output(const kernel_io& io, const std::string& name) {
  const field* f = find(name);
  return f && f->out ? io.*(f->out) : nullptr;
}

buffer_extent extent_of(const problem& p, const std::string& name) {
  if (is_data_tensor(name)) {
    const placement g = placement_of(p, name);
    return {g.offset, g.span};
  }
  int64_t count = 1;
  for (int64_t s : shape_of(p, name)) count *= s;
  return {0, count};
}

kernel_result run_densified(const problem& p, const kernel_io& io,
                            const std::function<kernel_result(const problem&, const kernel_io&)>& body) {
  if (dense_storage(p)) return body(p, io);
  problem dense = p;
  for (const char* name : data_tensor_names) storage_of(dense, name) = storage{};
  const std::size_t size = size_of(p.data_type);
  std::map<std::string, std::vector<unsigned char>> copies;
  std::vector<std::string> written;
  // Each element of tensor name: its byte offset in its storage, and dense in p.lay.
  const auto each = [&](const std::string& name, auto&& move) {
    const auto bytes = static_cast<int64_t>(size);
    for_each_element(p, placement_of(p, name), [&](int64_t at, int64_t k) { move(at * bytes, k * bytes); });
  };
  for (const io_slot& slot : io_slots(p.op)) {
    if (!is_data_tensor(slot.name) || io_buffer(io, slot.name) == nullptr) continue;
    const auto* from = static_cast<const unsigned char*>(io_buffer(io, slot.name));
    auto& copy = copies[slot.name];
    copy.resize(static_cast<std::size_t>(element_count(p)) * size);
    // Outputs too, so that an element the body leaves unwritten keeps what the harness put there.
    each(slot.name, [&](int64_t strided, int64_t packed) { std::memcpy(copy.data() + packed, from + strided, size); });
    if (slot.written) written.push_back(slot.name);
  }
  const kernel_io dense_io = bind_io(p.op, [&](const std::string& name) -> void* {
    auto it = copies.find(name);
    return it != copies.end() ? it->second.data() : const_cast<void*>(io_buffer(io, name));
  });
  kernel_result r = body(dense, dense_io);
  if (r.status != kernel_status::ok) return r;
  for (const std::string& name : written) {
    auto* to = static_cast<unsigned char*>(io_output(io, name));
    const auto& copy = copies.at(name);
    each(name, [&](int64_t strided, int64_t packed) { std::memcpy(to + strided, copy.data() + packed, size); });
  }
  return r;
}

}  // namespace bncheck
