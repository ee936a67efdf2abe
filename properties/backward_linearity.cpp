// Property: backward is linear in dy. For exact dy3 = a dy1 + dy2 (a = +-2^k)
// the kernel's dx, dgamma, dbeta satisfy k(dy3) = a k(dy1) + k(dy2) within
// b3 + |a| b1 + b2, the model's bounds of the three cases (the exact outputs
// satisfy it exactly). Derivation: docs/properties.md, "backward_linearity".
#include <cmath>

#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {

void backward_linearity(kernel& k, case_log& log, const limits& lim) {
  const generated_case g = *gen_case(space_of(lim, {op_kind::backward}, false));
  const problem& p = g.prob;
  // dy1, dy2 on a per-channel grid 2^e with |m| < 2^bits, bits <= p - 5, so
  // that a dy1 + dy2 = (a m1 + m2) 2^e needs at most p bits: it is exact.
  const int k2 = *in_range(-2, 2, 0);
  const double a = *pick_of<double>({1.0, -1.0}) * std::ldexp(1.0, k2);
  const int bits_max = precision_bits(p.data_type) - 5;
  tensor dy1{p.data_type, data_shape(p), std::vector<double>(static_cast<std::size_t>(element_count(p)))};
  tensor dy2 = dy1, dy3 = dy1;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const int e = *in_range(-6, 6, 0);
    const int bits = *in_range(1, bits_max, 1);
    const int64_t lim_m = (int64_t{1} << bits) - 1;
    const std::vector<std::size_t> idx = channel_indices(p, ch);
    const auto m1 = *rc::gen::container<std::vector<int64_t>>(idx.size(), in_range<int64_t>(-lim_m, lim_m, 0));
    const auto m2 = *rc::gen::container<std::vector<int64_t>>(idx.size(), in_range<int64_t>(-lim_m, lim_m, 0));
    for (std::size_t j = 0; j < idx.size(); ++j) {
      dy1.values[idx[j]] = std::ldexp(static_cast<double>(m1[j]), e);
      dy2.values[idx[j]] = std::ldexp(static_cast<double>(m2[j]), e);
      dy3.values[idx[j]] = a * dy1.values[idx[j]] + dy2.values[idx[j]];  // exact by the choice of bits
      if (!representable(p.data_type, dy3.values[idx[j]]))
        fail("generator: a*dy1 + dy2 is not exact in " + std::string(to_string(p.data_type)));
    }
  }
  std::vector<test_case> cases;
  std::vector<tensor_map> got;
  for (const tensor* dy : {&dy1, &dy2, &dy3}) {
    tensor_map in = g.inputs;
    in["dy"] = *dy;
    cases.push_back(build(p, in, log));
    auto out = run(k, cases.back(), log);
    if (!out) return;
    got.push_back(std::move(*out));
  }
  const tensor_map b1 = exact_bounds(cases[0]), b2 = exact_bounds(cases[1]), b3 = exact_bounds(cases[2]);
  checker chk("backward is linear in dy: k(a dy1 + dy2) = a k(dy1) + k(dy2), a = " + exact_decimal(a) +
              ", within b3 + |a| b1 + b2");
  const mpfr_float ma = exact(a), abs_a = exact(std::fabs(a));
  for (const std::string& name : output_names(p)) {
    const std::vector<int64_t>& shape = cases[0].expected.at(name).shape;
    for (std::size_t i = 0; i < got[0].at(name).values.size(); ++i) {
      const double k1 = got[0].at(name).values[i], kk2 = got[1].at(name).values[i], k3 = got[2].at(name).values[i];
      const double kj[3] = {k1, kk2, k3};
      bool finite = true;
      for (int j = 0; j < 3; ++j) {
        const double e = cases[static_cast<std::size_t>(j)].expected.at(name).values[i];
        if (std::isfinite(kj[j]) && std::isfinite(e)) continue;
        finite = false;  // where the exact value is undefined the kernel must say NaN too
        chk.equal(element_name(name, shape, i) + " dy" + std::to_string(j + 1), kj[j], e);
      }
      if (!finite) continue;
      const mpfr_float want = add(mul(ma, exact(k1)), exact(kk2));
      const mpfr_float bound = add(add(exact(b3.at(name).values[i]), mul(abs_a, exact(b1.at(name).values[i]))),
                                   exact(b2.at(name).values[i]));
      chk.near(element_name(name, shape, i), k3, want, bound);
    }
  }
  chk.require(cases[2], k.name());
}

}  // namespace bncheck::properties
