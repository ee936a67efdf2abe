// The reference satisfies the invariants itself, at high precision: the same
// relations the kernel properties check, evaluated on reference/mp.hpp's
// unrounded outputs (and reference::compute for the running statistics),
// where the only error is MPFR's rounding at the working precision. Also the
// reference backward against central differences of the reference forward.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <numeric>

#include "golden/corpus.hpp"
#include "properties/gen.hpp"
#include "properties/precise.hpp"
#include "reference/mp.hpp"
#include "reference/reference.hpp"

namespace bncheck::properties {
namespace {

using reference::mp_backward;
using reference::mp_forward;

// Working precision of mp_forward / mp_backward here. Their values are within
// two roundings at P (reference/mp.hpp), so relations among a few of them hold
// to a few units of 2^-P relative to the magnitudes involved; `tol` allows 2^-(P-8).
constexpr mpfr_prec_t P = 256;

mpfr_float pow2(long e) {
  mpfr_float r = reference::with_precision(2);
  mpfr_set_ui_2exp(reference::raw(r), 1, e, MPFR_RNDN);
  return r;
}
mpfr_float tol(const mpfr_float& magnitude) { return mul(pow2(-(P - 8)), magnitude); }

std::vector<mpfr_float> mp(const std::vector<double>& v) {
  std::vector<mpfr_float> out;
  for (double e : v) out.push_back(exact(e));
  return out;
}

// Gathers channel ch of an mp tensor in logical order.
std::vector<mpfr_float> channel_of(const problem& p, const std::vector<mpfr_float>& t, int64_t ch) {
  std::vector<mpfr_float> out;
  for (std::size_t o : channel_indices(p, ch)) out.push_back(t[o]);
  return out;
}

mpfr_float abs_sum(const std::vector<mpfr_float>& v) {
  mpfr_float s = exact(0);
  for (const auto& e : v) s = add(s, abs(e));
  return s;
}

void assert_close(const mpfr_float& a, const mpfr_float& b, const mpfr_float& bound, const std::string& what) {
  if (cmp(abs(sub(a, b)), bound) > 0)
    RC_FAIL(what + ": " + hex_float(to_double(a)) + " vs " + hex_float(to_double(b)) + ", difference " +
            hex_float(to_double(abs(sub(a, b)))) + " over " + hex_float(to_double(bound)));
}

// Small forward problems in f64 or f32 (the reference takes any values; the
// formats only shape the generated data).
generated_case small_case(std::vector<op_kind> ops = {op_kind::forward_training}) {
  problem_space s;
  s.ops = std::move(ops);
  s.data_types = {dtype::f64, dtype::f32};
  s.max_elements = 48;
  return *gen_case(s);
}

// The channel of flat index i of a data tensor of p.
std::size_t channel_of_index(const problem& p, std::size_t i) {
  const auto S = static_cast<std::size_t>(spatial_size(p)), C = static_cast<std::size_t>(p.c);
  return channel_last(p.lay) ? i % C : (i / S) % C;
}

bool defined(const problem& p, const std::vector<double>& x) {
  for (int64_t ch = 0; ch < p.c; ++ch)
    if (mpfr_zero_p(reference::raw(stats_of(p, x, ch).shifted()))) return false;  // var + eps = 0
  return true;
}

std::vector<mpfr_float> constant(int64_t n, double v) { return std::vector<mpfr_float>(static_cast<std::size_t>(n), exact(v)); }

RC_GTEST_PROP(reference_prop, xhat_has_zero_sum_and_mean_square_var_over_var_plus_eps, ()) {
  const generated_case g = small_case();
  const problem& p = g.prob;
  const std::vector<double>& x = g.inputs.at("x").values;
  RC_PRE(defined(p, x));
  const auto r = mp_forward(p, mp(x), constant(p.c, 1), constant(p.c, 0), P);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const std::vector<mpfr_float> y = channel_of(p, r.y, ch);
    assert_close(sum(y), exact(0), tol(abs_sum(y)), "sum of xhat");
    mpfr_float sq = exact(0);
    for (const auto& v : y) sq = add(sq, mul(v, v));
    const reference::channel_stats s = stats_of(p, x, ch);
    const mpfr_float target = div(mul(exact(static_cast<double>(s.m())), s.centered()), s.shifted());
    assert_close(sq, target, tol(add(sq, target)), "sum of xhat^2");
  }
}

RC_GTEST_PROP(reference_prop, gamma_sqrt_var_plus_eps_and_beta_mean_give_back_x, ()) {
  const generated_case g = small_case();
  const problem& p = g.prob;
  const std::vector<double>& x = g.inputs.at("x").values;
  RC_PRE(defined(p, x));
  std::vector<mpfr_float> gamma, beta;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const reference::channel_stats s = stats_of(p, x, ch);
    gamma.push_back(div(sqrt(s.shifted()), exact(static_cast<double>(s.m()))));
    beta.push_back(mean_of(s));
  }
  const auto r = mp_forward(p, mp(x), gamma, beta, P);
  for (std::size_t i = 0; i < x.size(); ++i)
    assert_close(r.y[i], exact(x[i]),
                 tol(add(add(abs(exact(x[i])), abs(r.y[i])), abs(beta[channel_of_index(p, i)]))), "y vs x");
}

