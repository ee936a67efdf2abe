// Per-element bounds of the tolerance model. Every term is derived in
// docs/tolerances.md; the section numbers below point there.
#include "check/tolerance.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dtype.hpp"

namespace bncheck {
namespace {

using real = long double;  // magnitudes only: 64-bit significand is ample

// Magnitudes of one channel, computed from the inputs (section 1).
struct channel_scales {
  real mean = 0;        // mu
  real var = 0;         // sigma^2, biased
  real abs_mean = 0;    // S = mean |x|, the magnitude the mean's sum carries
  real invstd = 0;      // s = 1/sqrt(var + eps)
  bool constant = true; // every x equal: sigma^2 == 0 exactly
  real sum_abs_dy = 0;      // sum |dy|
  real sum_abs_dy_xhat = 0; // sum |dy * xhat|
  real dbeta = 0;           // sum dy
  real dgamma = 0;          // sum dy * xhat
};

struct model {
  real ua;   // unit roundoff of the arithmetic a correct kernel must at least use (section 2.1)
  real ud;   // unit roundoff of the data format (x, y, dy, dx)
  real L;    // reduction depth: reduction_depth(M) (section 2.2)
  real eta;  // half the smallest subnormal of the arithmetic's format: the absolute floor of one rounding (section 3)
  real M;
  real K = tolerance_safety;
};

std::vector<channel_scales> scales(const problem& p, const tensor_map& in) {
  const std::vector<double>& x = in.at("x").values;
  const std::vector<double>* dy = in.count("dy") ? &in.at("dy").values : nullptr;
  const int64_t S = spatial_size(p), M = reduction_size(p);
  std::vector<channel_scales> out(static_cast<std::size_t>(p.c));
  for (int64_t c = 0; c < p.c; ++c) {
    channel_scales& k = out[static_cast<std::size_t>(c)];
    const double first = x[static_cast<std::size_t>(offset(p, 0, c, 0))];
    real sum = 0, sum_abs = 0;
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const double v = x[static_cast<std::size_t>(offset(p, i, c, s))];
        sum += v;
        sum_abs += std::fabs(static_cast<real>(v));
        k.constant = k.constant && v == first;
      }
    k.mean = sum / M;
    k.abs_mean = sum_abs / M;
    real ss = 0;
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const real d = x[static_cast<std::size_t>(offset(p, i, c, s))] - k.mean;
        ss += d * d;
      }
    k.var = k.constant ? 0 : ss / M;
    k.invstd = 1 / std::sqrt(k.var + static_cast<real>(p.eps));
    if (dy)
      for (int64_t i = 0; i < p.n; ++i)
        for (int64_t s = 0; s < S; ++s) {
          const auto o = static_cast<std::size_t>(offset(p, i, c, s));
          const real g = (*dy)[o], xhat = (x[o] - k.mean) * k.invstd;
          k.sum_abs_dy += std::fabs(g);
          k.sum_abs_dy_xhat += std::fabs(g * xhat);
          k.dbeta += g;
          k.dgamma += g * xhat;
        }
  }
  return out;
}

// Final rounding of a result into format t: half an ulp, at most u*|v|, and
// half the smallest subnormal near zero (section 3).
real final_rounding(dtype t, real v) {
  return unit_roundoff(t) * std::fabs(v) + static_cast<real>(denorm_min(t)) / 2;
}

// Error bound of the computed mean before its final rounding (section 4.1):
// a blocked or pairwise sum of M terms errs by at most L*u*sum|x|, the
// division adds u*|mu|.
real mean_error(const model& m, const channel_scales& k) {
  return m.L * m.ua * k.abs_mean + m.ua * std::fabs(k.mean) + (m.L + 1) * m.eta;
}

// Error bound of the computed biased variance before its final rounding
// (section 4.2): two-pass gives delta^2 + (L+4)u*sigma^2 where delta is the
// mean's error; single-pass updating (Welford/Chan) adds L*u*sigma*S.
real var_error(const model& m, const channel_scales& k) {
  const real delta = mean_error(m, k);
  const real sigma = std::sqrt(k.var);
  return delta * delta + (m.L + 4) * m.ua * k.var + m.L * m.ua * sigma * k.abs_mean + (m.L + 4) * m.eta;
}

