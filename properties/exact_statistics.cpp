// Property (strict): on data built so that every partial sum is exact in any
// order (benchdnn's pairs x = mu -+ d with few mantissa bits, M a power of two)
// the batch mean and variance are representable, and the kernel must give
// them exactly. Stricter than the tolerance model: an updating (Welford)
// algorithm, within the model's bound, rounds here.
// Derivation: docs/properties.md, "exact_statistics".
#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void exact_statistics(kernel& k, case_log& log, const limits& lim) {
  problem_space s = space_of(lim, {op_kind::forward_training}, false);
  s.regions = {region::exact};
  s.power_of_two_sizes = true;
  const generated_case g = *gen_case(s);
  const problem& p = g.prob;
  const test_case c = build(g, log);
  const auto got = run(k, c, log);
  if (!got) return;
  checker chk("exactly representable statistics (paired data, M = 2^k) come out exact: mean and var bit for bit");
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    const reference::channel_stats st = stats_of(p, c.inputs.at("x").values, ch);
    const mpfr_float mean = mean_of(st), var = var_of(st);
    const double m = to_double(mean), v = to_double(var);
    // The generator's promise, checked: both are exact in the parameter format.
    if (cmp(exact(m), mean) != 0 || cmp(exact(v), var) != 0 || !representable(p.param_type, m) ||
        !representable(p.param_type, v))
      fail("generator: the statistics of channel " + std::to_string(ch) + " are not exact in " +
           std::string(to_string(p.param_type)) + "\n  problem: " + to_text(p) + "\n" + format_tensors(c.inputs));
    if (got->count("mean")) chk.equal("mean[" + std::to_string(ch) + "]", got->at("mean").values[u], m);
    if (got->count("var")) chk.equal("var[" + std::to_string(ch) + "]", got->at("var").values[u], v);
  }
  chk.require(c, k.name());
}

}  // namespace bncheck::properties
