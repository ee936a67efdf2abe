// Property: scaling x by c > 0 (exactly) scales x-hat by
// lambda = c sqrt(var + eps) / sqrt(c^2 var + eps), which is 1 only when eps = 0:
// y' - beta = lambda (y - beta), mean' = c mean, var' = c^2 var,
// invstd' = (lambda / c) invstd. The kernel's results may miss these by the
// bound of case x' plus the transported bound of case x.
// Derivation: docs/properties.md, "scale_invariance".
#include <cmath>

#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {
namespace {

// c * x for every x, or false when a product is not exact in t.
bool scale_exactly(dtype t, double c, std::vector<double>& v) {
  for (double& e : v) {
    const double prod = c * e;
    if (std::fma(c, e, -prod) != 0 || std::isinf(prod) || !representable(t, prod)) return false;
    e = prod;
  }
  return true;
}

}  // namespace

void scale_invariance(kernel& k, case_log& log, const limits& lim) {
  const generated_case g = *gen_case(space_of(lim, {op_kind::forward_training}, false));
  const problem& p = g.prob;
  const double odd = *pick_of<double>({1.0, 3.0, 5.0, 7.0});
  const int e = *in_range(-12, 12, 1);
  double c = std::ldexp(odd, e);
  tensor_map scaled = g.inputs;
  if (!scale_exactly(p.data_type, c, scaled.at("x").values)) {
    c = std::ldexp(1.0, e);  // a power of two is exact unless the range ends
    scaled = g.inputs;
    if (!scale_exactly(p.data_type, c, scaled.at("x").values)) discard("c x leaves the format's range");
  }
  problem q = p;
  q.x = {fill_kind::file, 0, 0};
  const test_case c1 = build(p, g.inputs, log), c2 = build(q, scaled, log);
  const auto got1 = run(k, c1, log);
  if (!got1) return;
  const auto got2 = run(k, c2, log);
  if (!got2) return;
  const tensor_map b1 = exact_bounds(c1), b2 = exact_bounds(c2);
  const std::vector<double>& x = g.inputs.at("x").values;
  const mpfr_float mc = exact(c), c2sq = mul(mc, mc);
  checker chk("x * " + exact_decimal(c) + ": y - beta scales by lambda = c sqrt(var+eps)/sqrt(c^2 var+eps), mean by c, "
              "var by c^2, invstd by lambda/c; within b' plus the transported b");
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    const reference::channel_stats s = stats_of(p, x, ch);
    if (mpfr_zero_p(reference::raw(s.shifted()))) continue;  // var + eps = 0: y is 0/0
    // lambda = c sqrt(V) / sqrt(c^2 N + eps M^2): three roundings at work_bits.
    const mpfr_float m = exact(static_cast<double>(s.m()));
    const mpfr_float w = add(mul(c2sq, s.centered()), mul(exact(p.eps), mul(m, m)));
    const mpfr_float lambda = div(mul(mc, sqrt(s.shifted())), sqrt(w));
    const mpfr_float beta = exact(c1.inputs.at("beta").values[u]);
    auto check_scaled = [&](const std::string& name, std::size_t i, const mpfr_float& factor, const mpfr_float& base) {
      if (!got1->count(name) || !got2->count(name)) return;  // declared not produced
      const double k1 = got1->at(name).values[i], k2 = got2->at(name).values[i];
      const std::string where = element_name(name, c1.expected.at(name).shape, i);
      if (!std::isfinite(k1) || !std::isfinite(k2) || !std::isfinite(c1.expected.at(name).values[i])) {
        chk.equal(where, k2, c2.expected.at(name).values[i]);
        return;
      }
      // want = base + factor (k1 - base); its error: factor's rounding times |k1 - base|.
      const mpfr_float moved = mul(factor, sub(exact(k1), base));
      const mpfr_float bound = add(add(exact(b2.at(name).values[i]), mul(abs(factor), exact(b1.at(name).values[i]))),
                                   mul(work_margin(), abs(moved)));
      chk.near(where, k2, add(base, moved), bound);
    };
    for (std::size_t o : channel_indices(p, ch)) check_scaled("y", o, lambda, beta);
    check_scaled("mean", u, mc, exact(0));
    if (p.prof == profile::onnx) check_scaled("var", u, c2sq, exact(0));
    else check_scaled("invstd", u, div(lambda, mc), exact(0));
  }
  chk.require(c2, k.name());
}

}  // namespace bncheck::properties
