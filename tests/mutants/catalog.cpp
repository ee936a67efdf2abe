// The catalog of deliberately broken kernels and of correct controls.
#include "tests/mutants/catalog.hpp"

#include "tests/mutants/naive_variance.hpp"

namespace bncheck::mutants {

std::vector<entry> mutant_catalog() {
  return {{"naive_variance", "variance as E[x^2] - E[x]^2 in float32"}};
}

std::unique_ptr<kernel> make_mutant(const std::string& name) {
  if (name == "naive_variance") return make_naive_variance();
  return nullptr;
}

std::vector<std::string> mutant_names() {
  std::vector<std::string> out;
  for (const auto& e : mutant_catalog()) out.push_back(e.name);
  return out;
}

std::vector<entry> control_catalog() { return {}; }

std::unique_ptr<kernel> make_control(const std::string&) { return nullptr; }

}  // namespace bncheck::mutants
