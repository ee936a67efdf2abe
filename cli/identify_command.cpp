// bncheck identify: which conventions a kernel follows (eps placement,
// variance bias, momentum meaning, saved statistics, running update,
// supported layouts and formats), found by probing problems (adapters/identify.hpp).
#include <iostream>

#include "adapters/identify.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "tests/mutants/catalog.hpp"

namespace bncheck::cli {

int identify(const std::string& kernel_name) {
  std::unique_ptr<kernel> k = make_kernel(kernel_name);
  if (!k) k = mutants::make_mutant(kernel_name);
  if (!k) k = mutants::make_control(kernel_name);
  if (!k) {
    std::string known;
    for (const auto& n : kernel_names()) known += (known.empty() ? "" : ", ") + n;
    throw input_error("unknown kernel '" + kernel_name + "' (known: " + known +
                      ", and the mutants and controls of tests/mutants)");
  }
  std::cout << identify::format(identify::identify(*k));
  return 0;
}

}  // namespace bncheck::cli
