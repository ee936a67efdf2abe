// Property: inference with running statistics equal to the batch statistics
// (rounded to the parameter format) reproduces training's y. The kernel's two
// y may differ by both cases' bounds plus the difference of the two reference
// values, which is the effect of that rounding alone:
//   |yi_k - yt_k| <= |yi_k - ri| + |ri - rt| + |rt - yt_k| <= bi + |ri - rt| + bt.
// Derivation: docs/properties.md, "inference_consistency".
#include <cmath>

#include "check/tolerance.hpp"
#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void inference_consistency(kernel& k, case_log& log, const limits& lim) {
  const generated_case g = *gen_case(space_of(lim, {op_kind::forward_training}, false));
  const problem& p = g.prob;
  const test_case ct = build(g, log);
  problem q = p;
  q.op = op_kind::forward_inference;
  tensor_map in = g.inputs;
  tensor& rm = in.at("running_mean");
  tensor& rv = in.at("running_var");
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const reference::channel_stats s = stats_of(p, g.inputs.at("x").values, ch);
    rm.values[static_cast<std::size_t>(ch)] = round_to(p.param_type, to_double(mean_of(s)));
    rv.values[static_cast<std::size_t>(ch)] = round_to(p.param_type, to_double(var_of(s)));
    // Near float's top the batch variance overflows f32 statistics: inference
    // with an infinite running_var is not the same problem.
    if (std::isinf(rv.values[static_cast<std::size_t>(ch)]))
      discard("the batch variance overflows the parameter format");
  }
  mark_explicit(q, in);
  const test_case ci = build(q, in, log);
  const auto got_t = run(k, ct, log);
  if (!got_t) return;
  const auto got_i = run(k, ci, log);
  if (!got_i) return;
  const tensor_map bounds_t = tolerance_bounds(ct.prob, ct.inputs, ct.expected);
  const tensor_map bounds_i = tolerance_bounds(ci.prob, ci.inputs, ci.expected);
  const std::vector<double>& bt = bounds_t.at("y").values;
  const std::vector<double>& bi = bounds_i.at("y").values;
  const std::vector<double>& rt = ct.expected.at("y").values;
  const std::vector<double>& ri = ci.expected.at("y").values;
  const std::vector<double>& yt = got_t->at("y").values;
  const std::vector<double>& yi = got_i->at("y").values;
  const std::vector<int64_t> shape = data_shape(p);
  checker chk("inference with the batch statistics as running statistics gives training's y, within "
              "bi + bt + |ri - rt|");
  for (std::size_t o = 0; o < yt.size(); ++o) {
    const std::string where = element_name("y", shape, o);
    if (!std::isfinite(rt[o]) || !std::isfinite(ri[o]) || !std::isfinite(yt[o]) || !std::isfinite(yi[o])) {
      chk.equal(where + " (inference)", yi[o], ri[o]);
      chk.equal(where + " (training)", yt[o], rt[o]);
      continue;
    }
    if (!std::isfinite(bi[o]) || !std::isfinite(bt[o])) discard("the model's bound on y overflows double");
    const mpfr_float gap = abs(sub(exact(ri[o]), exact(rt[o])));
    chk.near(where, yi[o], exact(yt[o]), add(add(exact(bi[o]), exact(bt[o])), gap));
  }
  chk.require(ci, k.name());
}

}  // namespace bncheck::properties
