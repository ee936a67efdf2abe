// Which kernels exist, in one place: ours (the Eigen kernel, the CUDA kernel
// and its host emulation), the third-party adapters that were built, the
// deliberately broken mutants and correct controls (mutants/), C plugins
// (abi/), run in a child process per call (isolate/), and worker processes in
// any language (exec:, docs/protocol.md). core/kernel.hpp
// declares only the interface; every command, test and benchmark that opens a
// kernel comes here. Adding a kind of kernel is a change to this folder
// (registry.cpp and CMakeLists.txt).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/kernel.hpp"

namespace bncheck {

/// Our kernels and the adapters, by name; null for an unknown name.
std::unique_ptr<kernel> make_kernel(const std::string& name);
/// Names make_kernel accepts, for --help and error messages.
std::vector<std::string> kernel_names();

/// Any kernel a REPRO line may name: make_kernel's, then the mutants and the
/// controls. Throws input_error naming the choices for an unknown name.
std::unique_ptr<kernel> kernel_by_name(const std::string& name);

/// How open_kernel runs a kernel: in this process, or each call in a child
/// process (isolate/isolate.hpp: a crash, a hang past the timeout or a write
/// outside the buffers fails that call and nothing else).
struct open_options {
  enum class isolation {
    automatic,  ///< plugins isolated, built-in kernels not
    always,
    never,
  };
  isolation isolate = isolation::automatic;
  double timeout_seconds = 10;  ///< per isolated call
};
/// Whether open_kernel(name, o) isolates the kernel.
bool isolated(const std::string& name, const open_options& o);
/// The kernel a --kernel value names: a worker process for "exec:CMD ARGS..."
/// (kernels/exec_kernel.hpp: always its own isolation, o.timeout_seconds per
/// call), a C plugin for a path ending in .so (abi::load_plugin), else
/// kernel_by_name(name); plugins and built-in kernels isolated as o says.
/// name() is unchanged, so REPRO lines open the same kernel the same way.
/// Throws input_error for an unknown name or a plugin that does not load.
std::unique_ptr<kernel> open_kernel(const std::string& name, const open_options& o = {});

}  // namespace bncheck
