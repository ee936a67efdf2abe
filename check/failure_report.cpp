// The failure report and the repro line, the same everywhere in bncheck.
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "check/failure_report.hpp"
#include "core/shell_quote.hpp"

namespace bncheck {
namespace {

std::string num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

std::string repro_command(const test_case& c, const std::string& kernel_name) {
  if (generatable(c.prob)) return "bncheck run --kernel " + shell_quote(kernel_name) + " --problem '" + to_text(c.prob) + "'";
  if (!c.name.empty())
    return "bncheck run --kernel " + shell_quote(kernel_name) + " --golden " +
           shell_quote(c.corpus.empty() ? "golden/cases" : c.corpus) + " --case " + c.name;
  // Explicit inputs that live in no folder yet: the text form cannot carry them.
  return "(inputs are explicit values, not a fill) save the case with --save-regressions DIR, then "
         "bncheck run --kernel " + shell_quote(kernel_name) + " --golden DIR --case NAME";
}

std::string repro_line(const test_case& c, const std::string& kernel_name) {
  return "REPRO: " + repro_command(c, kernel_name);
}

std::string failure_report(const test_case& c, const std::string& kernel_name, const check_result& r) {
  std::ostringstream out;
  out << "FAIL " << (c.name.empty() ? std::string("(generated)") : c.name) << "\n"
      << "  problem: " << to_text(c.prob) << "\n"
      << "  kernel: " << kernel_name << "  seed: " << c.prob.seed << "\n";
  if (!r.missing.empty()) out << "  missing outputs: " << r.missing << "\n";
  if (!r.not_produced.empty())
    out << "  not produced (the kernel says it does not compute them; not checked): " << r.not_produced << "\n";
  if (!r.worst.empty() && r.max_normalized > 1) {
    const auto shown = std::count_if(r.worst.begin(), r.worst.end(), [](const element_error& e) { return e.normalized > 1; });
    out << "  worst elements (" << shown << " shown of " << r.failed << " over bound):\n";
    char line[256];
    std::snprintf(line, sizeof line, "    %-18s %-24s %-24s %10s %10s %10s\n", "element", "expected",
                  "got", "ulps", "relative", "err/bound");
    out << line;
    for (const element_error& e : r.worst) {
      if (e.normalized <= 1) break;
      std::snprintf(line, sizeof line, "    %-18s %-24s %-24s %10s %10s %10s\n", e.position.c_str(),
                    hex_float(e.expected).c_str(), hex_float(e.got).c_str(), num("%.3g", e.ulps).c_str(),
                    num("%.3g", e.relative).c_str(), num("%.3g", e.normalized).c_str());
      out << line;
    }
  }
  out << "  stats: " << r.checked << " elements checked, " << r.failed << " over bound";
  if (r.nans) out << " (" << r.nans << " NaN)";
  out << ", max err/bound " << num("%.3g", r.max_normalized);
  if (!r.worst.empty()) out << " (" << r.worst.front().tensor << ")";
  out << "\n" << repro_line(c, kernel_name) << "\n";
  return out.str();
}

}  // namespace bncheck
