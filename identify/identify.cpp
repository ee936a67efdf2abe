// The probes of identify(): tiny problems whose conventions give distinct
// answers, run through the harness, and the classification of what came back.
//
// The convention probes use one channel and the batch x = {0, 1} (M = 2):
// mean 1/2, biased variance 1/4, unbiased 1/2; gamma = 2, beta = 1/2, so
// y = 1/2 -+ s. Every candidate value below differs from every other by more
// than 0.5 %, and the probes run in f32 or f64, so a relative tolerance of
// 1e-4 separates them with room for any rounding.
#include "identify/identify.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

#include "check/harness.hpp"
#include "core/dtype.hpp"
#include "core/tensor.hpp"

namespace bncheck::identify {
namespace {

constexpr double tolerance = 1e-4;
constexpr double probe_gamma = 2, probe_beta = 0.5, probe_rm = 4, probe_rv = 8, probe_momentum = 0.25;
constexpr double batch_mean = 0.5, biased_var = 0.25, unbiased_var = 0.5;
// Inference probe: running variance 9/16 with eps = 1 separates all four placements.
constexpr double inference_rm = 4, inference_rv = 0.5625;

bool near(double got, double want) { return std::abs(got - want) <= tolerance * std::max(1.0, std::abs(want)); }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

double inverse_std(eps_placement e, double var, double eps) {
  switch (e) {
    case eps_placement::inside_sqrt: return 1 / std::sqrt(var + eps);
    case eps_placement::outside_sqrt: return 1 / (std::sqrt(var) + eps);
    case eps_placement::omitted: return 1 / std::sqrt(var);
    case eps_placement::floor: return 1 / std::sqrt(std::max(var, eps));
    case eps_placement::unknown: break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

constexpr eps_placement placements[] = {eps_placement::inside_sqrt, eps_placement::outside_sqrt,
                                        eps_placement::omitted, eps_placement::floor};

using s_candidate = std::pair<eps_placement, variance_kind>;

// The (placement, variance) pairs whose s matches every (eps, s) observation.
std::vector<s_candidate> matching(const std::vector<std::pair<double, double>>& observations) {
  std::vector<s_candidate> out;
  for (eps_placement e : placements)
    for (variance_kind v : {variance_kind::biased, variance_kind::unbiased}) {
      bool all = true;
      for (const auto& [eps, s] : observations)
        all = all && near(s, inverse_std(e, v == variance_kind::biased ? biased_var : unbiased_var, eps));
      if (all) out.emplace_back(e, v);
    }
  return out;
}

tensor channel(const problem& p, const std::string& name, double v) {
  return tensor{type_of(p, name), shape_of(p, name), std::vector<double>(static_cast<std::size_t>(p.c), v)};
}

// The convention probe: one channel, x = {0, 1}, in the layout and formats of cfg.
problem probe_problem(const problem& cfg, op_kind op, double eps, profile prof) {
  problem p = cfg;
  p.op = op;
  p.n = 2, p.c = 1, p.d = 1, p.h = 1, p.w = 1;
  p.eps = eps;
  p.momentum = probe_momentum;
  p.prof = prof;
  return p;
}

tensor_map probe_inputs(const problem& p, double rm, double rv) {
  tensor_map in;
  in["x"] = tensor{type_of(p, "x"), shape_of(p, "x"), {0.0, 1.0}};
  in["gamma"] = channel(p, "gamma", probe_gamma);
  in["beta"] = channel(p, "beta", probe_beta);
  in["running_mean"] = channel(p, "running_mean", rm);
  in["running_var"] = channel(p, "running_var", rv);
  return in;
}

kernel_output run_probe(kernel& k, const problem& p, double rm = probe_rm, double rv = probe_rv) {
  return run_kernel(k, p, probe_inputs(p, rm, rv));
}

// Whether the kernel declared output `name` not produced.
bool declared(const kernel_output& o, const std::string& name) {
  const auto& np = o.result.not_produced;
  return std::find(np.begin(), np.end(), name) != np.end();
}

// The first value of an output; NaN (read as "not written") for an output
// the kernel declares it does not produce.
double first(const kernel_output& o, const std::string& name) {
  const auto it = o.got.find(name);
  return it == o.got.end() ? std::numeric_limits<double>::quiet_NaN() : it->second.values.at(0);
}

// y = 1/2 -+ gamma s / 2: the spread gives s, the midpoint beta.
std::pair<double, double> s_and_midpoint(const kernel_output& o) {
  const std::vector<double>& y = o.got.at("y").values;
  return {(y.at(1) - y.at(0)) / probe_gamma, (y.at(0) + y.at(1)) / 2};
}

// The first layout and formats in which forward_training runs, with the
// profile it accepted: the conventions are probed there. Wide formats only,
// so that the candidates stay apart.
std::optional<std::pair<problem, profile>> find_probe_config(kernel& k) {
  const std::pair<layout, std::pair<dtype, dtype>> configs[] = {
      {layout::nc, {dtype::f32, dtype::f32}},   {layout::nchw, {dtype::f32, dtype::f32}},
      {layout::nc, {dtype::f64, dtype::f64}},   {layout::nchw, {dtype::f64, dtype::f64}},
      {layout::nhwc, {dtype::f32, dtype::f32}}, {layout::ncdhw, {dtype::f32, dtype::f32}},
      {layout::ndhwc, {dtype::f32, dtype::f32}}, {layout::nc, {dtype::f64, dtype::f32}}};
  for (profile prof : {profile::pytorch, profile::onnx, profile::cudnn})
    for (const auto& [lay, formats] : configs) {
      problem cfg;
      cfg.lay = lay;
      cfg.data_type = formats.first;
      cfg.param_type = formats.second;
      if (run_probe(k, probe_problem(cfg, op_kind::forward_training, 1.0, prof)).result.status == kernel_status::ok)
        return std::make_pair(cfg, prof);
    }
  return std::nullopt;
}

normalization probe_normalization(const kernel_output& at1, const kernel_output& at16) {
  normalization n;
  const auto [s1, mid1] = s_and_midpoint(at1);
  const auto [s16, mid16] = s_and_midpoint(at16);
  n.affine_ok = near(mid1, probe_beta) && near(mid16, probe_beta);
  n.evidence = "s = " + num(s1) + " at eps = 1, " + num(s16) + " at eps = 1/16; midpoint of y " + num(mid1) +
               " (beta " + num(probe_beta) + ")";
  const std::vector<s_candidate> m = matching({{1.0, s1}, {1.0 / 16, s16}});
  if (m.size() == 1) {
    n.determined = true;
    n.eps = m[0].first;
    n.var = m[0].second;
  }
  return n;
}

saved_outputs probe_saved(const kernel_output& at1, const kernel_output& at16) {
  saved_outputs s;
  const double mean = first(at1, "mean"), var = first(at1, "var"), inv1 = first(at1, "invstd"),
               inv16 = first(at16, "invstd");
  s.mean = std::isnan(mean) ? written::not_written : near(mean, batch_mean) ? written::expected : written::other;
  if (declared(at1, "mean")) s.mean = written::not_produced;
  if (declared(at1, "var")) {
    s.var = written::not_produced;
  } else if (std::isnan(var)) {
    s.var = written::not_written;
  } else if (near(var, biased_var) || near(var, unbiased_var)) {
    s.var = written::expected;
    s.var_kind = near(var, biased_var) ? variance_kind::biased : variance_kind::unbiased;
  } else {
    s.var = written::other;
  }
  if (declared(at1, "invstd")) {
    s.invstd = written::not_produced;
  } else if (std::isnan(inv1) || std::isnan(inv16)) {
    s.invstd = written::not_written;
  } else if (const auto m = matching({{1.0, inv1}, {1.0 / 16, inv16}}); m.size() == 1) {
    s.invstd = written::expected;
    s.invstd_eps = m[0].first;
    s.invstd_var = m[0].second;
  } else {
    s.invstd = written::other;
  }
  s.evidence = "mean " + num(mean) + ", var " + num(var) + ", invstd " + num(inv1) + " (eps = 1) and " +
               num(inv16) + " (eps = 1/16)";
  return s;
}

// r' = a r + w stat: w from the mean (r = 4, stat = 1/2), then the variance
// the running_var update used, given that weight.
running_stats probe_running(kernel& k, const problem& cfg, profile prof) {
  running_stats r;
  r.prof = prof;
  const kernel_output o = run_probe(k, probe_problem(cfg, op_kind::forward_training, 1.0, prof));
  r.status = o.result.status;
  r.message = o.result.message;
  if (r.status != kernel_status::ok) return r;
  const double rm = first(o, "running_mean"), rv = first(o, "running_var");
  r.evidence = "running_mean " + num(probe_rm) + " -> " + num(rm) + ", running_var " + num(probe_rv) + " -> " +
               num(rv) + " (batch mean " + num(batch_mean) + ", variance " + num(biased_var) + " biased, " +
               num(unbiased_var) + " unbiased, momentum " + num(probe_momentum) + ")";
  r.produced = !declared(o, "running_mean") && !declared(o, "running_var");
  if (!r.produced) {
    r.evidence = "the kernel declares running_mean and running_var not produced";
    return r;
  }
  r.written = !std::isnan(rm) && !std::isnan(rv);
  r.updated = !(rm == probe_rm && rv == probe_rv);
  if (!r.written || !r.updated) return r;
  const double w = (probe_rm - rm) / (probe_rm - batch_mean);
  if (near(w, probe_momentum)) r.weight = momentum_weight::on_batch;
  if (near(w, 1 - probe_momentum)) r.weight = momentum_weight::on_running;
  if (r.weight == momentum_weight::unknown) return r;
  const double wv = r.weight == momentum_weight::on_batch ? probe_momentum : 1 - probe_momentum;
  const double v = (rv - (1 - wv) * probe_rv) / wv;
  if (near(v, biased_var)) r.var = variance_kind::biased;
  if (near(v, unbiased_var)) r.var = variance_kind::unbiased;
  return r;
}

// y = gamma (x - c) s + beta: c from y_0 = beta - gamma s c (x_0 = 0).
inference probe_inference(kernel& k, const problem& cfg) {
  inference in;
  const problem p = probe_problem(cfg, op_kind::forward_inference, 1.0, profile::pytorch);
  const kernel_output o = run_probe(k, p, inference_rm, inference_rv);
  if (o.result.status != kernel_status::ok) {
    in.evidence = o.result.message;
    return in;
  }
  const double s = (o.got.at("y").values.at(1) - o.got.at("y").values.at(0)) / probe_gamma;
  const double centre = (probe_beta - o.got.at("y").values.at(0)) / (probe_gamma * s);
  in.evidence = "centre " + num(centre) + " (running mean " + num(inference_rm) + ", batch mean " + num(batch_mean) +
                "), s = " + num(s) + " (running variance " + num(inference_rv) + ", eps = 1)";
  in.uses_running = near(centre, inference_rm);
  in.uses_batch = near(centre, batch_mean);
  in.determined = in.uses_running || in.uses_batch;
  if (in.uses_running)
    for (eps_placement e : placements)
      if (near(s, inverse_std(e, inference_rv, 1.0))) in.eps = e;
  return in;
}

// Eight equal x (0.1 rounded to the data format) in one channel.
tensor_map constant_inputs(const problem& p) {
  tensor_map in = probe_inputs(p, 0, 1);
  in["x"] = tensor{type_of(p, "x"), shape_of(p, "x"),
                   std::vector<double>(static_cast<std::size_t>(p.n), round_to(p.data_type, 0.1))};
  return in;
}

zero_variance probe_zero_variance(kernel& k, const problem& cfg, profile prof) {
  zero_variance z;
  problem p = probe_problem(cfg, op_kind::forward_training, 0.0, prof);
  p.n = 8;
  const kernel_output o = run_kernel(k, p, constant_inputs(p));
  z.status = o.result.status;
  z.message = o.result.message;
  if (z.status != kernel_status::ok) return z;
  const double invstd = first(o, "invstd");
  bool y_nan = true, y_beta = true;
  for (double y : o.got.at("y").values) {
    y_nan = y_nan && std::isnan(y);
    y_beta = y_beta && y == probe_beta;
  }
  if (y_nan && (std::isinf(invstd) || std::isnan(invstd))) z.result = zero_variance::kind::undefined;
  if (y_beta && invstd == 0) z.result = zero_variance::kind::guarded;
  z.evidence = (declared(o, "invstd") ? std::string("invstd not produced") : "invstd " + num(invstd)) + ", y[0] " +
               num(o.got.at("y").values.at(0)) + " (beta " + num(probe_beta) + ")";
  return z;
}

constant_channel probe_constant(kernel& k, const problem& cfg, profile prof) {
  constant_channel c;
  problem p = probe_problem(cfg, op_kind::forward_training, 1e-5, prof);
  p.n = 8;
  // beta with bits below those of gamma s x (about 63 here), so that a
  // folded beta - gamma s mu must round.
  const double beta = round_to(p.data_type, round_to(p.param_type, 0.3));
  tensor_map in = constant_inputs(p);
  in["beta"] = channel(p, "beta", beta);
  const kernel_output o = run_kernel(k, p, in);
  c.status = o.result.status;
  c.message = o.result.message;
  if (c.status != kernel_status::ok) return c;
  c.exact = true;
  for (double y : o.got.at("y").values) {
    c.exact = c.exact && y == beta;
    c.max_miss = std::max(c.max_miss, std::isnan(y) ? std::numeric_limits<double>::infinity() : std::abs(y - beta));
  }
  c.evidence = "eight x = " + num(round_to(p.data_type, 0.1)) + ", eps = 1e-05, gamma 2, beta " + num(beta) +
               ": max |y - beta| = " + num(c.max_miss);
  return c;
}

bool same(const tensor_map& a, const tensor_map& b) {
  for (const auto& [name, t] : a) {
    const auto it = b.find(name);
    if (it == b.end() || it->second.values.size() != t.values.size()) return false;
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      const double x = t.values[i], y = it->second.values[i];
      if (!(x == y || (std::isnan(x) && std::isnan(y))) || std::signbit(x) != std::signbit(y)) return false;
    }
  }
  return true;
}

// Each saved statistic perturbed alone (mean by a quarter of the spread, var
// times 4, invstd times 1/2); a statistic is read if any output changes.
backward_reads probe_backward(kernel& k, const problem& cfg) {
  backward_reads b;
  problem p = cfg;
  p.op = op_kind::backward;
  p.c = 2;
  p.d = 1;
  p.n = spatial_rank(p.lay) == 0 ? 8 : 2;  // M = 8
  p.h = p.w = spatial_rank(p.lay) == 0 ? 1 : 2;
  p.seed = 7;
  const test_case c = make_case(p);
  const kernel_output base = run_kernel(k, p, c.inputs);
  if (base.result.status != kernel_status::ok) {
    b.evidence = base.result.message;
    return b;
  }
  b.determined = true;
  auto changes = [&](const std::string& name, double add, double times) {
    tensor_map in = c.inputs;
    for (double& v : in.at(name).values) v = round_to(p.param_type, v * times + add);
    const kernel_output o = run_kernel(k, p, in);
    return o.result.status != kernel_status::ok || !same(base.got, o.got);
  };
  b.mean = changes("mean", 0.25, 1);
  b.var = changes("var", 0, 4);
  b.invstd = changes("invstd", 0, 0.5);
  b.evidence = "outputs (dx, dgamma, dbeta) change when perturbed: mean " + std::string(b.mean ? "yes" : "no") +
               ", var " + (b.var ? "yes" : "no") + ", invstd " + (b.invstd ? "yes" : "no");
  return b;
}

// Small problems for the support table: M = 4 or 8 over three channels.
problem support_problem(op_kind op, layout lay, dtype data, dtype param) {
  problem p;
  p.op = op;
  p.lay = lay;
  p.data_type = data;
  p.param_type = param;
  p.n = 2, p.c = 3;
  if (spatial_rank(lay) >= 2) p.h = p.w = 2;
  if (spatial_rank(lay) == 3) p.d = 2;
  if (spatial_rank(lay) == 0) p.n = 4;
  p.seed = 11;
  return p;
}

kernel_result try_problem(kernel& k, const problem& p) {
  const test_case c = make_case(p);
  return run_kernel(k, p, c.inputs).result;
}

}  // namespace

report identify(kernel& k) {
  report r;
  r.kernel = k.name();
  if (const auto found = find_probe_config(k)) {
    const auto& [cfg, prof] = *found;
    r.probe_config = std::string(to_string(cfg.lay)) + " " + std::string(to_string(cfg.data_type)) + ":" +
                     std::string(to_string(cfg.param_type)) + ", profile " + std::string(to_string(prof));
    const kernel_output at1 = run_probe(k, probe_problem(cfg, op_kind::forward_training, 1.0, prof));
    const kernel_output at16 = run_probe(k, probe_problem(cfg, op_kind::forward_training, 1.0 / 16, prof));
    if (at16.result.status == kernel_status::ok) {
      r.norm = probe_normalization(at1, at16);
      r.saved = probe_saved(at1, at16);
    }
    for (profile each : {profile::onnx, profile::pytorch, profile::cudnn}) r.running.push_back(probe_running(k, cfg, each));
    r.infer = probe_inference(k, cfg);
    r.backward = probe_backward(k, cfg);
    r.eps0 = probe_zero_variance(k, cfg, prof);
    r.constant = probe_constant(k, cfg, prof);
  }
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (layout lay : {layout::nc, layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc})
      for (const auto& [data, param] : std::initializer_list<std::pair<dtype, dtype>>{
               {dtype::f64, dtype::f64}, {dtype::f64, dtype::f32}, {dtype::f32, dtype::f32},
               {dtype::f16, dtype::f32}, {dtype::bf16, dtype::f32}}) {
        const kernel_result res = try_problem(k, support_problem(op, lay, data, param));
        r.support.push_back({op, lay, data, param, res.status, res.message});
      }
  auto edge = [&](const std::string& name, problem p) {
    const kernel_result res = try_problem(k, p);
    r.edges.push_back({name, to_text(p), res.status, res.message});
  };
  problem eps0 = support_problem(op_kind::forward_training, layout::nchw, dtype::f32, dtype::f32);
  eps0.eps = 0;
  edge("eps = 0", eps0);
  problem one = support_problem(op_kind::forward_training, layout::nc, dtype::f32, dtype::f32);
  one.n = 1;
  edge("batch of one (M = 1)", one);
  problem one_sample = support_problem(op_kind::forward_training, layout::nchw, dtype::f32, dtype::f32);
  one_sample.n = 1;
  edge("one sample, M = 4 (nchw)", one_sample);
  one_sample.op = op_kind::backward;
  edge("one sample, M = 4 (nchw), backward", one_sample);
  return r;
}

}  // namespace bncheck::identify