// Relative error bound of the computed invstd (section 4.4): half the
// relative error of var + eps, plus three roundings (add, sqrt, divide).
real invstd_rel_error(const model& m, const channel_scales& k, real eps) {
  return var_error(m, k) / (2 * (k.var + eps)) + 3 * m.ua;
}

// merge_statistics (section 8): S shards' statistics merged by a sum of S
// weighted terms or by Chan's pairwise update, over D levels.
// Chan's update of a partial mean, mu_a + (mu_b - mu_a)*n_b/(n_a + n_b),
// adds per level at most 11 roundings of the shards' largest |mean| A
// (section 8.1); the sum form adds 2D + 2, within 11D + 2.
constexpr real merge_mean_level = 11;
constexpr real merge_mean_fixed = 2;
// Chan's M2 update, M2_a + M2_b + delta^2 n_a n_b / n, adds per level 9
// roundings of M2 (section 8.2); with the final division and the count's
// rounding, 9D + 6 covers the sum form's 2D + 6 too.
constexpr real merge_var_level = 9;
constexpr real merge_var_fixed = 6;

tensor_map merge_bounds(const problem& p, const tensor_map& inputs, const tensor_map& expected) {
  const real ua = unit_roundoff(p.param_type);  // data and parameter formats agree (validate)
  const real eta = static_cast<real>(denorm_min(p.param_type)) / 2;
  const real K = tolerance_safety;
  // D: merges on the deepest path, sequential runs of up to 32 shards admitted
  // as for any sum (section 2.2): ceil(log2 S) for a tree, S - 1 for S <= 32 one after another.
  const real D = reduction_depth(p.n) - 1;
  const std::vector<double>& means = inputs.at("shard_mean").values;
  const std::vector<double>& e_var = expected.at("var").values;
  tensor_map out;
  for (const auto& name : output_names(p)) {
    tensor& t = out[name];
    t.type = dtype::f64;
    t.shape = expected.at(name).shape;
    t.values.assign(expected.at(name).values.size(), 0.0);
  }
  for (int64_t c = 0; c < p.c; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    real A = 0;  // the largest |shard mean|: every partial mean and half every difference is within it
    for (int64_t i = 0; i < p.n; ++i) A = std::max(A, std::fabs(static_cast<real>(means[static_cast<std::size_t>(i * p.c + c)])));
    const real var = e_var[cc], sigma = std::sqrt(var);
    // section 8.1
    const real e_mu = (merge_mean_level * D + merge_mean_fixed) * (ua * A + eta);
    // section 8.2: the mean's error squared (sum form: N delta^2 over N;
    // Chan: D levels of (2E)^2 n_a n_b/n <= E^2 N), first order through
    // Chan's difference (2E per level against sqrt(N M2)), and the roundings.
    const real e_var_ = std::max(D, real{1}) * e_mu * e_mu + 2 * D * e_mu * sigma +
                        (merge_var_level * D + merge_var_fixed) * (ua * var + eta);
    // section 4.4, with var's error from 8.2
    const real s = 1 / std::sqrt(var + static_cast<real>(p.eps));
    const real rho_s = e_var_ / (2 * (var + static_cast<real>(p.eps))) + 3 * ua;
    auto set = [&](const char* name, real prop) {
      auto it = out.find(name);
      if (it == out.end()) return;
      it->second.values[cc] = static_cast<double>(final_rounding(p.param_type, expected.at(name).values[cc]) + K * prop);
    };
    set("mean", e_mu);
    set("var", e_var_);
    set("invstd", s * rho_s);
  }
  return out;
}

}  // namespace

double reduction_depth(int64_t m) {
  const int64_t blocks = (m + sequential_run - 1) / sequential_run;
  int levels = 0;
  while ((int64_t{1} << levels) < blocks) ++levels;
  return static_cast<double>(std::min(m, sequential_run) + levels);
}