RC_GTEST_PROP(reference_prop, shift_changes_only_the_mean, ()) {
  const generated_case g = small_case();
  const problem& p = g.prob;
  const std::vector<mpfr_float> x = mp(g.inputs.at("x").values);
  const double t = std::ldexp(*in_range(-1000, 1000, 1), *in_range(-20, 20, 0));
  std::vector<mpfr_float> xs;
  for (const auto& v : x) xs.push_back(add(v, exact(t)));
  RC_PRE(defined(p, g.inputs.at("x").values));
  const auto gamma = mp(g.inputs.at("gamma").values), beta = mp(g.inputs.at("beta").values);
  const auto a = mp_forward(p, x, gamma, beta, P), b = mp_forward(p, xs, gamma, beta, P);
  for (std::size_t i = 0; i < x.size(); ++i) assert_close(b.y[i], a.y[i], tol(add(abs(a.y[i]), abs(b.y[i]))), "y");
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    assert_close(b.mean[u], add(a.mean[u], exact(t)), tol(add(abs(b.mean[u]), abs(a.mean[u]))), "mean");
    RC_ASSERT(cmp(b.var[u], a.var[u]) == 0);  // the same exact rational, rounded once
    RC_ASSERT(cmp(b.invstd[u], a.invstd[u]) == 0);
  }
}

RC_GTEST_PROP(reference_prop, scaling_scales_xhat_by_lambda, ()) {
  const generated_case g = small_case();
  const problem& p = g.prob;
  const std::vector<double>& xd = g.inputs.at("x").values;
  RC_PRE(defined(p, xd));
  const mpfr_float c = exact(std::ldexp(*pick_of<double>({1, 3, 5, 7}), *in_range(-12, 12, 1)));
  std::vector<mpfr_float> xs;
  for (double v : xd) xs.push_back(mul(exact(v), c));
  const auto gamma = mp(g.inputs.at("gamma").values), beta = mp(g.inputs.at("beta").values);
  const auto a = mp_forward(p, mp(xd), gamma, beta, P), b = mp_forward(p, xs, gamma, beta, P);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const reference::channel_stats s = stats_of(p, xd, ch);
    const mpfr_float m = exact(static_cast<double>(s.m()));
    const mpfr_float w = add(mul(mul(c, c), s.centered()), mul(exact(p.eps), mul(m, m)));
    const mpfr_float lambda = div(mul(c, sqrt(s.shifted())), sqrt(w));
    const mpfr_float& bt = beta[static_cast<std::size_t>(ch)];
    for (std::size_t o : channel_indices(p, ch)) {
      const mpfr_float want = mul(lambda, sub(a.y[o], bt));
      // a.y's rounding (relative to |a.y| and |beta|) is carried by lambda into want.
      const mpfr_float carried = mul(abs(lambda), add(abs(a.y[o]), abs(bt)));
      assert_close(sub(b.y[o], bt), want, tol(add(add(abs(b.y[o]), abs(bt)), carried)), "y - beta");
    }
  }
}

