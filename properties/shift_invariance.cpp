// Property: adding a constant t to x (exactly) changes nothing but the mean:
// y, var, invstd, running_var, dx, dgamma, dbeta are equal for x and x + t,
// mean becomes mean + t and running_mean gains w t (w the batch weight of the
// profile). The kernel's two results may differ by the sum of the two cases'
// bounds. Derivation: docs/properties.md, "shift_invariance".
#include <algorithm>
#include <bit>
#include <cmath>

#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {
namespace {

// Exponent of the lowest set bit of a finite nonzero double.
int low_bit(double v) {
  int e = 0;
  const double m = std::frexp(std::fabs(v), &e);  // v = m 2^e, 1/2 <= m < 1
  const auto bits = static_cast<uint64_t>(std::ldexp(m, 53));
  return e - 53 + std::countr_zero(bits);
}

}  // namespace

void shift_invariance(kernel& k, case_log& log, const limits& lim) {
  const generated_case g = *gen_case(space_of(lim, {op_kind::forward_training, op_kind::backward}, false));
  const problem& p = g.prob;
  const std::vector<double>& x = g.inputs.at("x").values;
  // x lies on the grid 2^low and below X; x + a 2^low is exact while it stays
  // below 2^(prec + low) (and inside the format's range).
  int low = 0;
  bool any = false;
  double X = 0;
  for (double v : x) {
    X = std::max(X, std::fabs(v));
    if (v == 0) continue;
    low = any ? std::min(low, low_bit(v)) : low_bit(v);
    any = true;
  }
  const int prec = precision_bits(p.data_type);
  const double room = std::min(std::ldexp(1.0, prec + low) - std::ldexp(1.0, low), max_finite(p.data_type)) - X;
  const int room_bits = room >= std::ldexp(1.0, low) ? std::ilogb(room) - low : -1;
  if (room_bits < 1) discard("no exact shift fits this x");
  const int kbits = *in_range(1, std::min(room_bits, 62), 1);
  const int64_t lim_a = (int64_t{1} << kbits) - 1;
  const double t = std::ldexp(static_cast<double>(*in_range<int64_t>(-lim_a, lim_a, 1)), low);
  tensor_map shifted = g.inputs;
  for (double& v : shifted.at("x").values) {
    v += t;
    if (!representable(p.data_type, v) || std::isinf(v)) fail("generator: x + t is not exact");
  }
  problem q = p;
  q.x = {fill_kind::file, 0, 0};
  const test_case c1 = build(p, g.inputs, log), c2 = build(q, shifted, log);
  const auto got1 = run(k, c1, log);
  if (!got1) return;
  const auto got2 = run(k, c2, log);
  if (!got2) return;
  const tensor_map b1 = exact_bounds(c1), b2 = exact_bounds(c2);
  // Batch weight of the running mean: 1 - momentum (onnx) or momentum.
  const mpfr_float w = p.prof == profile::onnx ? sub(exact(1), exact(p.momentum)) : exact(p.momentum);
  checker chk("x + " + exact_decimal(t) + ": mean + t, running_mean + w t, every other output equal, within b1 + b2");
  for (const std::string& name : outputs_of_both(p, *got1, *got2)) {
    const std::vector<double>& k1 = got1->at(name).values;
    const std::vector<double>& k2 = got2->at(name).values;
    for (std::size_t i = 0; i < k1.size(); ++i) {
      const std::string where = element_name(name, c1.expected.at(name).shape, i);
      if (!std::isfinite(c1.expected.at(name).values[i]) || !std::isfinite(k1[i]) || !std::isfinite(k2[i])) {
        chk.equal(where, k2[i], k1[i]);
        continue;
      }
      mpfr_float want = exact(k1[i]);
      if (name == "mean") want = add(want, exact(t));
      if (name == "running_mean") want = add(want, mul(w, exact(t)));
      chk.near(where, k2[i], want, add(exact(b1.at(name).values[i]), exact(b2.at(name).values[i])));
    }
  }
  chk.require(c2, k.name());
}

}  // namespace bncheck::properties
