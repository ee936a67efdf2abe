// The failure report and the repro command of a case, the same everywhere in
// bncheck (style: a header, the worst elements, one statistics line, REPRO).
#pragma once

#include <string>

#include "check/compare.hpp"

namespace bncheck {

/// The command that reproduces a case against a kernel (no "REPRO: " prefix).
std::string repro_command(const test_case& c, const std::string& kernel_name);
/// "REPRO: " and repro_command: the line every failure ends with.
std::string repro_line(const test_case& c, const std::string& kernel_name);

/// The failure report: header (problem, kernel, seed), at most ten worst
/// elements (position, expected and got as hex floats, ulps, relative,
/// normalized error), one statistics line, one REPRO: line.
std::string failure_report(const test_case& c, const std::string& kernel_name, const check_result& r);

}  // namespace bncheck
