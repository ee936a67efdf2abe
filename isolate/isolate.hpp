// Running a kernel under test in a child process, one call per child, so that
// a crash, an abort, a hang, a write out of bounds or into an input becomes
// that case's failure and the run goes on with the next case.
#pragma once

#include <string>

#include "check/gate.hpp"
#include "check/harness.hpp"
#include "core/kernel.hpp"

namespace bncheck {

struct isolation_options {
  /// Seconds a call may take before the child is killed (SIGKILL) and the
  /// case fails as a hang; <= 0 waits for ever.
  double timeout_seconds = 10;
  /// Maps the inputs read-only in the child, so a write into one faults at
  /// once and the report names the input and element. Off, a write is still
  /// caught afterwards by comparing the inputs' bytes.
  bool protect_inputs = true;
};

/// A kernel that runs another in a forked child for every call. The buffers
/// of the call are copied into shared memory (so outputs keep the harness's
/// NaN poison), each ending at a page boundary before an inaccessible guard
/// page, with a canary before its first element. The child calls the inner
/// kernel and reports its result through the shared memory; the parent
/// waits at most timeout_seconds, then checks that inputs are unchanged and
/// canaries intact, and copies the outputs back. Every misbehaviour comes
/// back as kernel_status::error with a message saying what happened (signal
/// and the buffer a faulting address falls in, timeout, exit status, which
/// input was written); a clean call returns the inner kernel's own result.
/// name() is the inner kernel's, so REPRO lines stay the same.
///
/// fork() copies only the calling thread: use it from a single-threaded
/// process (the command is one). The child never returns into the caller.
class isolated_kernel final : public kernel {
 public:
  isolated_kernel(kernel& inner, isolation_options options) : inner_(inner), options_(options) {}
  std::string name() const override { return inner_.name(); }
  bool takes_strides() const override { return inner_.takes_strides(); }
  kernel_result run(const problem& p, const kernel_io& io) override;

 private:
  kernel_result run_in_child(const problem& p, const kernel_io& io);

  kernel& inner_;
  isolation_options options_;
};

/// run_kernel (check/harness.hpp) with the kernel in a child process.
kernel_output run_isolated(kernel& k, const problem& p, const tensor_map& inputs,
                           const isolation_options& options);

/// judge (check/gate.hpp) with the kernel in a child process.
outcome judge_isolated(kernel& k, const test_case& c, const isolation_options& options);

}  // namespace bncheck
