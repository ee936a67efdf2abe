// Property: with gamma = 1 and beta = 0 the kernel's y is x-hat, whose sum over
// a channel is 0 and whose sum of squares is M var/(var + eps), checked in
// exact arithmetic on the kernel's own y within the summed per-element bounds
// of the tolerance model; a constant channel gives exactly beta (rounded once).
// Derivation: docs/properties.md, "normalization".
#include <cmath>

#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void normalization(kernel& k, case_log& log, const limits& lim) {
  generated_case g = *gen_case(space_of(lim, {op_kind::forward_training}, true));
  problem& p = g.prob;
  const std::vector<double>& x = g.inputs.at("x").values;
  std::vector<bool> constant;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    constant.push_back(constant_channel(p, x, ch));
    if (constant.back()) continue;  // keeps its random gamma and beta: y must be beta
    g.inputs.at("gamma").values[static_cast<std::size_t>(ch)] = 1.0;
    g.inputs.at("beta").values[static_cast<std::size_t>(ch)] = 0.0;
  }
  mark_explicit(p, {{"gamma", {}}, {"beta", {}}});
  const test_case c = build(g, log);
  const auto got = run(k, c, log);
  if (!got) return;
  const tensor_map b = exact_bounds(c);
  const std::vector<double>& y = got->at("y").values;
  const std::vector<double>& by = b.at("y").values;
  const std::vector<int64_t> shape = data_shape(p);
  checker chk("gamma 1, beta 0: per channel sum(y) = 0 and sum(y^2) = M var/(var+eps) within the summed bounds; "
              "a constant channel gives y = beta exactly");
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const std::vector<std::size_t> idx = channel_indices(p, ch);
    if (constant[static_cast<std::size_t>(ch)]) {
      if (p.eps == 0) continue;  // 0/0: y is NaN, which the agreement property checks
      const double beta = round_to(p.data_type, c.inputs.at("beta").values[static_cast<std::size_t>(ch)]);
      for (std::size_t o : idx) chk.equal(element_name("y", shape, o), y[o], beta);
      continue;
    }
    bool finite = true;
    for (std::size_t o : idx)
      if (!std::isfinite(y[o])) {
        chk.equal(element_name("y", shape, o), y[o], c.expected.at("y").values[o]);
        finite = false;
      }
    if (!finite) continue;
    // |y_k - y*| <= b per element, so |sum y_k| <= sum b and
    // |sum y_k^2 - sum y*^2| <= sum b (|y_k| + |y*|) <= sum b (2|y_k| + b).
    mpfr_float sum_y = exact(0), sum_b = exact(0), sum_y2 = exact(0), bound2 = exact(0);
    for (std::size_t o : idx) {
      const mpfr_float yo = exact(y[o]), bo = exact(by[o]);
      sum_y = add(sum_y, yo);
      sum_b = add(sum_b, bo);
      sum_y2 = add(sum_y2, mul(yo, yo));
      bound2 = add(bound2, mul(bo, add(mul(exact(2), abs(yo)), bo)));
    }
    const std::string tag = "(channel " + std::to_string(ch) + ")";
    chk.near("sum y " + tag, sum_y, exact(0), sum_b);
    // M var/(var+eps) = M N/V with the exact N, V of channel_stats; one division at work_bits.
    const reference::channel_stats s = stats_of(p, x, ch);
    const mpfr_float target = div(mul(exact(static_cast<double>(idx.size())), s.centered()), s.shifted());
    chk.near("sum y^2 " + tag, sum_y2, target, add(bound2, mul(abs(target), work_margin())));
  }
  chk.require(c, k.name());
}

}  // namespace bncheck::properties
