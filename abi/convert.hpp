// Conversions between bncheck's C++ call (problem + kernel_io) and the C
// interface's arguments (include/bncheck/bncheck_kernel.h): the loader builds the C
// arguments, a C++ plugin (ours: plugins/eigen_plugin.cpp) decodes them back.
#pragma once

#include <array>
#include <memory>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <bncheck/bncheck_kernel.h>
#include "core/kernel.hpp"
#include "core/problem.hpp"

namespace bncheck::abi {

/// The DLPack type of a storage format: {kDLFloat, 64|32|16, 1} or {kDLBfloat, 16, 1}.
DLDataType dl_type(dtype t);
/// The storage format of a DLPack type, or nullopt for any other type.
std::optional<dtype> from_dl_type(DLDataType t);

bnc_op to_c(op_kind op);
bnc_layout to_c(layout l);
bnc_profile to_c(profile p);

/// The C arguments of one call of p on io, with the DLTensors (and their
/// shape and strides arrays) they point to: data tensors in logical
/// channel-first shape with the strides of p.lay, per-channel tensors (C)
/// with stride 1, merge_statistics' shard tensors (S) and (S, C) dense,
/// each tensor the header lists for p.op and null otherwise.
/// Borrows io's buffers. Not copyable: the arguments point into it.
class call_args {
 public:
  call_args(const problem& p, const kernel_io& io);
  call_args(const call_args&) = delete;
  call_args& operator=(const call_args&) = delete;
  const bnc_batch_norm_args& args() const { return args_; }
  /// The outputs the plugin declared not produced (args().not_produced's
  /// bits, as names); throws std::invalid_argument for an unknown bit.
  std::vector<std::string> not_produced() const;

 private:
  struct descriptor {
    DLTensor tensor{};
    std::array<int64_t, 5> shape{};
    std::array<int64_t, 5> strides{};
  };
  const DLTensor* describe(descriptor& d, const problem& p, const std::string& name, const void* data);

  std::array<descriptor, 16> descriptors_{};
  bnc_batch_norm_args args_{};
  uint32_t not_produced_ = 0;
};

/// The BNC_OUTPUT_* bit of an output name, or 0 for a name without one.
uint32_t output_bit(const std::string& name);

/// A call the plugin cannot serve: an enumerator or type it does not know, a
/// tensor layout other than dense in the declared layout. Maps to BNC_UNIMPLEMENTED.
class unsupported_call : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The problem and buffers a C call describes: the inverse of call_args.
/// The problem's seed is 0 and its fills the defaults (the C call carries
/// neither). Throws std::invalid_argument naming what breaks the header's
/// contract (a null or short args, a missing tensor, a shape that disagrees
/// with x's, a non-CPU device) and unsupported_call as described above.
struct decoded_call {
  problem prob;
  kernel_io io;
};
decoded_call decode_args(const bnc_batch_norm_args& args);

/// Copies text into a plugin message buffer, truncated and NUL-terminated.
void set_message(char* message, std::size_t capacity, const std::string& text);

/// The bodies of a plugin's create and batch_norm for a C++ kernel (ours,
/// or an adapter), shared by abi/plugins/: no exception crosses the C
/// boundary, every message starts with label ("eigen plugin: "). create
/// stores make()'s kernel in *instance; batch_norm decodes the arguments,
/// runs the kernel, and maps its result to a status, its not_produced
/// outputs to the 1.1 bits (an error where the caller is 1.0 and cannot be
/// told), an unsupported call to BNC_UNIMPLEMENTED and a broken contract to
/// BNC_INVALID_ARGUMENT.
bnc_status create_kernel(std::unique_ptr<kernel> (*make)(), void** instance, const char* label, char* message,
                         std::size_t capacity);
bnc_status call_kernel(void* instance, const bnc_batch_norm_args* args, const char* label, char* message,
                       std::size_t capacity);

}  // namespace bncheck::abi
