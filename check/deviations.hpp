// A kernel's known deviations: the failures an engineer has diagnosed and
// recorded (in a file beside the adapter, docs/deviations.md), so that a CI
// gate on that kernel fails on anything new while every recorded finding
// stays visible in each report. Nothing is waived silently: a waived case is
// reported as "known" with its reason, a waived case that passes again (the
// finding is gone) fails the run until its line is removed, and a failure on
// another tensor than the recorded one is not waived.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check/gate.hpp"
#include "core/problem.hpp"

namespace bncheck {

/// One `case` line: a golden case expected to fail with its worst element in
/// `tensor`.
struct case_deviation {
  std::string case_name;
  std::string tensor;
  bool may_pass = false;  ///< `case-or-pass`: fails on some machines only (e.g. by thread count)
  std::string reason;
  int line = 0;
};

/// One `exclude` line: a region the properties do not generate.
struct excluded_region {
  std::string what;  ///< "constant-channels", "long-reductions", "data-type T" or "region R"
  std::string reason;
  int line = 0;
};

struct deviations {
  std::string path;
  std::vector<case_deviation> cases;
  std::vector<excluded_region> excluded;
  /// What the excludes mean for the generators.
  bool constant_channels = true;
  bool long_reductions = true;
  std::vector<dtype> excluded_data_types;
  /// `exclude region R`: generator regions never drawn (properties/gen.hpp
  /// names them; the run checks the names, this file does not know them).
  std::vector<std::string> excluded_regions;
};

/// Reads a deviations file. Throws input_error naming the file and line for
/// anything it does not understand (the run then exits 2).
deviations read_deviations(const std::string& path);
/// Parses the text of a deviations file as read_deviations does; path only
/// names it in messages.
deviations parse_deviations(std::string_view text, const std::string& path);

/// Applies d to outcomes judged on the golden corpus: a listed case that
/// failed with its worst element in the listed tensor becomes verdict::known
/// (report: the reason and the failure); a listed case that passed fails
/// (stale), unless it is `case-or-pass`; a listed case that failed elsewhere
/// stays failed, with a note. Skipped cases stay skipped.
void apply_deviations(const deviations& d, std::vector<outcome>& outcomes);

/// The `case` lines naming no case of the corpus (a typo would otherwise
/// waive nothing and say nothing).
std::vector<std::string> unknown_cases(const deviations& d, const std::vector<std::string>& corpus);

/// One line per exclude, for the head of a run's output.
std::string describe_exclusions(const deviations& d);

}  // namespace bncheck