RC_GTEST_PROP(reference_prop, permuting_samples_and_changing_layout_change_nothing, ()) {
  generated_case g;
  {
    problem_space s;
    s.ops = {op_kind::forward_training};
    s.data_types = {dtype::f64};
    s.layouts = {layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc};
    s.max_elements = 48;
    s.min_batch = 2;
    g = *gen_case(s);
  }
  const problem& p = g.prob;
  RC_PRE(defined(p, g.inputs.at("x").values));
  const auto gamma = mp(g.inputs.at("gamma").values), beta = mp(g.inputs.at("beta").values);
  const auto a = mp_forward(p, mp(g.inputs.at("x").values), gamma, beta, P);
  // The reference sums exactly, so any order gives bit-identical values.
  problem q = p;
  q.lay = p.lay == layout::nchw ? layout::nhwc : p.lay == layout::nhwc ? layout::nchw
          : p.lay == layout::ncdhw ? layout::ndhwc : layout::ncdhw;
  const tensor moved = relayout(p, g.inputs.at("x"), q);
  const auto b = mp_forward(q, mp(moved.values), gamma, beta, P);
  const int64_t S = spatial_size(p);
  const int64_t shift = *in_range<int64_t>(1, p.n - 1, 1);  // rotate the samples by `shift`
  std::vector<double> rotated(g.inputs.at("x").values.size());
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t ch = 0; ch < p.c; ++ch)
      for (int64_t s = 0; s < S; ++s)
        rotated[static_cast<std::size_t>(offset(p, (i + shift) % p.n, ch, s))] =
            g.inputs.at("x").values[static_cast<std::size_t>(offset(p, i, ch, s))];
  const auto c = mp_forward(p, mp(rotated), gamma, beta, P);
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t ch = 0; ch < p.c; ++ch)
      for (int64_t s = 0; s < S; ++s) {
        const auto o = static_cast<std::size_t>(offset(p, i, ch, s));
        RC_ASSERT(cmp(a.y[o], b.y[static_cast<std::size_t>(offset(q, i, ch, s))]) == 0);
        RC_ASSERT(cmp(a.y[o], c.y[static_cast<std::size_t>(offset(p, (i + shift) % p.n, ch, s))]) == 0);
      }
  for (std::size_t ch = 0; ch < a.mean.size(); ++ch) {
    RC_ASSERT(cmp(a.mean[ch], b.mean[ch]) == 0 && cmp(a.mean[ch], c.mean[ch]) == 0);
    RC_ASSERT(cmp(a.var[ch], b.var[ch]) == 0 && cmp(a.var[ch], c.var[ch]) == 0);
  }
}

