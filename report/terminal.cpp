// The case table, the property table and the failure texts on a terminal.
#include "report/terminal.hpp"

#include <cstdio>
#include <map>
#include <ostream>

namespace bncheck::report {

gate_totals print_table(const std::vector<outcome>& outcomes, const std::string& kernel_name, std::ostream& out,
                        bool failures_only) {
  gate_totals t;
  char line[512];
  std::snprintf(line, sizeof line, "%-40s %-6s %12s %-8s %8s  %s\n", "case", "result", "err/bound", "worst",
                "seconds", "problem");
  out << line;
  for (const outcome& o : outcomes) {
    const char* v = o.v == verdict::pass ? "pass" : o.v == verdict::fail ? "FAIL" : o.v == verdict::skip ? "skip" : "known";
    (o.v == verdict::pass ? t.pass : o.v == verdict::fail ? t.fail : o.v == verdict::skip ? t.skip : t.known)++;
    if (failures_only && o.v != verdict::fail && o.v != verdict::known) continue;
    char err[32];
    std::snprintf(err, sizeof err, "%.3g", o.max_normalized);
    std::snprintf(line, sizeof line, "%-40s %-6s %12s %-8s %8.3f  %s\n", o.name.c_str(), v,
                  o.v == verdict::skip ? "-" : err, o.worst_tensor.c_str(), o.seconds, o.problem_text.c_str());
    out << line;
  }
  out << "kernel " << kernel_name << ": " << t.pass << " passed, " << t.fail << " failed, ";
  if (t.known) out << t.known << " known deviations, ";
  out << t.skip << " skipped, of " << outcomes.size() << " cases\n";
  std::map<std::string, int> unchecked;  // output list -> cases
  for (const outcome& o : outcomes)
    if (!o.not_produced.empty()) ++unchecked[o.not_produced];
  for (const auto& [names, n] : unchecked)
    out << "  not checked in " << n << (n == 1 ? " case" : " cases") << ": " << names
        << " (the kernel declares it does not produce them)\n";
  return t;
}

void print_property_header(std::ostream& out) {
  char line[160];
  std::snprintf(line, sizeof line, "%-24s %8s %8s %-6s %14s %8s\n", "property", "cases", "skipped", "result",
                "shrunk (elem)", "seconds");
  out << line;
}

void print_property_row(const outcome& r, std::ostream& out) {
  char line[160];
  const bool failed = r.v == verdict::fail;
  const std::string shrunk = !failed ? "-" : r.elements > 0 ? std::to_string(r.elements) : "?";
  std::snprintf(line, sizeof line, "%-24s %8d %8d %-6s %14s %8.2f\n", r.name.c_str(), r.cases, r.skipped,
                failed ? "FAIL" : r.v == verdict::skip ? "skip" : "pass", shrunk.c_str(), r.seconds);
  out << line;
}

int print_property_summary(const std::vector<outcome>& results, const std::string& kernel_name, uint64_t seed,
                           std::ostream& out) {
  int failures = 0, cases_run = 0, all_skipped = 0;
  for (const outcome& r : results) {
    failures += r.v == verdict::fail ? 1 : 0;
    cases_run += r.cases;
    all_skipped += r.v == verdict::skip ? 1 : 0;
  }
  out << "kernel " << kernel_name << ": " << results.size() - failures - all_skipped << " properties passed, "
      << failures << " failed, ";
  if (all_skipped) out << all_skipped << " skipped (the kernel skipped every case), ";
  out << cases_run << " cases (seed " << seed << ")\n";
  return failures;
}

void print_failures(const std::vector<outcome>& outcomes, std::ostream& out) {
  for (const outcome& o : outcomes)
    if (o.v == verdict::fail || o.v == verdict::known) out << "\n" << o.report;
}

}  // namespace bncheck::report
