// Reports of a run rendered from its outcomes (check/outcome.hpp): JUnit XML
// (one <testcase> per case or property) and JSON (the full result) for CI,
// HTML (tables and error pictures) for people; written atomically. The
// terminal renderer is report/terminal.hpp.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "check/outcome.hpp"

namespace bncheck::report {

/// Outcomes reported together: the golden cases, the generated problems, the properties.
struct suite {
  std::string name;  ///< "golden", "problems", "properties", "judged"
  std::vector<outcome> outcomes;
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
/// ("pass", "fail", "skip", "known"), kind ("case", "property"),
/// max_err_over_bound (a number, the string "inf", or absent when the kernel
/// gave no outputs), worst_output, seconds, report, repro (the command that
/// reproduces a failure, the most specific when there are several) and
/// repro_commands (all of them); when compared: checked, failed, nans and
/// worst_elements; for a property: cases, skipped, shrinks, reproduce;
/// not_produced, known_deviation, skip_reason when set. "seed" when
/// properties ran. Invalid UTF-8 in any text becomes U+FFFD.
std::string json_report(const run_info& run, const std::vector<suite>& suites);

/// One self-contained HTML page (inline CSS and SVG, no script, nothing
/// fetched): the totals, one table per suite, and for every failure, known
/// deviation and property a section with the histogram of err/bound per
/// output (log bins, the bound marked), the worst elements, the max
/// err/bound per channel of each output with failures, and the repro
/// commands in <pre><code> to copy. Well-formed XML as well as HTML.
std::string html_report(const run_info& run, const std::vector<suite>& suites);

/// Writes text to path whole or not at all: a temporary file beside it, then
/// rename. Throws input_error naming the path when it cannot.
void write_report(const std::filesystem::path& path, const std::string& text);

}  // namespace bncheck::report
