// Reading a worker's frames (docs/protocol.md) apart from the pipe they come
// through: every byte a worker sends is checked here, by functions that take
// a reader, so that fuzz/ and the tests drive them from memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "core/problem.hpp"

namespace bncheck::exec {

/// The largest frame header a worker may send, in bytes.
inline constexpr uint32_t max_header_bytes = 16u << 20;

/// A frame that breaks the protocol; `what` is what the case's failure says.
struct protocol_violation {
  std::string what;
};

/// What the protocol says of one array of problem p: its format, its shape in
/// memory order, its size in bytes; for an input in a storage, also where its
/// elements lie in the payload.
struct array_desc {
  std::string name;
  dtype type;
  std::vector<int64_t> shape;
  std::size_t nbytes;
  /// In elements, one per axis of shape; empty: dense (C order, offset 0).
  std::vector<int64_t> strides{};
  int64_t offset = 0;  ///< elements from the payload's start to element 0
};
/// Array `name` of p dense in p.lay: how outputs travel, and inputs without a storage.
array_desc describe(const problem& p, const std::string& name);
/// Input `name` of p as it travels: a data tensor with a storage (x_storage
/// ...) as its whole allocation (placement span elements, padding included)
/// with strides and offset; any other array as describe(p, name).
array_desc describe_stored(const problem& p, const std::string& name);

/// Reads exactly n bytes of the worker's output into dst, or throws.
using read_fn = std::function<void(void* dst, std::size_t n)>;

/// What a worker's hello says of it beyond the protocol version.
struct hello_reply {
  /// "strides": true: it takes inputs in any storage (strides and offset in
  /// their descriptors), so it may be sent problems that set x_storage ...
  bool strides = false;
};

/// Reads one frame's header, a JSON object of 1 .. max_header_bytes bytes,
/// and checks that it is the worker's hello for protocol `version`. Throws
/// protocol_violation when it is garbage, an error, another message, another
/// version, or "strides" that is not a boolean; whatever read throws passes through.
hello_reply read_hello(const read_fn& read, int version);

/// Reads the worker's answer to request `id` for problem p: the header, then
/// (for "done") the payload, into io's outputs. Every output's name, format,
/// shape and size is checked against p before a payload byte is read, so a
/// size field never allocates more than p's outputs hold. Outputs come dense
/// in p.lay; one with a storage (y_storage ...) is scattered into io's buffer
/// as placement_of(p, name) says, its padding untouched. Returns the
/// answer's status, message and not_produced outputs; throws
/// protocol_violation on anything the protocol does not allow.
kernel_result read_answer(const read_fn& read, int64_t id, const problem& p, const kernel_io& io);

}  // namespace bncheck::exec
