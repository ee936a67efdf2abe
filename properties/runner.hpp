// Running the kernel properties on a kernel: RapidCheck drives each property
// with its own seed, shrinks a failure, and the runner replays the shrunk case
// to capture it as a test_case (the regression to keep) with its reports.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "check/harness.hpp"
#include "core/kernel.hpp"
#include "properties/property.hpp"

namespace bncheck::properties {

/// The seed of a run when none is given: fixed, so every run (CI included) is
/// reproducible; printed at the start and with every failure.
inline constexpr uint64_t default_seed = 20250301;
/// Cases per property of the default gate (bncheck run): chosen so that the
/// corpus and every property on the eigen kernel finish in under 60 s on the
/// 2-core development machine (measured figures: docs/properties.md).
inline constexpr int default_cases = 300;
/// Cases per property of bncheck run --nightly.
inline constexpr int nightly_cases = 10000;

struct property_result;

struct property_config {
  uint64_t seed = default_seed;
  int cases = default_cases;  ///< cases per property (RapidCheck's max_success)
  limits lim;                 ///< generator sizes
  std::vector<std::string> properties;  ///< only these, in catalog order (every one when empty)
  bool include_strict = true;           ///< run properties stricter than the model (exact_statistics)
  bool stop_at_first_failure = false;   ///< stop after the first property that fails
  bool shrink = true;
  /// A RapidCheck reproduce string (what a failure prints): only the
  /// properties it names run, each on its recorded shrunk case. When empty,
  /// a reproduce= in the RC_PARAMS environment variable is used the same way.
  std::string reproduce;
  /// Called as each property finishes (progress), before run_properties returns.
  std::function<void(const property_result&)> on_result;
};

struct property_result {
  std::string name;
  bool passed = true;
  int cases = 0;          ///< cases checked, the failing one included
  int skipped = 0;        ///< of those, problems the kernel does not implement
  int shrinks = 0;        ///< accepted shrinking steps
  double seconds = 0;
  uint64_t seed = 0;      ///< this property's RapidCheck seed (property_seed)
  /// For a failure: the report of the shrunk case (the invariant's worst
  /// violations), the counterexample as RapidCheck shows it, and why.
  std::string failure;
  /// RapidCheck's reproduce string for the shrunk case ("" when passed).
  std::string reproduce;
  /// The case to keep as a regression: the first case of the shrunk
  /// counterexample that fails agreement (judge) on the kernel, else its first.
  std::optional<test_case> shrunk;
  int64_t shrunk_elements = 0;  ///< elements of x of the shrunk case
  bool shrunk_fails_judge = false;  ///< the kept case fails bncheck run by itself
};

/// Whether the kernel ran at least one of the property's cases: a property
/// whose every case it skipped judged nothing, and is reported as skipped.
inline bool judged(const property_result& r) { return r.skipped < r.cases; }

/// Runs the properties cfg selects on k, in catalog order. Throws input_error
/// for an unknown property name or a malformed reproduce string.
std::vector<property_result> run_properties(kernel& k, const property_config& cfg);

/// The RapidCheck seed property `name` gets in a run with seed `seed`.
uint64_t property_seed(uint64_t seed, const std::string& name);

/// The full failure text of a failed result: header (property, kernel, run
/// seed), the shrunk case with its values, the report, RapidCheck's reproduce
/// string (RC_PARAMS form) and REPRO: lines that reproduce it.
std::string failure_text(const property_result& r, const std::string& kernel_name, uint64_t seed);

/// The property table: one row per result and a summary line; returns the
/// number of failures.
int print_property_table(const std::vector<property_result>& results, const std::string& kernel_name,
                         std::ostream& out);
/// The table's header line, for printing rows as they come (print_property_row).
void print_property_header(std::ostream& out);
void print_property_row(const property_result& r, std::ostream& out);

}  // namespace bncheck::properties
