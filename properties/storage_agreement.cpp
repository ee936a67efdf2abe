// Property: the same logical data with its data tensors in other storages
// (x, dy, y, dx each in either format of its rank, and/or a channel slice of
// a wider tensor whose other channels are padding) gives the same outputs as
// dense tensors in the problem's layout: the exact values are equal element
// for element, so the kernel's may differ by the sum of the two cases'
// bounds. Derivation: docs/properties.md, "storage_agreement".
#include "properties/support.hpp"

namespace bncheck::properties {

void storage_agreement(kernel& k, case_log& log, const limits& lim) {
  problem_space s = space_of(lim, {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}, false);
  s.storage_one_in = 0;  // case 1 dense; case 2 draws the storages
  const generated_case g = *gen_case(s);
  const problem& p = g.prob;
  problem q = p;
  draw_storages(q);
  if (dense_storage(q)) {
    // At least one tensor elsewhere: x, a slice of a tensor with one channel more.
    q.x_storage.channels = p.c + 1;
    q.x_storage.first = 1;
  }
  const test_case c1 = build(p, g.inputs, log), c2 = build(q, g.inputs, log);
  const auto got1 = run(k, c1, log);
  if (!got1) return;
  const auto got2 = run(k, c2, log);
  if (!got2) return;
  checker chk("dense " + std::string(to_string(p.lay)) + " and the storages of the same data agree element for element within b1 + b2");
  agree_at_same_positions(chk, c2, *got2, c1, *got1);
  chk.require(c2, k.name());
}

}  // namespace bncheck::properties
