// Building cases from problems and calling kernels on native buffers.
#include "check/harness.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
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
  /// A data tensor in a storage other than dense in p.lay: where its
  /// elements lie in bytes (the rest is padding), else null.
  std::optional<placement> placed;
  std::vector<unsigned char> before_call;  ///< placed outputs: the bytes the kernel was given

  void* data() { return bytes.data() + (placed ? placed->offset * static_cast<int64_t>(size_of(type)) : 0); }
  int64_t count() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
};

native encode(const tensor& t) {
  native b{t.type, t.shape, std::vector<unsigned char>(t.values.size() * size_of(t.type)), std::nullopt, {}};
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

// Calls put(byte offset in the allocation, index in t.values) for every
// element of a data tensor placed as g.
template <class F>
void each_placed(const problem& p, const placement& g, F&& put) {
  const auto size = static_cast<int64_t>(size_of(p.data_type));
  for_each_element(p, g, [&](int64_t at, int64_t k) { put((g.offset + at) * size, k); });
}

// Data tensor `name` of p in its storage: its elements where the placement
// puts them, every other element of the allocation `padding`.
native encode_placed(const problem& p, const std::string& name, const tensor& t, double padding) {
  const placement g = placement_of(p, name);
  native b{t.type, t.shape, {}, g, {}};
  const std::size_t size = size_of(t.type);
  b.bytes.resize(static_cast<std::size_t>(g.span) * size);
  const double pad = round_to(t.type, padding);
  for (int64_t e = 0; e < g.span; ++e) store(t.type, pad, b.bytes.data() + e * static_cast<int64_t>(size));
  each_placed(p, g, [&](int64_t at, int64_t k) { store(t.type, t.values[static_cast<std::size_t>(k)], b.bytes.data() + at); });
  return b;
}

tensor decode_placed(const problem& p, const native& b) {
  tensor t{b.type, b.shape, std::vector<double>(static_cast<std::size_t>(b.count()))};
  each_placed(p, *b.placed, [&](int64_t at, int64_t k) { t.values[static_cast<std::size_t>(k)] = load(b.type, b.bytes.data() + at); });
  return t;
}

// The first element of a placed output's padding the kernel changed, as a
// message, or empty: a kernel must write its outputs' elements and nothing
// between them.
std::string padding_written(const problem& p, const std::string& name, const native& b) {
  const std::size_t size = size_of(b.type);
  std::vector<bool> element(b.bytes.size() / size, false);
  each_placed(p, *b.placed, [&](int64_t at, int64_t) { element[static_cast<std::size_t>(at) / size] = true; });
  int64_t changed = 0, first = -1;
  for (std::size_t e = 0; e < element.size(); ++e)
    if (!element[e] && std::memcmp(b.bytes.data() + e * size, b.before_call.data() + e * size, size) != 0) {
      if (first < 0) first = static_cast<int64_t>(e);
      ++changed;
    }
  if (first < 0) return {};
  return "the kernel wrote " + name + "'s padding (" + name + "_storage=" + std::string(to_string(format_of(p, name))) +
         " with a channel slice): " + std::to_string(changed) + " elements outside " + name +
         " changed, the first at element " + std::to_string(first) + " of its allocation";
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
  long double need = count * tensors * bytes_each;
  // A channel slice's whole allocation is laid out for the kernel too.
  for (const char* name : data_tensor_names)
    if (op_has_data_tensor(p.op, name) && storage_of(p, name).channels != 0)
      need += static_cast<long double>(placement_of(p, name).span - element_count(p)) * size_of(p.data_type);
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
  if (!dense_storage(p) && !k.takes_strides()) {
    std::string set;
    for (const char* name : data_tensor_names)
      if (!(storage_of(p, name) == storage{})) set += (set.empty() ? "" : ", ") + std::string(name) + "_storage";
    return {{kernel_status::unimplemented, k.name() + " takes data tensors dense in the problem's layout only (this problem sets " + set + ")"}, {}};
  }
  std::map<std::string, native> buffers;
  std::vector<std::string> produced;
  for (const io_slot& slot : io_slots(p.op)) {
    const std::string name = slot.name;
    const bool placed = is_data_tensor(name) && !(storage_of(p, name) == storage{});
    if (placed && !slot.written) {
      // NaN between an input's elements: a kernel that reads there makes NaN.
      buffers[name] = encode_placed(p, name, need(inputs, name, p), std::numeric_limits<double>::quiet_NaN());
    } else if (placed) {
      tensor t{type_of(p, name), shape_of(p, name), {}};
      t.values.assign(static_cast<std::size_t>(element_count(p)), round_to(t.type, output_fill));
      buffers[name] = encode_placed(p, name, t, -7.75);  // any value; its bytes are compared after the call
      buffers[name].before_call = buffers[name].bytes;
    } else if (!slot.written) buffers[name] = encode(need(inputs, name, p));
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
  for (const auto& n : produced) {
    const native& b = buffers.at(n);
    if (b.placed) {
      if (std::string broken = padding_written(p, n, b); !broken.empty()) {
        result.result = {kernel_status::error, broken};
        result.got.clear();
        return result;
      }
    }
    if (std::find(result.result.not_produced.begin(), result.result.not_produced.end(), n) ==
        result.result.not_produced.end())
      result.got[n] = b.placed ? decode_placed(p, b) : decode(b);
  }
  return result;
}

}  // namespace bncheck
