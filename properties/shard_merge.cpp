// Property: the statistics of a batch split into shards (the kernel run on
// each) and merged with Chan's parallel formula equal the full batch's exact
// statistics, within the shards' bounds propagated through the merge.
// Derivation: docs/properties.md, "shard_merge".
#include <algorithm>
#include <cmath>

#include "check/tolerance.hpp"
#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {
namespace {

// Samples [lo, hi) of a data tensor of p, as a tensor of the shard problem q.
tensor samples(const problem& p, const tensor& t, int64_t lo, const problem& q) {
  tensor out{t.type, data_shape(q), std::vector<double>(static_cast<std::size_t>(element_count(q)))};
  const int64_t S = spatial_size(p);
  for (int64_t i = 0; i < q.n; ++i)
    for (int64_t ch = 0; ch < p.c; ++ch)
      for (int64_t s = 0; s < S; ++s)
        out.values[static_cast<std::size_t>(offset(q, i, ch, s))] =
            t.values[static_cast<std::size_t>(offset(p, lo + i, ch, s))];
  return out;
}

// Bounds of the shard's mean and biased var around their exact values: the
// model's bounds do not depend on the profile, so they are taken for onnx,
// whose outputs include var; plus 2^-52 |r| for the reference's own rounding.
std::pair<std::vector<double>, std::vector<double>> stat_bounds(const test_case& c) {
  test_case twin = c;
  twin.prob.prof = profile::onnx;
  tensor var{dtype::f64, {c.prob.c}, {}};
  for (int64_t ch = 0; ch < c.prob.c; ++ch)
    var.values.push_back(to_double(var_of(stats_of(c.prob, c.inputs.at("x").values, ch))));
  twin.expected["var"] = var;
  const tensor_map b = tolerance_bounds(twin.prob, twin.inputs, twin.expected);
  std::pair<std::vector<double>, std::vector<double>> out{b.at("mean").values, b.at("var").values};
  for (int64_t ch = 0; ch < c.prob.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    out.first[u] += std::ldexp(std::fabs(c.expected.at("mean").values[u]), -52) + std::ldexp(1.0, -1074);
    out.second[u] += std::ldexp(std::fabs(var.values[u]), -52) + std::ldexp(1.0, -1074);
  }
  return out;
}

}  // namespace

