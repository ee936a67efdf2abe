// The catalog of deliberately broken kernels (mutants) and of correct
// alternative implementations (controls), by name, so that the command can
// run them, their REPRO lines reproduce, and detection power is measured.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/kernel.hpp"

namespace bncheck::mutants {

/// One catalog entry: its name (as --kernel takes it) and the bug or
/// algorithm in one line.
struct entry {
  std::string name;
  std::string description;
};

/// The broken kernel of that name, or null.
std::unique_ptr<kernel> make_mutant(const std::string& name);
/// Every mutant, in a fixed order.
std::vector<entry> mutant_catalog();
/// Every name make_mutant accepts.
std::vector<std::string> mutant_names();

/// A correct alternative implementation (Welford, pairwise, ...), or null.
/// Controls must pass everything our own kernels pass.
std::unique_ptr<kernel> make_control(const std::string& name);
/// Every control, in a fixed order.
std::vector<entry> control_catalog();

}  // namespace bncheck::mutants
