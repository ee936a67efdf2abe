// The catalog of deliberately broken kernels, by name, so that the command
// can run them and their REPRO lines reproduce.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/kernel.hpp"

namespace bncheck::mutants {

/// The broken kernel of that name, or null.
std::unique_ptr<kernel> make_mutant(const std::string& name);
/// Every name make_mutant accepts.
std::vector<std::string> mutant_names();

}  // namespace bncheck::mutants
