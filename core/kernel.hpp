// The one C++ interface every batch-norm kernel implements: ours (Eigen,
// CUDA), adapters for third-party libraries, and deliberately broken kernels.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/problem.hpp"

namespace bncheck {

/// Buffers for one call. Data tensors (x, dy, y, dx) have element type
/// p.data_type and lie as placement_of(p, name) says, the pointer at element
/// (0, 0, 0): dense in p.lay unless the problem sets a storage (only for a
/// kernel whose takes_strides() is true); per-channel tensors hold p.c elements of
/// p.param_type. Pointers not used by the op are null. The harness owns all
/// memory; outputs arrive filled with NaN so an unwritten element is caught.
struct kernel_io {
  const void* x = nullptr;
  const void* dy = nullptr;     ///< backward
  const void* gamma = nullptr;
  const void* beta = nullptr;   ///< forward
  void* y = nullptr;            ///< forward
  void* dx = nullptr;           ///< backward
  /// Batch statistics: forward_training writes them (mean, biased var, and
  /// invstd = 1/sqrt(var+eps)); backward reads them (saved values).
  void* mean = nullptr;
  void* var = nullptr;
  void* invstd = nullptr;
  /// Running statistics: forward_training reads and updates them in place
  /// per p.prof; forward_inference reads them.
  void* running_mean = nullptr;
  void* running_var = nullptr;
  void* dgamma = nullptr;       ///< backward
  void* dbeta = nullptr;        ///< backward
  /// merge_statistics: shard_count holds p.n f64 integers (shard i's number
  /// of values); shard_mean and shard_m2 hold p.n x p.c values of
  /// p.param_type, shard-major (element [i, c] at i * p.c + c): shard i's
  /// mean and sum of squared deviations in channel c. The kernel writes the
  /// whole batch's mean, var (biased) and invstd = 1/sqrt(var + eps).
  const void* shard_count = nullptr;
  const void* shard_mean = nullptr;
  const void* shard_m2 = nullptr;
};

/// A buffer of kernel_io, by tensor name, and whether the kernel writes it.
struct io_slot {
  const char* name;
  bool written;  ///< forward_training reads and rewrites running_mean, running_var
};
/// The buffers an op hands a kernel, in a fixed order:
///   forward_training:  x gamma beta | y mean var invstd running_mean running_var (written)
///   forward_inference: x gamma beta running_mean running_var | y (written)
///   backward:          x gamma dy mean var invstd | dx dgamma dbeta (written)
///   merge_statistics:  shard_count shard_mean shard_m2 | mean var invstd (written)
std::vector<io_slot> io_slots(op_kind op);
/// A kernel_io whose every slot of op points at buffer(name).
kernel_io bind_io(op_kind op, const std::function<void*(const std::string&)>& buffer);
/// The buffer io holds for a tensor name (input or output); null if none or unknown.
const void* io_buffer(const kernel_io& io, const std::string& name);
/// The writable buffer io holds for an output name; null for inputs and unknown names.
void* io_output(const kernel_io& io, const std::string& name);

enum class kernel_status {
  ok,
  unimplemented,  ///< the kernel does not support this problem: reported as skipped
  error,          ///< the kernel failed: reported as a failure with its message
};

struct kernel_result {
  kernel_result(kernel_status s = kernel_status::ok, std::string m = {}, std::vector<std::string> omitted = {})
      : status(s), message(std::move(m)), not_produced(std::move(omitted)) {}
  kernel_status status = kernel_status::ok;
  std::string message;
  /// Outputs the kernel does not compute (status ok only), e.g. a library
  /// that saves invstd but no variance, or keeps no running statistics.
  /// Only optional outputs may be named (optional_output); they are then not
  /// compared, and reports say so. Deriving them in an adapter instead would
  /// judge the adapter's arithmetic, not the library's.
  std::vector<std::string> not_produced;
};

/// body() (a kernel_result), with an exception it throws turned into an
/// error result "who: what" ("who: unknown exception" for a non-standard
/// one): what every kernel's run() does with a failure it did not foresee.
template <class Body>
kernel_result error_result_of(const std::string& who, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return {kernel_status::error, who + ": " + e.what()};
  } catch (...) {
    return {kernel_status::error, who + ": unknown exception"};
  }
}

/// Whether `name` is an output tensor of some op (y, dx, mean, ...).
bool is_output_name(const std::string& name);
/// Whether op's output `name` may be declared not produced: the saved
/// statistics (mean, var, invstd) and the running statistics of
/// forward_training, and var or invstd of merge_statistics (SyncBatchNorm
/// exchanges mean with var or invstd). y, dx, dgamma, dbeta and a merge's
/// mean are always required.
bool optional_output(op_kind op, const std::string& name);

class kernel {
 public:
  virtual ~kernel() = default;
  /// Short name used in reports and on the command line ("eigen").
  virtual std::string name() const = 0;
  /// Runs p on io. Must not throw; reports problems through the result.
  virtual kernel_result run(const problem& p, const kernel_io& io) = 0;
  /// Whether run() takes data tensors in any storage the problem sets
  /// (x_storage ...: another format, a channel slice). The harness gives a
  /// kernel that does not only problems with dense_storage(p), and reports
  /// the others skipped, saying why.
  virtual bool takes_strides() const { return false; }
};

/// The allocation behind io's buffer of tensor `name`: `count` elements, the
/// pointer `before` elements into it (a data tensor's placement: offset and
/// span; any other tensor: 0 and the product of its shape).
struct buffer_extent {
  int64_t before = 0;
  int64_t count = 0;
};
buffer_extent extent_of(const problem& p, const std::string& name);

/// How a kernel that computes on dense buffers takes any storage (as
/// PyTorch's .contiguous() does): runs body on p without storages and on
/// copies of io's data tensors dense in p.lay, and copies the outputs back
/// into their storage when body returns ok. With dense_storage(p), body(p, io).
kernel_result run_densified(const problem& p, const kernel_io& io,
                            const std::function<kernel_result(const problem&, const kernel_io&)>& body);

}  // namespace bncheck
