// One case judged on one kernel, and the gate's table.
#include "check/gate.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <ostream>

#include "check/harness.hpp"

namespace bncheck {

case_outcome judge(kernel& k, const test_case& c) {
  const auto start = std::chrono::steady_clock::now();
  case_outcome o;
  o.name = c.name.empty() ? to_text(c.prob) : c.name;
  o.problem_text = to_text(c.prob);
  const kernel_output out = run_kernel(k, c.prob, c.inputs);
  if (out.result.status == kernel_status::unimplemented) {
    o.v = verdict::skip;
    o.report = "skipped: " + k.name() + " does not implement this problem: " + out.result.message;
  } else if (out.result.status == kernel_status::error) {
    o.v = verdict::fail;
    o.report = "FAIL " + o.name + "\n  problem: " + o.problem_text + "\n  kernel: " + k.name() +
               " reported an error: " + out.result.message + "\n" + repro_line(c, k.name()) + "\n";
  } else {
    const check_result r = compare(c, out.got, out.result.not_produced);
    o.not_produced = r.not_produced;
    o.v = r.pass ? verdict::pass : verdict::fail;
    o.max_normalized = r.max_normalized;
    if (!r.worst.empty()) o.worst_tensor = r.worst.front().tensor;
    if (!r.pass) o.report = failure_report(c, k.name(), r);
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return o;
}

gate_totals print_table(const std::vector<case_outcome>& outcomes, const std::string& kernel_name,
                        std::ostream& out, bool failures_only) {
  gate_totals t;
  char line[512];
  std::snprintf(line, sizeof line, "%-40s %-6s %12s %-8s %8s  %s\n", "case", "result", "err/bound",
                "worst", "seconds", "problem");
  out << line;
  for (const case_outcome& o : outcomes) {
    const char* v = o.v == verdict::pass ? "pass" : o.v == verdict::fail ? "FAIL" : o.v == verdict::skip ? "skip" : "known";
    (o.v == verdict::pass ? t.pass : o.v == verdict::fail ? t.fail : o.v == verdict::skip ? t.skip : t.known)++;
    if (failures_only && o.v != verdict::fail && o.v != verdict::known) continue;
    char err[32];
    std::snprintf(err, sizeof err, "%.3g", o.max_normalized);
    std::snprintf(line, sizeof line, "%-40s %-6s %12s %-8s %8.3f  %s\n", o.name.c_str(), v,
                  o.v == verdict::skip ? "-" : err, o.worst_tensor.c_str(), o.seconds,
                  o.problem_text.c_str());
    out << line;
  }
  out << "kernel " << kernel_name << ": " << t.pass << " passed, " << t.fail << " failed, ";
  if (t.known) out << t.known << " known deviations, ";
  out << t.skip << " skipped, of " << outcomes.size() << " cases\n";
  std::map<std::string, int> unchecked;  // output list -> cases
  for (const case_outcome& o : outcomes)
    if (!o.not_produced.empty()) ++unchecked[o.not_produced];
  for (const auto& [names, n] : unchecked)
    out << "  not checked in " << n << (n == 1 ? " case" : " cases") << ": " << names
        << " (the kernel declares it does not produce them)\n";
  return t;
}

}  // namespace bncheck