RC_GTEST_PROP(reference_prop, backward_matches_central_differences_of_forward, ()) {
  problem_space s;
  s.ops = {op_kind::backward};
  s.data_types = {dtype::f64, dtype::f32};
  s.max_elements = 24;
  const generated_case g = *gen_case(s);
  const problem& p = g.prob;
  const std::vector<double>& xd = g.inputs.at("x").values;
  RC_PRE(defined(p, xd));
  const std::vector<mpfr_float> x = mp(xd), dy = mp(g.inputs.at("dy").values), gamma = mp(g.inputs.at("gamma").values);
  const std::vector<mpfr_float> beta = constant(p.c, 0);
  constexpr mpfr_prec_t Q = 512;
  const auto grad = mp_backward(p, x, dy, gamma, Q);
  // L(x, gamma) = sum dy_j y_j(x, gamma): dx = dL/dx, dgamma = dL/dgamma, dbeta = sum dy.
  auto L = [&](const std::vector<mpfr_float>& xv, const std::vector<mpfr_float>& gv) {
    const auto r = mp_forward(p, xv, gv, beta, Q);
    mpfr_float total = exact(0), magnitude = exact(0);
    for (std::size_t j = 0; j < xv.size(); ++j) {
      total = add(total, mul(dy[j], r.y[j]));
      magnitude = add(magnitude, abs(mul(dy[j], r.y[j])));
    }
    return std::pair{total, magnitude};
  };
  // Central difference (L(+h) - L(-h)) / 2h. Its truncation error is c h^2 +
  // O(h^4) (L is smooth where var + eps > 0), so |D(h/2) - L'| is at most
  // |D(h) - D(h/2)| / 3 + O(h^4), and we allow |D(h) - D(h/2)|; the rounding of
  // the two L values adds 2^-(Q-4) |magnitude| / h.
  // h = 2^k: dividing by 2h is the exact product with 2^-(k+1).
  auto central = [&](auto&& perturbed, long k) {
    const auto [up, mu] = perturbed(pow2(k));
    const auto [down, md] = perturbed(mul(pow2(k), exact(-1)));
    return std::pair{mul(sub(up, down), pow2(-k - 1)), mul(mul(pow2(-(Q - 4)), add(mu, md)), pow2(-k))};
  };
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const reference::channel_stats st = stats_of(p, xd, ch);
    const mpfr_float sd = div(sqrt(st.shifted()), exact(static_cast<double>(st.m())));  // sqrt(var + eps)
    const long k = mpfr_get_exp(reference::raw(sd)) - 64;  // h = 2^k, about 2^-64 sqrt(var + eps)
    for (std::size_t o : channel_indices(p, ch)) {
      auto dx_at = [&](const mpfr_float& step) {
        std::vector<mpfr_float> xv = x;
        xv[o] = add(xv[o], step);
        return L(xv, gamma);
      };
      const auto [d1, r1] = central(dx_at, k);
      const auto [d2, r2] = central(dx_at, k - 1);
      // Plus 2^-200 of the gradient's scale sum|dy| |gamma| / sqrt(var + eps), for
      // the O(h^4) term should the h^2 term vanish (a reference bug is far larger).
      const mpfr_float scale = div(mul(abs_sum(channel_of(p, dy, ch)), abs(gamma[static_cast<std::size_t>(ch)])), sd);
      assert_close(d2, grad.dx[o], add(add(abs(sub(d1, d2)), add(r1, r2)), mul(pow2(-200), scale)),
                   "dx vs central difference");
    }
    const auto u = static_cast<std::size_t>(ch);
    auto dgamma_at = [&](const mpfr_float& step) {
      std::vector<mpfr_float> gv = gamma;
      gv[u] = add(gv[u], step);
      return L(x, gv);
    };
    const auto [dg, rg] = central(dgamma_at, -20);  // L is linear in gamma: no truncation error
    assert_close(dg, grad.dgamma[u], rg, "dgamma vs central difference");
    assert_close(grad.dbeta[u], sum(channel_of(p, dy, ch)), exact(0), "dbeta = sum dy");
  }
}

RC_GTEST_PROP(reference_prop, backward_is_linear_in_dy, ()) {
  const generated_case g = small_case({op_kind::backward});
  const problem& p = g.prob;
  RC_PRE(defined(p, g.inputs.at("x").values));
  const auto x = mp(g.inputs.at("x").values), gamma = mp(g.inputs.at("gamma").values);
  const auto dy1 = mp(g.inputs.at("dy").values);
  std::vector<mpfr_float> dy2, dy3;
  const mpfr_float a = exact(std::ldexp(*pick_of<double>({1, -3, 5}), *in_range(-4, 4, 0)));
  for (std::size_t i = 0; i < dy1.size(); ++i) {
    dy2.push_back(exact(*in_range(-64, 64, 0)));
    dy3.push_back(add(mul(a, dy1[i]), dy2.back()));
  }
  const auto b1 = mp_backward(p, x, dy1, gamma, P), b2 = mp_backward(p, x, dy2, gamma, P),
             b3 = mp_backward(p, x, dy3, gamma, P);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const mpfr_float want = add(mul(a, b1.dx[i]), b2.dx[i]);
    assert_close(b3.dx[i], want, tol(add(add(abs(mul(a, b1.dx[i])), abs(b2.dx[i])), abs(b3.dx[i]))), "dx");
  }
  for (std::size_t c = 0; c < b1.dgamma.size(); ++c) {
    const mpfr_float want = add(mul(a, b1.dgamma[c]), b2.dgamma[c]);
    assert_close(b3.dgamma[c], want, tol(add(add(abs(mul(a, b1.dgamma[c])), abs(b2.dgamma[c])), abs(b3.dgamma[c]))),
                 "dgamma");
    // Sums of dyadic values: exact while they span fewer than P bits, which
    // an f64 subnormal dy beside integer ones (2^-1074 .. 2^6) does not.
    const mpfr_float want_dbeta = add(mul(a, b1.dbeta[c]), b2.dbeta[c]);
    assert_close(b3.dbeta[c], want_dbeta,
                 tol(add(add(abs(mul(a, b1.dbeta[c])), abs(b2.dbeta[c])), abs(b3.dbeta[c]))), "dbeta");
  }
}

