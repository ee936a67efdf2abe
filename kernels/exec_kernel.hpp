// A kernel that is a process: --kernel 'exec:CMD ARGS...' runs CMD as a
// worker speaking the kernel-process protocol (docs/protocol.md) and hands it
// one problem at a time. The worker is its own isolation: a crash, a hang
// past the timeout, garbage or a malformed answer fails that call with what
// happened and the tail of the worker's standard error, and the next call
// starts a new worker.
#pragma once

#include <memory>
#include <string>

#include "core/kernel.hpp"

namespace bncheck::exec {

/// The protocol version this bncheck speaks.
inline constexpr int protocol_version = 1;

/// Whether a --kernel value names an exec kernel ("exec:...").
bool is_exec_kernel(const std::string& name);

/// The kernel for name = "exec:CMD ARGS..."; its name() is `name`, so REPRO
/// lines start the same worker. Starts the worker and exchanges hellos now:
/// throws input_error when the command cannot be started, does not answer
/// the hello, or speaks another protocol version. timeout_seconds bounds
/// each call (the first hello may take max(60 s, timeout)). Its
/// takes_strides() is what the last hello said ("strides": true): known
/// from the start, since the hello is exchanged here.
std::unique_ptr<kernel> make_exec_kernel(const std::string& name, double timeout_seconds);

}  // namespace bncheck::exec
