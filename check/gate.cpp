// One case judged on one kernel.
#include "check/gate.hpp"

#include <chrono>

#include "check/failure_report.hpp"
#include "check/harness.hpp"

namespace bncheck {

outcome judge(kernel& k, const test_case& c) {
  const auto start = std::chrono::steady_clock::now();
  outcome o;
  o.name = c.name.empty() ? to_text(c.prob) : c.name;
  o.problem_text = to_text(c.prob);
  o.elements = element_count(c.prob);
  const kernel_output out = run_kernel(k, c.prob, c.inputs);
  if (out.result.status == kernel_status::unimplemented) {
    o.v = verdict::skip;
    o.skip_reason = k.name() + " does not implement this problem: " + out.result.message;
    o.report = "skipped: " + o.skip_reason;
  } else if (out.result.status == kernel_status::error) {
    o.v = verdict::fail;
    o.repro = {repro_command(c, k.name())};
    o.report = "FAIL " + o.name + "\n  problem: " + o.problem_text + "\n  kernel: " + k.name() +
               " reported an error: " + out.result.message + "\nREPRO: " + o.repro.back() + "\n";
  } else {
    check_result r = compare(c, out.got, out.result.not_produced);
    o.not_produced = r.not_produced;
    o.v = r.pass ? verdict::pass : verdict::fail;
    o.max_normalized = r.max_normalized;
    if (!r.worst.empty()) o.worst_tensor = r.worst.front().tensor;
    if (!r.pass) {
      o.report = failure_report(c, k.name(), r);
      o.repro = {repro_command(c, k.name())};
    }
    o.check = std::move(r);
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return o;
}

}  // namespace bncheck