RC_GTEST_PROP(reference_prop, chan_merge_of_shard_statistics_gives_the_batch_statistics, ()) {
  problem_space s;
  s.data_types = {dtype::f64, dtype::f32};
  s.max_elements = 64;
  s.min_batch = 2;
  const generated_case g = *gen_case(s);
  const problem& p = g.prob;
  const int64_t cut = *in_range<int64_t>(1, p.n - 1, 1), S = spatial_size(p);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const std::vector<mpfr_float> all = channel(p, g.inputs.at("x").values, ch);
    const std::vector<mpfr_float> left(all.begin(), all.begin() + cut * S), right(all.begin() + cut * S, all.end());
    const reference::channel_stats a(left, p.eps), b(right, p.eps), full(all, p.eps);
    // Chan, Golub and LeVeque: delta = mu_b - mu_a, mu = mu_a + delta nb/n,
    // M2 = M2_a + M2_b + delta^2 na nb / n, with M2 = M var.
    const mpfr_float na = exact(static_cast<double>(a.m())), nb = exact(static_cast<double>(b.m()));
    const mpfr_float n = add(na, nb);
    const mpfr_float delta = sub(mean_of(b), mean_of(a));
    const mpfr_float mu = add(mean_of(a), div(mul(delta, nb), n));
    const mpfr_float m2 = add(add(mul(na, var_of(a)), mul(nb, var_of(b))), div(mul(mul(delta, delta), mul(na, nb)), n));
    const mpfr_float want_m2 = mul(n, var_of(full));
    assert_close(mu, mean_of(full), mul(work_margin(), add(abs(mu), abs(delta))), "merged mean");
    // delta is a difference of rounded means: its error 2^-320 (|mu_a| + |mu_b|) enters delta^2 n.
    const mpfr_float spread = mul(mul(n, abs(delta)), add(abs(mean_of(a)), abs(mean_of(b))));
    assert_close(m2, want_m2, mul(work_margin(), add(add(m2, want_m2), spread)), "merged M2");
  }
}

RC_GTEST_PROP(reference_prop, running_statistics_are_the_profile_formulas_correctly_rounded, ()) {
  const generated_case g = small_case();
  const problem& p = g.prob;
  const tensor_map r = reference::compute(p, g.inputs);
  const bool onnx = p.prof == profile::onnx;
  const mpfr_float m = exact(p.momentum), rest = sub(exact(1), m);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    const reference::channel_stats s = stats_of(p, g.inputs.at("x").values, ch);
    const mpfr_float old_m = exact(g.inputs.at("running_mean").values[u]);
    const mpfr_float old_v = exact(g.inputs.at("running_var").values[u]);
    const mpfr_float mean = mean_of(s);
    const mpfr_float want_m = onnx ? add(mul(m, old_m), mul(rest, mean)) : add(mul(rest, old_m), mul(m, mean));
    assert_close(exact(r.at("running_mean").values[u]), want_m,
                 add(mul(pow2(-53), abs(want_m)), mul(work_margin(), add(abs(mul(m, old_m)), abs(mean)))),
                 "running_mean");
    if (!onnx && s.m() == 1) {
      RC_ASSERT(std::isnan(r.at("running_var").values[u]));
      continue;
    }
    const mpfr_float var = onnx ? var_of(s)
                                : div(s.centered(), mul(exact(static_cast<double>(s.m())),
                                                        exact(static_cast<double>(s.m() - 1))));
    const mpfr_float want_v = onnx ? add(mul(m, old_v), mul(rest, var)) : add(mul(rest, old_v), mul(m, var));
    assert_close(exact(r.at("running_var").values[u]), want_v,
                 add(mul(pow2(-53), abs(want_v)), mul(work_margin(), add(abs(mul(m, old_v)), abs(var)))),
                 "running_var");
  }
}

}  // namespace
}  // namespace bncheck::properties
