// Kernels by name for every subcommand: ours, then the deliberately broken
// mutants and the correct controls of tests/mutants, so every REPRO line
// naming any of them reproduces.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "tests/mutants/catalog.hpp"

namespace bncheck::cli {

std::unique_ptr<kernel> kernel_by_name(const std::string& name) {
  std::unique_ptr<kernel> k = make_kernel(name);
  if (!k) k = mutants::make_mutant(name);
  if (!k) k = mutants::make_control(name);
  if (k) return k;
  std::string known;
  for (const auto& n : kernel_names()) known += (known.empty() ? "" : ", ") + n;
  throw input_error("unknown kernel '" + name + "' (known: " + known +
                    "; the mutants and controls that `bncheck mutants` lists; or a plugin path ending in .so)");
}

}  // namespace bncheck::cli
