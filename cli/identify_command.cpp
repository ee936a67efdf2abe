// bncheck identify: which conventions a kernel follows (eps placement,
// variance bias, momentum meaning, saved statistics, running update,
// supported layouts and formats), found by probing problems (identify/identify.hpp).
#include <iostream>

#include "cli/commands.hpp"
#include "identify/identify.hpp"
#include "kernels/registry.hpp"

namespace bncheck::cli {

int identify(const std::string& kernel_name) {
  std::unique_ptr<kernel> k = open_kernel(kernel_name);  // a name, or a plugin .so (isolated)
  std::cout << identify::format(identify::identify(*k));
  return 0;
}

}  // namespace bncheck::cli
