// Property: the kernel on f32 (or f16, bf16) data with f32 parameters and on
// the same values held as f64 data with f64 parameters agrees: the exact
// outputs are identical, so the two results may differ by the narrow case's
// bound plus the f64 case's. Derivation: docs/properties.md, "precision_agreement".
#include "properties/support.hpp"

namespace bncheck::properties {

void precision_agreement(kernel& k, case_log& log, const limits& lim) {
  problem_space s = space_of(lim, {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}, false);
  s.data_types = {dtype::f32, dtype::f16, dtype::bf16};
  s.param_types = {dtype::f32};
  const generated_case g = *gen_case(s);
  const problem& p = g.prob;
  problem q = p;
  q.data_type = q.param_type = dtype::f64;
  tensor_map wide = g.inputs;
  for (auto& [name, t] : wide) t.type = dtype::f64;  // every narrow value is a double exactly
  mark_explicit(q, wide);
  const test_case c1 = build(p, g.inputs, log), c2 = build(q, wide, log);
  const auto got1 = run(k, c1, log);
  if (!got1) return;
  const auto got2 = run(k, c2, log);
  if (!got2) return;
  checker chk(std::string(to_string(p.data_type)) + ":f32 and f64:f64 on the same values agree within b1 + b2");
  agree_at_same_positions(chk, c1, *got1, c2, *got2);
  chk.require(c1, k.name());
}

}  // namespace bncheck::properties
