// The gradient, checked by a method that shares nothing with the backward
// formulas: central differences of the high-precision forward pass.

// L = sum_i dy_i y_i(x, gamma, beta). Along a direction v (in x, gamma or beta)
//   (L(+h v) - L(-h v)) / (2h) = <grad L, v> + (h^2/6) D^3L[v,v,v] + rounding.
// With h = 2^-80 the truncation term is 2^-160/6 * |D^3L| ~ 1e-49 |D^3L|. The
// data below keep |D^3L| under ~1e9 (|x|, |dy| <= 2, spread ~1, eps = 1e-5;
// a constant channel has D^3L ~ m / eps^1.5 ~ 1e9), so truncation is below
// 1e-39. Working at 400 bits, each L has a relative error of about
// m 2^-399, which dividing by 2h = 2^-79 turns into ~ m 2^-320 |L| ~ 1e-94.
// The smallest <grad L, v> here is ~1e-6 (m = 2, where dx is O(eps) by
// cancellation), so the relative agreement must be ~1e-33 or better; 1e-30
// is asserted. Linear directions (gamma, beta) have no truncation term at all.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/fill.hpp"
#include "core/tensor.hpp"
#include "reference/mp.hpp"
#include "reference/reference.hpp"
#include "reference/ziv.hpp"

