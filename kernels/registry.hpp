// Which kernels exist, in one place: ours (the Eigen kernel, the CUDA kernel
// and its host emulation), the third-party adapters that were built, and the
// deliberately broken mutants and correct controls (mutants/). core/kernel.hpp
// declares only the interface; every command, test and benchmark that opens a
// kernel by name comes here. Adding a kind of kernel is a change to this
// folder (registry.cpp and CMakeLists.txt).
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

}  // namespace bncheck
