// Property: the same logical data in a channel-first and a channel-last
// layout (NCHW/NHWC, NCDHW/NDHWC) gives the same outputs: the exact values are
// equal element for element, so the kernel's may differ by the sum of the two
// cases' bounds. Derivation: docs/properties.md, "layout_agreement".
#include <cmath>

#include "golden/corpus.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void layout_agreement(kernel& k, case_log& log, const limits& lim) {
  problem_space s = space_of(lim, {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}, false);
  s.layouts = {layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc};
  const generated_case g = *gen_case(s);
  const problem& p = g.prob;
  problem q = p;
  q.lay = other_format(p.lay);
  tensor_map moved = g.inputs;
  for (const char* name : {"x", "dy"})
    if (moved.count(name)) {
      moved[name] = relayout(p, moved[name], q);
      fill_of(q, name) = {fill_kind::file, 0, 0};
    }
  const test_case c1 = build(p, g.inputs, log), c2 = build(q, moved, log);
  const auto got1 = run(k, c1, log);
  if (!got1) return;
  const auto got2 = run(k, c2, log);
  if (!got2) return;
  const tensor_map b1 = exact_bounds(c1), b2 = exact_bounds(c2);
  checker chk(std::string(to_string(p.lay)) + " and " + std::string(to_string(q.lay)) +
              " of the same data agree element for element within b1 + b2");
  for (const std::string& name : outputs_of_both(p, *got1, *got2)) {
    const bool data = name == "y" || name == "dx";
    // Case 1's outputs and bounds moved into case 2's layout.
    const std::vector<double> k1 = data ? relayout(p, got1->at(name), q).values : got1->at(name).values;
    const std::vector<double> e1 = data ? relayout(p, c1.expected.at(name), q).values : c1.expected.at(name).values;
    const std::vector<double> bb1 = data ? relayout(p, b1.at(name), q).values : b1.at(name).values;
    const std::vector<double>& k2 = got2->at(name).values;
    for (std::size_t i = 0; i < k2.size(); ++i) {
      const std::string where = element_name(name, c2.expected.at(name).shape, i);
      if (!std::isfinite(e1[i]) || !std::isfinite(k1[i]) || !std::isfinite(k2[i])) {
        chk.equal(where, k2[i], k1[i]);
        continue;
      }
      chk.near(where, k2[i], exact(k1[i]), add(exact(bb1[i]), exact(b2.at(name).values[i])));
    }
  }
  chk.require(c2, k.name());
}

}  // namespace bncheck::properties