namespace bncheck::reference {
namespace {

constexpr mpfr_prec_t work = 400;
constexpr long log2_h = -80;

struct fd_case {
  layout lay;
  int64_t n, c, d, h, w;
  bool constant_channel;  // channel 0 of x holds one value
};

const fd_case cases[] = {
    {layout::nc, 2, 3, 1, 1, 1, false},      // m = 2
    {layout::nc, 7, 2, 1, 1, 1, true},       // m = 7, a constant channel
    {layout::nchw, 2, 3, 1, 2, 3, false},    // m = 12
    {layout::nhwc, 3, 2, 1, 4, 4, true},     // m = 48
    {layout::ncdhw, 2, 2, 2, 2, 3, false},   // m = 24
    {layout::ndhwc, 1, 3, 2, 3, 5, false},   // m = 30
};

double uniform(splitmix64& rng, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(rng.next() >> 11) * 0x1p-53;
}

std::vector<double> draw(splitmix64& rng, std::size_t count, double lo, double hi) {
  std::vector<double> v(count);
  for (double& e : v) e = uniform(rng, lo, hi);
  return v;
}

std::vector<mpfr_float> to_mp(const std::vector<double>& v) {
  std::vector<mpfr_float> r;
  for (double e : v) r.push_back(exact_value(e));
  return r;
}

// a + sign * 2^log2_h * dir, exactly at `work` bits.
std::vector<mpfr_float> shifted(const std::vector<double>& a, const std::vector<double>& dir, int sign) {
  std::vector<mpfr_float> r;
  for (std::size_t i = 0; i < a.size(); ++i) {
    mpfr_float step = exact_value(dir[i]);
    mpfr_mul_2si(raw(step), raw(step), log2_h, MPFR_RNDN);
    if (sign < 0) mpfr_neg(raw(step), raw(step), MPFR_RNDN);
    mpfr_float s = with_precision(work);
    EXPECT_EQ(mpfr_add(raw(s), raw(exact_value(a[i])), raw(step), MPFR_RNDN), 0);
    r.push_back(std::move(s));
  }
  return r;
}

// sum a_i b_i at `work` bits.
mpfr_float dot(const std::vector<mpfr_float>& a, const std::vector<mpfr_float>& b) {
  mpfr_float acc = with_precision(work), t = with_precision(work);
  mpfr_set_zero(raw(acc), 1);
  for (std::size_t i = 0; i < a.size(); ++i) {
    mpfr_mul(raw(t), raw(a[i]), raw(b[i]), MPFR_RNDN);
    mpfr_add(raw(acc), raw(acc), raw(t), MPFR_RNDN);
  }
  return acc;
}

// |fd - analytic| / |analytic| as a double; fd = (l_plus - l_minus) / 2^(log2_h + 1).
double relative_gap(const mpfr_float& l_plus, const mpfr_float& l_minus, const mpfr_float& analytic) {
  mpfr_float fd = with_precision(work), gap = with_precision(work);
  mpfr_sub(raw(fd), raw(l_plus), raw(l_minus), MPFR_RNDN);
  mpfr_mul_2si(raw(fd), raw(fd), -(log2_h + 1), MPFR_RNDN);
  mpfr_sub(raw(gap), raw(fd), raw(analytic), MPFR_RNDN);
  mpfr_div(raw(gap), raw(gap), raw(analytic), MPFR_RNDN);
  return std::fabs(mpfr_get_d(raw(gap), MPFR_RNDN));
}

struct fd_problem {
  problem p;
  std::vector<double> x, dy, gamma, beta;
};

fd_problem make(const fd_case& k, uint64_t seed) {
  fd_problem f;
  f.p.op = op_kind::backward;
  f.p.lay = k.lay;
  f.p.data_type = f.p.param_type = dtype::f64;
  f.p.n = k.n, f.p.c = k.c, f.p.d = k.d, f.p.h = k.h, f.p.w = k.w;
  f.p.eps = 1e-5;
  splitmix64 rng{seed};
  const auto count = static_cast<std::size_t>(element_count(f.p));
  f.x = draw(rng, count, -2, 2);
  f.dy = draw(rng, count, -2, 2);
  f.gamma = draw(rng, static_cast<std::size_t>(k.c), 0.5, 2);
  f.beta = draw(rng, static_cast<std::size_t>(k.c), -1, 1);
  if (k.constant_channel)
    for (int64_t i = 0; i < k.n; ++i)
      for (int64_t s = 0; s < k.d * k.h * k.w; ++s) f.x[static_cast<std::size_t>(offset(f.p, i, 0, s))] = 0.3;
  return f;
}

std::string name(const fd_problem& f) { return to_text(f.p); }

TEST(reference_gradient, dx_matches_central_differences_of_the_forward_pass) {
  uint64_t seed = 100;
  for (const fd_case& k : cases) {
    const fd_problem f = make(k, ++seed);
    const auto mdy = to_mp(f.dy), mgamma = to_mp(f.gamma), mbeta = to_mp(f.beta);
    const mp_backward_result grad = mp_backward(f.p, to_mp(f.x), mdy, mgamma, work);
    splitmix64 rng{seed * 7};
    for (int trial = 0; trial < 2; ++trial) {
      const std::vector<double> v = draw(rng, f.x.size(), -1, 1);
      const mpfr_float lp = dot(mdy, mp_forward(f.p, shifted(f.x, v, +1), mgamma, mbeta, work).y);
      const mpfr_float lm = dot(mdy, mp_forward(f.p, shifted(f.x, v, -1), mgamma, mbeta, work).y);
      EXPECT_LT(relative_gap(lp, lm, dot(grad.dx, to_mp(v))), 1e-30) << name(f);
    }
  }
}

TEST(reference_gradient, dgamma_and_dbeta_match_central_differences) {
  uint64_t seed = 200;
  for (const fd_case& k : cases) {
    const fd_problem f = make(k, ++seed);
    const auto mx = to_mp(f.x), mdy = to_mp(f.dy), mgamma = to_mp(f.gamma), mbeta = to_mp(f.beta);
    const mp_backward_result grad = mp_backward(f.p, mx, mdy, mgamma, work);
    splitmix64 rng{seed * 7};
    const std::vector<double> u = draw(rng, f.gamma.size(), -1, 1);
    const mpfr_float gp = dot(mdy, mp_forward(f.p, mx, shifted(f.gamma, u, +1), mbeta, work).y);
    const mpfr_float gm = dot(mdy, mp_forward(f.p, mx, shifted(f.gamma, u, -1), mbeta, work).y);
    EXPECT_LT(relative_gap(gp, gm, dot(grad.dgamma, to_mp(u))), 1e-30) << name(f);
    const mpfr_float bp = dot(mdy, mp_forward(f.p, mx, mgamma, shifted(f.beta, u, +1), work).y);
    const mpfr_float bm = dot(mdy, mp_forward(f.p, mx, mgamma, shifted(f.beta, u, -1), work).y);
    EXPECT_LT(relative_gap(bp, bm, dot(grad.dbeta, to_mp(u))), 1e-30) << name(f);
  }
}

TEST(reference_gradient, compute_returns_the_nearest_doubles_to_the_high_precision_values) {
  uint64_t seed = 300;
  for (const fd_case& k : cases) {
    const fd_problem f = make(k, ++seed);
    tensor_map in;
    in["x"] = tensor{dtype::f64, data_shape(f.p), f.x};
    in["dy"] = tensor{dtype::f64, data_shape(f.p), f.dy};
    in["gamma"] = tensor{dtype::f64, {k.c}, f.gamma};
    in["beta"] = tensor{dtype::f64, {k.c}, f.beta};
    in["running_mean"] = tensor{dtype::f64, {k.c}, std::vector<double>(static_cast<std::size_t>(k.c), 0.0)};
    in["running_var"] = tensor{dtype::f64, {k.c}, std::vector<double>(static_cast<std::size_t>(k.c), 1.0)};
    const tensor_map b = compute(f.p, in);
    const mp_backward_result grad = mp_backward(f.p, to_mp(f.x), to_mp(f.dy), to_mp(f.gamma), work);
    problem fwd = f.p;
    fwd.op = op_kind::forward_training;
    const tensor_map y = compute(fwd, in);
    const mp_forward_result mf = mp_forward(fwd, to_mp(f.x), to_mp(f.gamma), to_mp(f.beta), work);
    const std::pair<const std::vector<double>*, const std::vector<mpfr_float>*> pairs[] = {
        {&b.at("dx").values, &grad.dx},    {&b.at("dgamma").values, &grad.dgamma},
        {&b.at("dbeta").values, &grad.dbeta}, {&y.at("y").values, &mf.y},
        {&y.at("mean").values, &mf.mean},  {&y.at("var").values, &mf.var},
        {&y.at("invstd").values, &mf.invstd}};
    for (const auto& [rounded, high] : pairs) {
      ASSERT_EQ(rounded->size(), high->size());
      for (std::size_t i = 0; i < rounded->size(); ++i)
        EXPECT_EQ((*rounded)[i], round_to_double((*high)[i])) << name(f) << " element " << i;
    }
  }
}

}  // namespace
}  // namespace bncheck::reference
