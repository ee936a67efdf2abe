// The kernels bncheck knows by name (core/kernel.hpp): make_kernel and kernel_names.
#include <memory>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "impl/eigen/eigen_kernel.hpp"

namespace bncheck {

std::unique_ptr<kernel> make_kernel(const std::string& name) {
  if (name == "eigen") return eigen::make_eigen_kernel();
  return nullptr;
}

std::vector<std::string> kernel_names() { return {"eigen"}; }

}  // namespace bncheck
