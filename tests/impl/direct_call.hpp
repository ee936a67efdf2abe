// Calling a kernel on native buffers without the harness, for tests that
// compare raw output bytes (exactness, layout independence) or feed inputs
// the harness would not (missing buffers, hand-made saved statistics).
#pragma once

#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "core/kernel.hpp"
#include "core/tensor.hpp"

namespace bncheck::testing {

/// Native buffers by tensor name, and the kernel's result.
struct direct_call {
  std::map<std::string, std::vector<unsigned char>> buffers;
  kernel_result result;

  /// Element i of tensor name (format t), decoded exactly.
  double at(const std::string& name, dtype t, int64_t i) const {
    return load(t, buffers.at(name).data() + i * size_of(t));
  }
  /// Raw bytes of element i of tensor name (format t).
  std::vector<unsigned char> bytes(const std::string& name, dtype t, int64_t i) const {
    const unsigned char* b = buffers.at(name).data() + i * size_of(t);
    return {b, b + size_of(t)};
  }
};

/// Native bytes of values (each representable in t).
inline std::vector<unsigned char> encode_values(dtype t, const std::vector<double>& v) {
  std::vector<unsigned char> b(v.size() * size_of(t));
  for (std::size_t i = 0; i < v.size(); ++i) store(t, v[i], b.data() + i * size_of(t));
  return b;
}

/// Encodes inputs (every name input_names(p) lists that inputs holds), gives
/// every output of the op a NaN-filled buffer, and runs k. Running statistics
/// are updated in their own input buffers.
inline direct_call call_direct(kernel& k, const problem& p, const tensor_map& inputs) {
  direct_call call;
  for (const auto& [name, t] : inputs) call.buffers[name] = encode_values(t.type, t.values);
  auto output = [&](const std::string& name) -> void* {
    if (!call.buffers.count(name)) {
      const auto shape = shape_of(p, name);
      int64_t n = 1;
      for (int64_t s : shape) n *= s;
      call.buffers[name] = encode_values(
          type_of(p, name),
          std::vector<double>(static_cast<std::size_t>(n), std::numeric_limits<double>::quiet_NaN()));
    }
    return call.buffers[name].data();
  };
  const std::vector<io_slot> slots = io_slots(p.op);
  const kernel_io io = bind_io(p.op, [&](const std::string& name) -> void* {
    bool written = false;
    for (const io_slot& s : slots) written = written || (s.written && name == s.name);
    if (!written && !call.buffers.count(name)) return nullptr;  // an input the caller left out
    return output(name);
  });
  call.result = k.run(p, io);
  return call;
}

}  // namespace bncheck::testing
