// Property: on every forward problem the kernel's outputs agree with the
// reference within the tolerance model (compare(), docs/tolerances.md).
#include "check/compare.hpp"
#include "check/failure_report.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void agreement(kernel& k, case_log& log, const limits& lim) {
  problem_space s = space_of(lim, {op_kind::forward_training, op_kind::forward_inference}, true);
  // The direct comparison is the one property that judges undefined outputs
  // (docs/tolerances.md 9): it alone draws the non_finite region.
  if (!excluded(lim.excluded_regions, region::non_finite)) s.regions.push_back(region::non_finite);
  const generated_case g = *gen_case(s);
  const test_case c = build(g, log, true);
  const auto got = run(k, c, log);
  if (!got) return;
  const check_result r = compare(c, *got, absent_outputs(c.prob, *got));
  if (!r.pass) fail(failure_report(c, k.name(), r));
}

}  // namespace bncheck::properties
