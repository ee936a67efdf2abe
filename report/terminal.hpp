// The terminal renderer of outcomes: the case table, the property table, and
// the failure texts, as bncheck run and bncheck judge print them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "check/outcome.hpp"

namespace bncheck::report {

struct gate_totals {
  int pass = 0, fail = 0, skip = 0, known = 0;
};

/// Prints one table row per outcome (only failures when failures_only) and
/// a summary line over all of them, then which outputs the kernel declared
/// not produced (and so were not checked), if any; returns the totals.
gate_totals print_table(const std::vector<outcome>& outcomes, const std::string& kernel_name, std::ostream& out,
                        bool failures_only = false);

/// The property table's header line, for printing rows as properties finish.
void print_property_header(std::ostream& out);
/// One row: property, cases, skipped, result, elements of the shrunk case, seconds.
void print_property_row(const outcome& r, std::ostream& out);
/// The summary line under the property rows; returns the number of failures.
int print_property_summary(const std::vector<outcome>& results, const std::string& kernel_name, uint64_t seed,
                           std::ostream& out);

/// The full text of every failure and known deviation, each after a blank line.
void print_failures(const std::vector<outcome>& outcomes, std::ostream& out);

}  // namespace bncheck::report
