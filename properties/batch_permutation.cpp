// Property: permuting the samples of a batch permutes y (and dx) and leaves
// the per-channel outputs alone. The exact outputs of the two cases are equal
// element for element, so the kernel's may differ by the sum of the two
// cases' bounds. Derivation: docs/properties.md, "batch_permutation".
#include <cmath>
#include <numeric>

#include "properties/support.hpp"

namespace bncheck::properties {
namespace {

// Sample i of a data tensor goes to sample perm[i].
tensor permute_samples(const problem& p, const tensor& t, const std::vector<int64_t>& perm) {
  tensor out = t;
  const int64_t S = spatial_size(p);
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t ch = 0; ch < p.c; ++ch)
      for (int64_t s = 0; s < S; ++s)
        out.values[static_cast<std::size_t>(offset(p, perm[static_cast<std::size_t>(i)], ch, s))] =
            t.values[static_cast<std::size_t>(offset(p, i, ch, s))];
  return out;
}

}  // namespace

void batch_permutation(kernel& k, case_log& log, const limits& lim) {
  problem_space s = space_of(lim, {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}, false);
  s.min_batch = 2;
  const generated_case g = *gen_case(s);
  const problem& p = g.prob;
  // Fisher-Yates from swap offsets; every offset shrinks to 0: the identity.
  std::vector<int64_t> perm(static_cast<std::size_t>(p.n));
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = p.n - 1; i > 0; --i)
    std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(i - *in_range<int64_t>(0, i, 0))]);
  tensor_map moved = g.inputs;
  problem q = p;
  for (const char* name : {"x", "dy"})
    if (moved.count(name)) {
      moved[name] = permute_samples(p, moved[name], perm);
      fill_of(q, name) = {fill_kind::file, 0, 0};
    }
  const test_case c1 = build(p, g.inputs, log), c2 = build(q, moved, log);
  const auto got1 = run(k, c1, log);
  if (!got1) return;
  const auto got2 = run(k, c2, log);
  if (!got2) return;
  const tensor_map b1 = exact_bounds(c1), b2 = exact_bounds(c2);
  std::string text;
  for (int64_t v : perm) {
    if (!text.empty()) text += ' ';
    text += std::to_string(v);
  }
  checker chk("samples permuted by (" + text + "): y and dx permuted, per-channel outputs equal, within b1 + b2");
  for (const std::string& name : outputs_of_both(p, *got1, *got2)) {
    const bool data = name == "y" || name == "dx";
    const tensor& t1 = got1->at(name);
    const std::vector<double> t2 = data ? permute_samples(p, got1->at(name), perm).values : t1.values;
    // t2 holds where each element of case 1 lands in case 2; compare with case 2's output there.
    const std::vector<double> e1 = data ? permute_samples(p, c1.expected.at(name), perm).values
                                        : c1.expected.at(name).values;
    const std::vector<double> bb1 = data ? permute_samples(p, b1.at(name), perm).values : b1.at(name).values;
    for (std::size_t i = 0; i < t2.size(); ++i) {
      const double g2 = got2->at(name).values[i];
      const std::string where = element_name(name, t1.shape, i);
      if (!std::isfinite(e1[i]) || !std::isfinite(g2) || !std::isfinite(t2[i])) {
        chk.equal(where, g2, t2[i]);
        continue;
      }
      chk.near(where, g2, exact(t2[i]), add(exact(bb1[i]), exact(b2.at(name).values[i])));
    }
  }
  chk.require(c2, k.name());
}

}  // namespace bncheck::properties
