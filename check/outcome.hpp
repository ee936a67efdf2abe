// The outcome of one case or one property on one kernel: the one result that
// every report (terminal, JUnit, JSON, HTML: report/) is rendered from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/compare.hpp"

namespace bncheck {

/// known: a failure recorded in the kernel's known deviations (check/deviations.hpp).
enum class verdict { pass, fail, skip, known };

/// "pass", "fail", "skip", "known": as JSON, JUnit and HTML reports name it.
inline std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::pass: return "pass";
    case verdict::fail: return "fail";
    case verdict::skip: return "skip";
    case verdict::known: return "known";
  }
  return "fail";
}

/// What was judged: a case (golden or generated) or a property of many cases.
enum class outcome_kind { case_check, property };

struct outcome {
  std::string name;           ///< case name, the problem text for a generated case, or the property name
  outcome_kind kind = outcome_kind::case_check;
  std::string problem_text;   ///< the case's problem; a property's shrunk case ("" when none)
  verdict v = verdict::pass;
  double seconds = 0;         ///< kernel calls and comparisons (a property: all its cases)
  double max_normalized = 0;  ///< worst |got - expected| / bound (check.max_normalized)
  std::string worst_tensor;   ///< where the worst element is (check.worst.front().tensor)
  int64_t elements = 0;       ///< elements of x of the case (a property: of its shrunk case; 0 when none)
  /// The comparison of the case, or of a property's shrunk case: counts, the
  /// worst elements, per-output err/bound histograms and per-channel maxima.
  /// Absent when nothing was compared (a skip, a kernel error, a property
  /// that passed or kept no case).
  std::optional<check_result> check;
  /// Commands that reproduce a failure (no "REPRO: " prefix), the most
  /// specific last; empty for a pass or a skip.
  std::vector<std::string> repro;
  // A property's search (outcome_kind::property).
  int cases = 0;              ///< cases checked, the failing one included
  int skipped = 0;            ///< of those, problems the kernel does not implement
  int shrinks = 0;            ///< accepted shrinking steps
  std::string reproduce;      ///< RapidCheck's reproduce string of the shrunk case ("" when passed)
  std::string not_produced;   ///< outputs the kernel declared not produced (not checked), comma-separated
  std::string known_deviation;  ///< for verdict::known: where it is recorded and why
  std::string skip_reason;    ///< for verdict::skip: the kernel's reason
  /// The full text: the failure report (header, worst elements, statistics,
  /// REPRO lines) for a failure or a known deviation, "skipped: ..." for a skip.
  std::string report;
};

}  // namespace bncheck
