// Property: outputs do not depend on what they must not (issue 12, class 3;
// ONNX Runtime #29790: training-mode y changed with the momentum).
//   - Every op's outputs are independent of the momentum and the profile,
//     except forward_training's running statistics.
//   - forward_training's y and saved statistics are independent of the
//     incoming running statistics, finite or not (a kernel that selects the
//     batch statistics by blending, t batch + (1 - t) running with t = 1,
//     turns a NaN running statistic into a NaN y).
//   - No output depends on what the output buffers held before the call
//     (NaN in every other run; here 0, 1, -2.5 or 65504): the running update
//     must not read y's buffer.
// Each variation is the same exact problem for the outputs compared, so two
// correct runs differ by at most twice that output's bound; a non-finite
// output must be the same value in both runs. Derivation: docs/properties.md,
// "independence".
#include <cmath>
#include <limits>

#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {
namespace {

// Running statistics that must change nothing but the running update.
enum class replacement { finite, nan, pos_inf, neg_inf };

double replaced(replacement r, double v, dtype t) {
  switch (r) {
    case replacement::finite: return round_to(t, -2 * v + 1);
    case replacement::nan: return std::numeric_limits<double>::quiet_NaN();
    case replacement::pos_inf: return std::numeric_limits<double>::infinity();
    case replacement::neg_inf: return -std::numeric_limits<double>::infinity();
  }
  return v;
}

// Outputs of both runs within twice the first case's bound (the exact values
// are the same problem's), non-finite ones equal.
void compare(checker& chk, const test_case& c, const tensor_map& bounds, const tensor_map& got1,
             const tensor_map& got2, const std::vector<std::string>& names, const std::string& run) {
  for (const std::string& name : names) {
    // Declared not produced, or not an output of run 2's profile (onnx saves var, the others invstd).
    if (!got1.count(name) || !got2.count(name)) continue;
    const std::vector<double>& k1 = got1.at(name).values;
    const std::vector<double>& k2 = got2.at(name).values;
    const std::vector<double>& b = bounds.at(name).values;
    for (std::size_t i = 0; i < k2.size(); ++i) {
      const std::string where = run + " " + element_name(name, c.expected.at(name).shape, i);
      if (!std::isfinite(k1[i]) || !std::isfinite(k2[i]) || !std::isfinite(b[i])) {
        chk.equal(where, k2[i], k1[i]);
        continue;
      }
      chk.near(where, k2[i], exact(k1[i]), mul(exact(2), exact(b[i])));
    }
  }
}

}  // namespace

void independence(kernel& k, case_log& log, const limits& lim) {
  const generated_case g =
      *gen_case(space_of(lim, {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}, false));
  const problem& p = g.prob;
  const test_case c1 = build(g, log);
  const auto got1 = run(k, c1, log);
  if (!got1) return;
  const tensor_map b = exact_bounds(c1);
  const bool training = p.op == op_kind::forward_training;

  // Run 2: another momentum and profile; in training, other running statistics.
  test_case c2 = c1;
  c2.prob.momentum = *gen_momentum();
  c2.prob.prof = *pick_of<profile>({profile::pytorch, profile::onnx, profile::cudnn});
  std::string changed = "momentum " + exact_decimal(c2.prob.momentum) + ", profile " + std::string(to_string(c2.prob.prof));
  if (training) {
    const replacement r = *pick_of<replacement>(
        {replacement::finite, replacement::nan, replacement::pos_inf, replacement::neg_inf});
    for (const char* name : {"running_mean", "running_var"}) {
      for (double& v : c2.inputs.at(name).values) v = replaced(r, v, p.param_type);
      fill_of(c2.prob, name) = {fill_kind::file, 0, 0};
    }
    changed += std::string(", running statistics ") +
               (r == replacement::finite ? "-2r+1" : r == replacement::nan ? "NaN" : r == replacement::pos_inf ? "+inf" : "-inf");
  }
  const auto got2 = run(k, c2, log);
  if (!got2) return;

  // Run 3: the same case, the output buffers holding a finite value instead of NaN.
  const double fill = *pick_of<double>({0.0, 1.0, -2.5, 65504.0});
  const auto got3 = run(k, c1, log, {}, fill);
  if (!got3) return;

  checker chk("outputs independent of the momentum, the profile" +
              std::string(training ? ", the incoming running statistics" : "") +
              " and the output buffers' contents: run 2 (" + changed + ") and run 3 (outputs prefilled with " +
              exact_decimal(fill) + ") agree with run 1 within twice the bound");
  std::vector<std::string> fixed = output_names(p);
  if (training) std::erase_if(fixed, [](const std::string& n) { return n.rfind("running_", 0) == 0; });
  compare(chk, c1, b, *got1, *got2, fixed, "run 2");
  compare(chk, c1, b, *got1, *got3, output_names(p), "run 3");
  chk.require(c1, k.name());
}

}  // namespace bncheck::properties