tensor_map tolerance_bounds(const problem& p, const tensor_map& inputs, const tensor_map& expected) {
  if (p.op == op_kind::merge_statistics) return merge_bounds(p, inputs, expected);
  model m;
  m.ua = std::min(unit_roundoff(p.data_type), std::ldexp(1.0, -24));
  m.ud = unit_roundoff(p.data_type);
  m.M = static_cast<real>(reduction_size(p));
  m.L = reduction_depth(reduction_size(p));
  // In long double: 2^-1075 is a tie between 0 and 2^-1074 in double, which rounds to 0.
  m.eta = static_cast<real>(denorm_min(m.ua < unit_roundoff(dtype::f32) ? dtype::f64 : dtype::f32)) / 2;
  const real eps = p.eps;
  const auto ch = scales(p, inputs);
  const int64_t S = spatial_size(p);
  tensor_map out;
  auto make = [&](const std::string& name) -> std::vector<double>& {
    tensor& t = out[name];
    t.type = dtype::f64;
    t.shape = expected.at(name).shape;
    t.values.assign(expected.at(name).values.size(), 0.0);
    return t.values;
  };
  const std::vector<double>& x = inputs.at("x").values;
  const std::vector<double>& gamma = inputs.at("gamma").values;

  // Statistics carry the parameter format's rounding when a kernel keeps them
  // in it (section 4.3): mu and s as a kernel may use them for y. That
  // rounding has the subnormal floor too: a subnormal mean keeps few bits.
  auto mean_used = [&](const channel_scales& k) { return mean_error(m, k) + final_rounding(p.param_type, k.mean); };
  auto invstd_used = [&](const channel_scales& k) {
    return k.invstd * invstd_rel_error(m, k, eps) + final_rounding(p.param_type, k.invstd);
  };

  for (const auto& name : output_names(p)) {
    std::vector<double>& b = make(name);
    const std::vector<double>& e = expected.at(name).values;
    const dtype t = type_of(p, name);
    if (name == "mean" || name == "var" || name == "invstd") {
      for (int64_t c = 0; c < p.c; ++c) {
        const auto& k = ch[static_cast<std::size_t>(c)];
        const real prop = name == "mean"  ? mean_error(m, k)
                          : name == "var" ? var_error(m, k)
                                          : k.invstd * invstd_rel_error(m, k, eps);
        b[static_cast<std::size_t>(c)] = static_cast<double>(final_rounding(t, e[c]) + m.K * prop);
      }
    } else if (name == "running_mean" || name == "running_var") {
      // section 4.5: r' = a*r + w*stat (w includes M/(M-1) for unbiased profiles)
      const bool onnx = p.prof == profile::onnx;
      const real a = onnx ? p.momentum : 1 - static_cast<real>(p.momentum);
      const real w0 = onnx ? 1 - static_cast<real>(p.momentum) : p.momentum;
      const std::vector<double>& r = inputs.at(name).values;
      for (int64_t c = 0; c < p.c; ++c) {
        const auto& k = ch[static_cast<std::size_t>(c)];
        const bool var = name == "running_var";
        const real w = var && !onnx ? w0 * m.M / (m.M - 1) : w0;
        const real stat = var ? k.var : k.mean;
        const real stat_err = var ? var_error(m, k) + final_rounding(p.param_type, k.var) : mean_used(k);
        const real prop = std::fabs(w) * stat_err + 3 * m.ua * (std::fabs(a * r[c]) + std::fabs(w * stat));
        b[static_cast<std::size_t>(c)] = static_cast<double>(final_rounding(t, e[c]) + m.K * prop);
      }
    } else if (name == "y") {
      const bool inference = p.op == op_kind::forward_inference;
      const std::vector<double>& beta = inputs.at("beta").values;
      for (int64_t c = 0; c < p.c; ++c) {
        const auto& k = ch[static_cast<std::size_t>(c)];
        const real g = std::fabs(static_cast<real>(gamma[c])), bt = std::fabs(static_cast<real>(beta[c]));
        // Statistics used for y and their errors: running ones are exact inputs.
        real mu = k.mean, s = k.invstd, dmu = mean_used(k), ds = invstd_used(k);
        if (inference) {
          mu = inputs.at("running_mean").values[c];
          s = 1 / std::sqrt(static_cast<real>(inputs.at("running_var").values[c]) + eps);
          dmu = 0;
          ds = 3 * m.ua * s;
        }
        for (int64_t i = 0; i < p.n; ++i)
          for (int64_t sp = 0; sp < S; ++sp) {
            const auto o = static_cast<std::size_t>(offset(p, i, c, sp));
            if (!inference && k.constant) {  // section 6: y must be beta, rounded once
              b[o] = std::fabs(round_to(t, e[o]) - e[o]);
              continue;
            }
            const real xv = x[o], d = std::fabs(xv - mu);
            // section 4.6: statistics' errors (with their product), the elementwise roundings of
            // (x - mu)*s*gamma + beta, and of the folded form (gamma*s)*x + (beta - gamma*s*mu).
            const real prop = g * (s * dmu + d * ds + dmu * ds) + 4 * m.ua * (g * s * d + bt) +
                              2 * m.ua * g * s * (std::fabs(xv) + std::fabs(mu)) + m.eta * (g * s + g + 2);
            b[o] = static_cast<double>(final_rounding(t, e[o]) + m.K * prop);
          }
      }
    } else {  // backward: dbeta, dgamma, dx (section 5)
      for (int64_t c = 0; c < p.c; ++c) {
        const auto& k = ch[static_cast<std::size_t>(c)];
        // Saved statistics arrive rounded to the parameter format, or a kernel
        // recomputes them: either way these bounds hold (section 5.1).
        const real dmu = mean_used(k), ds = invstd_used(k);
        const real g = std::fabs(static_cast<real>(gamma[c]));
        const real e_dbeta = m.L * m.ua * k.sum_abs_dy + m.L * m.eta;
        // per-element error of xhat: s*dmu + |x - mu|*ds + 2u|xhat|, summed against |dy|
        real sum_dy_dxhat = 0;
        const std::vector<double>& dy = inputs.at("dy").values;
        for (int64_t i = 0; i < p.n; ++i)
          for (int64_t sp = 0; sp < S; ++sp) {
            const auto o = static_cast<std::size_t>(offset(p, i, c, sp));
            const real d = std::fabs(x[o] - k.mean);
            sum_dy_dxhat += std::fabs(static_cast<real>(dy[o])) * (k.invstd * dmu + d * ds + 2 * m.ua * d * k.invstd);
          }
        // The floor: L additions, and each of the M products dy*(x - mu)
        // (amplified by s when the sum is scaled afterwards) or dy*xhat
        // (docs/tolerances.md 5.2).
        const real e_dgamma =
            m.L * m.ua * k.sum_abs_dy_xhat + sum_dy_dxhat + (m.L + m.M * (k.invstd + 1)) * m.eta;
        if (name == "dbeta") {
          b[c] = static_cast<double>(final_rounding(t, e[c]) + m.K * e_dbeta);
        } else if (name == "dgamma") {
          b[c] = static_cast<double>(final_rounding(t, e[c]) + m.K * e_dgamma);
        } else {
          const real mdb = std::fabs(k.dbeta) / m.M, mdg = std::fabs(k.dgamma) / m.M;
          for (int64_t i = 0; i < p.n; ++i)
            for (int64_t sp = 0; sp < S; ++sp) {
              const auto o = static_cast<std::size_t>(offset(p, i, c, sp));
              const real d = std::fabs(x[o] - k.mean), xhat = d * k.invstd;
              const real dxhat = k.invstd * dmu + d * ds + 2 * m.ua * xhat;
              const real carried = std::fabs(static_cast<real>(dy[o])) + mdb + xhat * mdg;
              // section 5.3: error of gamma*s times the bracket, the bracket's
              // sums and xhat (the product xhat*dgamma with its cross term),
              // and four elementwise roundings.
              const real prop = g * ds * carried +
                                g * k.invstd * (e_dbeta / m.M + (xhat + dxhat) * e_dgamma / m.M + dxhat * mdg) +
                                4 * m.ua * g * k.invstd * carried + 4 * m.eta * (g * k.invstd + 1);
              b[o] = static_cast<double>(final_rounding(t, e[o]) + m.K * prop);
            }
        }
      }
    }
  }
  return out;
}

}  // namespace bncheck
