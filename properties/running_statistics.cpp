// Property: the kernel's running statistics follow the profile's definition,
// evaluated here independently of the reference from the exact batch sums:
//   onnx:           r' = m r + (1 - m) stat,  stat = mean, biased var
//   pytorch, cudnn: r' = (1 - m) r + m stat,  stat = mean, unbiased var (NaN for M = 1)
// within the model's bound for running outputs (docs/tolerances.md 4.5).
// Derivation: docs/properties.md, "running_statistics".
#include <cmath>
#include <limits>

#include "properties/support.hpp"

namespace bncheck::properties {

void running_statistics(kernel& k, case_log& log, const limits& lim) {
  const generated_case g = *gen_case(space_of(lim, {op_kind::forward_training}, false));
  const problem& p = g.prob;
  const test_case c = build(g, log);
  const auto got = run(k, c, log);
  if (!got) return;
  const tensor_map b = exact_bounds(c);
  const bool onnx = p.prof == profile::onnx;
  const mpfr_float m = exact(p.momentum), rest = sub(exact(1), m);
  const mpfr_float& a = onnx ? m : rest;     // weight of the old running value
  const mpfr_float& w = onnx ? rest : m;     // weight of the batch statistic
  checker chk("running statistics of profile " + std::string(to_string(p.prof)) + " (momentum " +
              exact_decimal(p.momentum) + ") from the exact batch statistics, within the model's bound");
  const std::vector<double>& x = c.inputs.at("x").values;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    const reference::channel_stats s = stats_of(p, x, ch);
    const mpfr_float M = exact(static_cast<double>(s.m()));
    // running_mean' = (a r M + w S) / M: one rounding at work_bits.
    const mpfr_float r_mean = exact(c.inputs.at("running_mean").values[u]);
    const mpfr_float want_mean = div(add(mul(mul(a, r_mean), M), mul(w, s.sum())), M);
    // running_var' = (a r D + w N) / D with D = M^2 (biased) or M (M - 1) (unbiased).
    const mpfr_float r_var = exact(c.inputs.at("running_var").values[u]);
    const mpfr_float D = onnx ? mul(M, M) : mul(M, exact(static_cast<double>(s.m() - 1)));
    mpfr_float want_var = exact(std::numeric_limits<double>::quiet_NaN());
    if (!mpfr_zero_p(reference::raw(D))) want_var = div(add(mul(mul(a, r_var), D), mul(w, s.centered())), D);
    for (const auto& [name, want] : {std::pair<std::string, const mpfr_float*>{"running_mean", &want_mean},
                                     std::pair<std::string, const mpfr_float*>{"running_var", &want_var}}) {
      if (!got->count(name)) continue;  // declared not produced
      const double bound = b.at(name).values[u];
      const std::string where = name + "[" + std::to_string(ch) + "]";
      if (is_nan(*want) || !std::isfinite(bound)) {
        chk.near(where, got->at(name).values[u], *want, exact(0));
        continue;
      }
      chk.near(where, got->at(name).values[u], *want, add(exact(bound), mul(work_margin(), abs(*want))));
    }
  }
  chk.require(c, k.name());
}

}  // namespace bncheck::properties
