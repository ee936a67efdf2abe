// Turning a property's shrunk counterexample into an ordinary golden case
// (golden/store.hpp), so that `bncheck run --golden DIR` checks it for good.
#pragma once

#include <filesystem>
#include <string>

#include "check/harness.hpp"
#include "properties/runner.hpp"

namespace bncheck::properties {

/// <property>_<kernel>_<first 8 hex digits of the SHA-256 of the problem text
/// and the inputs' .npy bytes>, reduced to [a-z0-9_].
std::string regression_name(const std::string& property, const std::string& kernel_name, const test_case& c);

/// Writes r.shrunk into dir/<regression_name> as a golden case (write_case)
/// with a one-line description naming the property, kernel and seed; returns
/// the name. A folder of that name already there (the same case: the name
/// hashes its content) is kept as it is. Throws std::invalid_argument when r
/// has no shrunk case.
std::string save_regression(const property_result& r, const std::string& kernel_name, uint64_t seed,
                            const std::filesystem::path& dir);

/// The REPRO: line of a saved regression case.
std::string regression_repro(const std::string& kernel_name, const std::filesystem::path& dir,
                             const std::string& name);

}  // namespace bncheck::properties
