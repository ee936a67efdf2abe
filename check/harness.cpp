// Building cases from problems and calling kernels on native buffers.
#include "check/harness.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/dtype.hpp"
#include "core/error.hpp"

namespace bncheck {
namespace {

// A native buffer of one named tensor.
struct native {
  dtype type = dtype::f64;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;

  void* data() { return bytes.data(); }
  int64_t count() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
};

native encode(const tensor& t) {
  native b{t.type, t.shape, std::vector<unsigned char>(t.values.size() * size_of(t.type))};
  for (std::size_t i = 0; i < t.values.size(); ++i)
    store(t.type, t.values[i], b.bytes.data() + i * size_of(t.type));
  return b;
}

native poisoned(const problem& p, const std::string& name, double value) {
  tensor t{type_of(p, name), shape_of(p, name), {}};
  int64_t n = 1;
  for (int64_t s : t.shape) n *= s;
  t.values.assign(static_cast<std::size_t>(n), round_to(t.type, value));
  return encode(t);
}

tensor decode(const native& b) {
  tensor t{b.type, b.shape, std::vector<double>(static_cast<std::size_t>(b.count()))};
  for (std::size_t i = 0; i < t.values.size(); ++i)
    t.values[i] = load(b.type, b.bytes.data() + i * size_of(b.type));
  return t;
}

const tensor& need(const tensor_map& m, const std::string& name, const problem& p) {
  auto it = m.find(name);
  if (it == m.end())
    throw input_error("input '" + name + "' missing for problem: " + to_text(p));
  if (it->second.shape != shape_of(p, name))
    throw input_error("input '" + name + "' has the wrong shape for problem: " + to_text(p));
  return it->second;
}

tensor rounded(const tensor& t, dtype to) {
  tensor r{to, t.shape, t.values};
  for (double& v : r.values) v = round_to(to, v);
  return r;
}

}  // namespace

tensor_map complete_inputs(const problem& p, tensor_map inputs, reference::rounding_stats* stats) {
  if (p.op != op_kind::backward) return inputs;
  const tensor_map ref = reference::compute(p, inputs, stats);
  for (const char* name : {"mean", "var", "invstd"}) inputs[name] = rounded(ref.at(name), p.param_type);
  return inputs;
}

void check_fits_in_memory(const problem& p) {
  validate(p);  // the element count fits in int64
  // Each data tensor (x and y; backward: x, dy and dx) is held at least
  // twice: as doubles (inputs, expected) and in its format for the kernel.
  const long double count = static_cast<long double>(element_count(p));
  const int tensors = p.op == op_kind::backward ? 3 : 2;
  const long double bytes_each = sizeof(double) + size_of(p.data_type);
  const long double need = count * tensors * bytes_each;
  const long double have = static_cast<long double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  if (need <= have) return;
  const auto gib = [](long double b) { return exact_decimal(std::round(static_cast<double>(b / (1ull << 30)) * 10) / 10); };
  throw input_error("problem too large for this machine: its data tensors alone need at least " + gib(need) +
                    " GiB (" + std::to_string(element_count(p)) + " elements x " + std::to_string(tensors) + " tensors x " +
                    std::to_string(static_cast<int>(bytes_each)) + " bytes), and it has " + gib(have) +
                    " GiB of memory: " + to_text(p));
}

test_case make_case(const problem& p, reference::rounding_stats* stats) {
  check_fits_in_memory(p);
  return make_case(p, generate_inputs(p), stats);
}

test_case make_case(const problem& p, tensor_map inputs, reference::rounding_stats* stats) {
  validate(p);
  test_case c;
  c.prob = p;
  tensor_map ref = reference::compute(p, inputs, stats);
  if (p.op == op_kind::backward)
    for (const char* name : {"mean", "var", "invstd"}) inputs[name] = rounded(ref.at(name), p.param_type);
  for (const auto& name : input_names(p)) need(inputs, name, p);
  for (const auto& name : output_names(p)) c.expected[name] = std::move(ref.at(name));
  c.inputs = std::move(inputs);
  return c;
}

kernel_output run_kernel(kernel& k, const problem& p, const tensor_map& inputs, double output_fill) {
  std::map<std::string, native> buffers;
  std::vector<std::string> produced;
  for (const io_slot& slot : io_slots(p.op)) {
    const std::string name = slot.name;
    if (!slot.written) buffers[name] = encode(need(inputs, name, p));
    else if (name.rfind("running_", 0) == 0) buffers[name] = encode(need(inputs, name, p));  // updated in place
    else buffers[name] = poisoned(p, name, output_fill);
    if (slot.written) produced.push_back(name);
  }
  const kernel_io io = bind_io(p.op, [&](const std::string& name) { return buffers.at(name).data(); });
  kernel_output result;
  result.result = k.run(p, io);
  if (result.result.status != kernel_status::ok) return result;
  for (const std::string& n : result.result.not_produced)
    if (std::find(produced.begin(), produced.end(), n) == produced.end() || !optional_output(p.op, n)) {
      result.result = {kernel_status::error,
                       "the kernel declared '" + n + "' not produced, but " + std::string(to_string(p.op)) +
                           " must produce it (only the saved and running statistics of forward_training, and a merge's var and invstd, are optional)"};
      return result;
    }
  for (const auto& n : produced)
    if (std::find(result.result.not_produced.begin(), result.result.not_produced.end(), n) ==
        result.result.not_produced.end())
      result.got[n] = decode(buffers.at(n));
  return result;
}

}  // namespace bncheck
