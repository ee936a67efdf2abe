// Running the kernel properties on a kernel: RapidCheck drives each property
// with its own seed, shrinks a failure, and the runner replays the shrunk case
// to capture it as a test_case (the regression to keep) with its reports.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "check/harness.hpp"
#include "check/outcome.hpp"
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
  /// Called after each case of the search: `done` of `total` cases of the
  /// property named are checked (progress on a terminal: report/progress.hpp).
  std::function<void(const std::string& property, int done, int total)> on_case;
};

/// A property's outcome (kind property: name, verdict, cases, skipped,
/// shrinks, seconds, reproduce string, repro commands, the failure text as
/// report, and the comparison of its shrunk case as check), and what the
/// runner keeps besides to save the regression.
struct property_result : outcome {
  uint64_t seed = 0;      ///< this property's RapidCheck seed (property_seed)
  /// For a failure: the body of the report (the shrunk case, the
  /// invariant's worst violations, the counterexample as RapidCheck shows
  /// it, and why), without the header and the reproduce lines.
  std::string failure;
  /// The case to keep as a regression: the first case of the shrunk
  /// counterexample that fails agreement (judge) on the kernel, else its first.
  std::optional<test_case> shrunk;
  bool shrunk_fails_judge = false;  ///< the kept case fails bncheck run by itself

  bool passed() const { return v != verdict::fail; }
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
/// string (RC_PARAMS form) and REPRO: lines that reproduce it (r.repro).
/// run_properties keeps it as r.report.
std::string failure_text(const property_result& r, const std::string& kernel_name, uint64_t seed);

}  // namespace bncheck::properties
