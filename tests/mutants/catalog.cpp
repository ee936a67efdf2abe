// The catalog of deliberately broken kernels.
#include "tests/mutants/catalog.hpp"

#include "tests/mutants/naive_variance.hpp"

namespace bncheck::mutants {

std::unique_ptr<kernel> make_mutant(const std::string& name) {
  if (name == "naive_variance") return make_naive_variance();
  return nullptr;
}

std::vector<std::string> mutant_names() { return {"naive_variance"}; }

}  // namespace bncheck::mutants
