// Property: the kernel's dx, dgamma and dbeta agree with the reference's
// backward within the tolerance model (compare(), docs/tolerances.md section 5).
#include "check/compare.hpp"
#include "check/failure_report.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void gradient_agreement(kernel& k, case_log& log, const limits& lim) {
  problem_space s = space_of(lim, {op_kind::backward}, true);
  // The direct comparison is the one property that judges undefined outputs
  // (docs/tolerances.md 9): it alone draws the non_finite region.
  if (!excluded(lim.excluded_regions, region::non_finite)) s.regions.push_back(region::non_finite);
  const generated_case g = *gen_case(s);
  const test_case c = build(g, log);
  const auto got = run(k, c, log);
  if (!got) return;
  const check_result r = compare(c, *got);
  if (!r.pass) fail(failure_report(c, k.name(), r));
}

}  // namespace bncheck::properties
