// Property: with gamma = sqrt(var + eps) and beta = mean (each rounded to the
// parameter format) the kernel gives back x. The exact output differs from x
// only by those two roundings, rho (x - mean) + (beta - mean) with
// rho = gamma/sqrt(var + eps) - 1; the kernel may add the model's bound.
// Derivation: docs/properties.md, "identity_recovery".
#include <cmath>

#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void identity_recovery(kernel& k, case_log& log, const limits& lim) {
  generated_case g = *gen_case(space_of(lim, {op_kind::forward_training}, false));
  problem& p = g.prob;
  const std::vector<double>& x = g.inputs.at("x").values;
  const dtype pt = p.param_type;
  std::vector<mpfr_float> rho, dbeta, mean;
  std::vector<bool> undefined;  // var + eps = 0: y is 0/0
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const reference::channel_stats s = stats_of(p, x, ch);
    const mpfr_float m = exact(static_cast<double>(s.m()));
    const mpfr_float root_v = sqrt(s.shifted());  // sqrt(V) = M sqrt(var + eps)
    const double gamma = round_to(pt, to_double(div(root_v, m)));
    mean.push_back(mean_of(s));
    const double beta = round_to(pt, to_double(mean.back()));
    g.inputs.at("gamma").values[static_cast<std::size_t>(ch)] = gamma;
    g.inputs.at("beta").values[static_cast<std::size_t>(ch)] = beta;
    undefined.push_back(mpfr_zero_p(reference::raw(s.shifted())) != 0);
    rho.push_back(undefined.back() ? exact(0) : sub(div(mul(exact(gamma), m), root_v), exact(1)));
    dbeta.push_back(sub(exact(beta), mean.back()));
  }
  mark_explicit(p, {{"gamma", {}}, {"beta", {}}});
  const test_case c = build(g, log);
  const auto got = run(k, c, log);
  if (!got) return;
  const std::vector<double>& y = got->at("y").values;
  const tensor_map bounds = exact_bounds(c);
  const std::vector<double>& by = bounds.at("y").values;
  const std::vector<int64_t> shape = data_shape(p);
  checker chk("gamma = sqrt(var+eps), beta = mean give y = x within the model's bound plus the effect of "
              "rounding gamma and beta to the parameter format");
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    if (undefined[u]) continue;
    for (std::size_t o : channel_indices(p, ch)) {
      // |y* - x| <= |rho| |x - mean| + |beta - mean|, evaluated with a few
      // roundings at work_bits (margin on the magnitudes involved).
      const mpfr_float dev = abs(sub(exact(x[o]), mean[u]));
      const mpfr_float exact_gap = add(mul(abs(rho[u]), dev), abs(dbeta[u]));
      const mpfr_float margin = mul(work_margin(), add(dev, abs(mean[u])));
      chk.near(element_name("y", shape, o), y[o], exact(x[o]), add(add(exact(by[o]), exact_gap), margin));
    }
  }
  chk.require(c, k.name());
}

}  // namespace bncheck::properties