void shard_merge(kernel& k, case_log& log, const limits& lim) {
  problem_space sp = space_of(lim, {op_kind::forward_training}, false);
  sp.min_batch = 2;
  const generated_case g = *gen_case(sp);
  const problem& p = g.prob;
  // Cut points in [1, n-1]: 1 to 3 of them, sorted, duplicates dropped.
  std::vector<int64_t> cuts;
  const int count = *in_range(1, 3, 1);
  for (int j = 0; j < count; ++j) cuts.push_back(*in_range<int64_t>(1, p.n - 1, 1));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  cuts.insert(cuts.begin(), 0);
  cuts.push_back(p.n);

  struct shard {
    int64_t size;  // reduction length M_s
    tensor_map got;
    std::vector<double> b_mean, b_var;
    test_case c;
  };
  std::vector<shard> shards;
  for (std::size_t j = 0; j + 1 < cuts.size(); ++j) {
    problem q = p;
    q.n = cuts[j + 1] - cuts[j];
    q.x = {fill_kind::file, 0, 0};
    tensor_map in = g.inputs;
    in["x"] = samples(p, g.inputs.at("x"), cuts[j], q);
    shard s{reduction_size(q), {}, {}, {}, build(q, in, log)};
    auto out = run(k, s.c, log, {"mean", "var"});
    if (!out) return;
    s.got = std::move(*out);
    std::tie(s.b_mean, s.b_var) = stat_bounds(s.c);
    // Near the top of f64 the model's bound on var (its E_mu^2 term) is
    // beyond double, and near float's top a shard's variance is beyond the
    // parameter format (its var is rightly infinite): either way the merged
    // relation has nothing finite to check.
    for (std::size_t u = 0; u < s.b_var.size(); ++u) {
      if (!std::isfinite(s.b_mean[u]) || !std::isfinite(s.b_var[u]))
        discard("a shard's bound on mean or var overflows double: the merge cannot be judged");
      const double v = to_double(var_of(stats_of(q, in.at("x").values, static_cast<int64_t>(u))));
      if (std::isfinite(v) && std::isinf(round_to(p.param_type, v)))
        discard("a shard's variance overflows the parameter format: the merge cannot be judged");
    }
    shards.push_back(std::move(s));
  }
  std::string text;
  for (std::size_t j = 0; j + 1 < cuts.size(); ++j) {
    if (j) text += ", ";
    text += std::to_string(cuts[j]) + ".." + std::to_string(cuts[j + 1] - 1);
  }
  checker chk("samples " + text + " as shards, their kernel mean and var merged (Chan) equal the full batch's exact "
              "statistics within the propagated shard bounds");
  const test_case whole{"", p, g.inputs, {}, {}};  // the report names the unsplit problem
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const auto u = static_cast<std::size_t>(ch);
    const reference::channel_stats full = stats_of(p, g.inputs.at("x").values, ch);
    const mpfr_float M = exact(static_cast<double>(full.m()));
    const mpfr_float mu = mean_of(full), var = var_of(full);
    // A = sum M_s mu_s, Q = sum M_s (v_s + mu_s^2): exact. Merged mean A/M and
    // variance (M Q - A^2)/M^2, each one rounding at work_bits.
    mpfr_float A = exact(0), Q = exact(0), b_mu = exact(0);
    bool finite = true;
    for (const shard& s : shards) {
      const double m_s = s.got.at("mean").values[u], v_s = s.got.at("var").values[u];
      if (!std::isfinite(m_s) || !std::isfinite(v_s)) {
        chk.equal("mean of a shard (channel " + std::to_string(ch) + ")", m_s, s.c.expected.at("mean").values[u]);
        finite = false;
        continue;
      }
      const mpfr_float Ms = exact(static_cast<double>(s.size));
      A = add(A, mul(Ms, exact(m_s)));
      Q = add(Q, mul(Ms, add(exact(v_s), mul(exact(m_s), exact(m_s)))));
      b_mu = add(b_mu, mul(Ms, exact(s.b_mean[u])));
    }
    if (!finite) continue;
    b_mu = div(b_mu, M);  // B_mu = sum M_s b_mu_s / M
    // B_var = (1/M) sum M_s [b_v_s + 2 |mu_s* - mu*| (b_mu_s + B_mu) + (b_mu_s + B_mu)^2]
    mpfr_float b_var = exact(0);
    for (const shard& s : shards) {
      const mpfr_float Ms = exact(static_cast<double>(s.size));
      const mpfr_float mu_s = mean_of(stats_of(s.c.prob, s.c.inputs.at("x").values, ch));
      const mpfr_float e = add(exact(s.b_mean[u]), b_mu);
      b_var = add(b_var, mul(Ms, add(add(exact(s.b_var[u]), mul(mul(exact(2), abs(sub(mu_s, mu))), e)), mul(e, e))));
    }
    b_var = div(b_var, M);
    const mpfr_float merged_mu = div(A, M);
    const mpfr_float merged_var = div(sub(mul(M, Q), mul(A, A)), mul(M, M));
    const mpfr_float grow = add(exact(1), work_margin());  // the bounds' own roundings at work_bits
    const std::string tag = '[' + std::to_string(ch) + ']';
    chk.near("merged mean" + tag, merged_mu, mu,
             add(mul(b_mu, grow), mul(work_margin(), add(abs(mu), abs(merged_mu)))));
    chk.near("merged var" + tag, merged_var, var,
             add(mul(b_var, grow), mul(work_margin(), add(abs(var), abs(merged_var)))));
  }
  chk.require(whole, k.name());
}

}  // namespace bncheck::properties
