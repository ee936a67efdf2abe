// Machine-readable reports of a run, for CI: JUnit XML (one <testcase> per
// case or property) and JSON (the full result), written atomically.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "check/gate.hpp"

namespace bncheck::report {

/// Outcomes reported together: the golden cases, the generated problems, the properties.
struct suite {
  std::string name;  ///< "golden", "problems", "properties", "judged"
  std::vector<case_outcome> outcomes;
};

/// What the run was, for the reports' headers.
struct run_info {
  std::string kernel;           ///< as --kernel gave it (a name or a plugin path)
  std::string shard;            ///< "2/4", or "" for the whole list
  bool isolated = false;        ///< each case ran in a child process
  double timeout_seconds = 0;   ///< per case, when isolated
  std::string seed;             ///< the property run's seed, or "" when no property ran
};

/// JUnit XML: <testsuites> with the totals, one <testsuite> per suite, one
/// <testcase classname="bncheck.SUITE" name="CASE" time="S"> per outcome
/// holding <failure message="first line of the report" type="FAIL"> with the
/// whole report (worst elements, REPRO line) for a failure, or <skipped
/// message="the kernel's reason"/> for a skip. Every attribute the usual
/// consumers read is there: tests, failures, errors (always 0: a kernel
/// error is a failure of the kernel), skipped, time. Text that is not
/// valid XML 1.0 character data (control characters, broken UTF-8) is replaced.
std::string junit_xml(const run_info& run, const std::vector<suite>& suites);

/// The full result as JSON (nlohmann-json), "format": "bncheck-run", "version": 1:
/// run_info, totals, and per suite every outcome: name, problem, verdict
/// ("pass", "fail", "skip"), max_err_over_bound (a number, the string "inf",
/// or absent when the kernel gave no outputs), worst_output, seconds,
/// report, and repro (the command of its REPRO: line, when there is one);
/// "seed" when properties ran. Invalid UTF-8 in any text becomes U+FFFD.
std::string json_report(const run_info& run, const std::vector<suite>& suites);

/// The command on the REPRO: line of a report, or "" when it has none.
std::string repro_command(const std::string& report);

/// Writes text to path whole or not at all: a temporary file beside it, then
/// rename. Throws input_error naming the path when it cannot.
void write_report(const std::filesystem::path& path, const std::string& text);

}  // namespace bncheck::report
