// compute(): checks the inputs, evaluates every channel with the exact
// formulas of channel.hpp and proves each output's rounding to double with
// the Ziv driver of ziv.hpp, one channel at a time.
#include "reference/reference.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "reference/channel.hpp"

namespace bncheck::reference {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

// The named input, with the shape shape_of(p, name).
const tensor& require(const problem& p, const tensor_map& in, const std::string& name) {
  const auto it = in.find(name);
  if (it == in.end()) throw input_error("reference: input '" + name + "' is missing");
  const tensor& t = it->second;
  const std::vector<int64_t> want = shape_of(p, name);
  int64_t count = 1;
  for (int64_t d : want) count *= d;
  if (t.shape != want || static_cast<int64_t>(t.values.size()) != count)
    throw input_error("reference: input '" + name + "' has shape " + shape_text(t.shape) + " and " +
                      std::to_string(t.values.size()) + " values, expected shape " + shape_text(want));
  return t;
}

tensor output(const problem& p, const std::string& name) {
  tensor t;
  t.type = dtype::f64;
  t.shape = shape_of(p, name);
  int64_t count = 1;
  for (int64_t d : t.shape) count *= d;
  t.values.assign(static_cast<std::size_t>(count), std::numeric_limits<double>::quiet_NaN());
  return t;
}

// One channel of a data tensor, exactly, in channel order (sample, then spatial position).
std::vector<mpfr_float> gather(const problem& p, const tensor& t, int64_t ch) {
  const int64_t spatial = spatial_size(p);
  std::vector<mpfr_float> out;
  out.reserve(static_cast<std::size_t>(reduction_size(p)));
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t s = 0; s < spatial; ++s) out.push_back(exact_value(t.values[static_cast<std::size_t>(offset(p, i, ch, s))]));
  return out;
}

void scatter(const problem& p, const std::vector<double>& values, int64_t ch, tensor& t) {
  const int64_t spatial = spatial_size(p);
  std::size_t j = 0;
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t s = 0; s < spatial; ++s) t.values[static_cast<std::size_t>(offset(p, i, ch, s))] = values[j++];
}

mpfr_float param(const tensor& t, int64_t ch) { return exact_value(t.values[static_cast<std::size_t>(ch)]); }

// Proves the per-channel scalars produced by `parts` (a list of functions of q).
template <class... Fs>
std::vector<double> scalars(mpfr_prec_t p0, rounding_stats* stats, const Fs&... parts) {
  auto eval = [&](mpfr_prec_t q, std::vector<approx>& out) {
    out.clear();
    (out.push_back(parts(q)), ...);
  };
  return round_proven_all(eval, sizeof...(Fs), p0, stats);
}

void store(tensor_map& out, const char* name, int64_t ch, double v) {
  out.at(name).values[static_cast<std::size_t>(ch)] = v;
}

tensor_map forward_training(const problem& p, const tensor_map& in, rounding_stats* stats) {
  const tensor &x = require(p, in, "x"), &gamma = require(p, in, "gamma"), &beta = require(p, in, "beta");
  const tensor &rm = require(p, in, "running_mean"), &rv = require(p, in, "running_var");
  tensor_map out;
  for (const char* name : {"y", "mean", "var", "invstd", "running_mean", "running_var"}) out[name] = output(p, name);
  const int64_t m = reduction_size(p);
  const mpfr_prec_t p0 = initial_precision(m);
  // The unbiased running variance needs m > 1; with m = 1 it stays NaN.
  const bool unbiased_undefined = p.prof != profile::onnx && m == 1;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const training_channel t(gather(p, x, ch), param(gamma, ch), param(beta, ch), p.eps);
    scatter(p, round_proven_all([&](mpfr_prec_t q, std::vector<approx>& o) { t.y(q, o); }, m, p0, stats), ch,
            out.at("y"));
    const channel_stats& s = t.stats();
    const mpfr_float old_mean = param(rm, ch), old_var = param(rv, ch);
    const std::vector<double> v = scalars(
        p0, stats, [&](mpfr_prec_t q) { return s.mean(q); }, [&](mpfr_prec_t q) { return s.var(q); },
        [&](mpfr_prec_t q) { return s.invstd(q); },
        [&](mpfr_prec_t q) { return s.running_mean(q, old_mean, p.momentum, p.prof); });
    store(out, "mean", ch, v[0]);
    store(out, "var", ch, v[1]);
    store(out, "invstd", ch, v[2]);
    store(out, "running_mean", ch, v[3]);
    if (!unbiased_undefined)
      store(out, "running_var", ch,
            scalars(p0, stats, [&](mpfr_prec_t q) { return s.running_var(q, old_var, p.momentum, p.prof); })[0]);
  }
  return out;
}

tensor_map forward_inference(const problem& p, const tensor_map& in, rounding_stats* stats) {
  const tensor &x = require(p, in, "x"), &gamma = require(p, in, "gamma"), &beta = require(p, in, "beta");
  const tensor &rm = require(p, in, "running_mean"), &rv = require(p, in, "running_var");
  tensor_map out;
  out["y"] = output(p, "y");
  const int64_t m = reduction_size(p);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const inference_channel t(gather(p, x, ch), param(gamma, ch), param(beta, ch), param(rm, ch), param(rv, ch),
                              p.eps);
    scatter(p,
            round_proven_all([&](mpfr_prec_t q, std::vector<approx>& o) { t.y(q, o); }, m, initial_precision(m),
                             stats),
            ch, out.at("y"));
  }
  return out;
}

tensor_map backward(const problem& p, const tensor_map& in, rounding_stats* stats) {
  const tensor &x = require(p, in, "x"), &dy = require(p, in, "dy"), &gamma = require(p, in, "gamma");
  tensor_map out;
  for (const char* name : {"dx", "dgamma", "dbeta", "mean", "var", "invstd"}) out[name] = output(p, name);
  const int64_t m = reduction_size(p);
  const mpfr_prec_t p0 = initial_precision(m);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const backward_channel b(gather(p, x, ch), gather(p, dy, ch), param(gamma, ch), p.eps);
    scatter(p, round_proven_all([&](mpfr_prec_t q, std::vector<approx>& o) { b.dx(q, o); }, m, p0, stats), ch,
            out.at("dx"));
    const channel_stats& s = b.stats();
    const std::vector<double> v = scalars(
        p0, stats, [&](mpfr_prec_t q) { return b.dgamma(q); }, [&](mpfr_prec_t q) { return b.dbeta(q); },
        [&](mpfr_prec_t q) { return s.mean(q); }, [&](mpfr_prec_t q) { return s.var(q); },
        [&](mpfr_prec_t q) { return s.invstd(q); });
    const char* names[] = {"dgamma", "dbeta", "mean", "var", "invstd"};
    for (std::size_t k = 0; k < v.size(); ++k) store(out, names[k], ch, v[k]);
  }
  return out;
}

tensor_map merge_statistics(const problem& p, const tensor_map& in, rounding_stats* stats) {
  const tensor &count = require(p, in, "shard_count"), &mean = require(p, in, "shard_mean"),
               &m2 = require(p, in, "shard_m2");
  for (std::size_t i = 0; i < p.shards.size(); ++i)
    if (count.values[i] != static_cast<double>(p.shards[i]))
      throw input_error("reference: shard_count[" + std::to_string(i) + "] is " + exact_decimal(count.values[i]) +
                        ", the problem says " + std::to_string(p.shards[i]));
  for (std::size_t i = 0; i < m2.values.size(); ++i)
    if (m2.values[i] < 0)
      throw input_error("reference: shard_m2 holds a negative value at index " + std::to_string(i));
  tensor_map out;
  for (const char* name : {"mean", "var", "invstd"}) out[name] = output(p, name);
  int64_t total = 0;
  for (int64_t k : p.shards) total += k;
  const mpfr_prec_t p0 = initial_precision(total);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    std::vector<mpfr_float> means, m2s;
    for (int64_t i = 0; i < p.n; ++i) {
      means.push_back(exact_value(mean.values[static_cast<std::size_t>(i * p.c + ch)]));
      m2s.push_back(exact_value(m2.values[static_cast<std::size_t>(i * p.c + ch)]));
    }
    const merged_stats s(p.shards, means, m2s, p.eps);
    const std::vector<double> v = scalars(
        p0, stats, [&](mpfr_prec_t q) { return s.mean(q); }, [&](mpfr_prec_t q) { return s.var(q); },
        [&](mpfr_prec_t q) { return s.invstd(q); });
    store(out, "mean", ch, v[0]);
    store(out, "var", ch, v[1]);
    store(out, "invstd", ch, v[2]);
  }
  return out;
}

}  // namespace

std::map<std::string, std::vector<bool>> undefined_outputs(const problem& p, const tensor_map& inputs) {
  const int64_t c = p.c, spatial = spatial_size(p);
  // Per channel: does input `name` hold a non-finite value there?
  auto channels = [&](const std::string& name) {
    std::vector<bool> bad(static_cast<std::size_t>(c), false);
    const auto it = inputs.find(name);
    if (it == inputs.end()) return bad;
    const std::vector<double>& v = it->second.values;
    if (static_cast<int64_t>(v.size()) == c) {
      for (int64_t ch = 0; ch < c; ++ch) bad[static_cast<std::size_t>(ch)] = !std::isfinite(v[static_cast<std::size_t>(ch)]);
      return bad;
    }
    if (static_cast<int64_t>(v.size()) != element_count(p)) return bad;
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t s = 0; s < spatial; ++s)
          if (!std::isfinite(v[static_cast<std::size_t>(offset(p, i, ch, s))])) bad[static_cast<std::size_t>(ch)] = true;
    return bad;
  };
  const auto either = [](std::vector<bool> a, const std::vector<bool>& b) {
    for (std::size_t k = 0; k < a.size(); ++k) a[k] = a[k] || b[k];
    return a;
  };
  // A per-channel flag spread over a data tensor's elements.
  const auto spread = [&](const std::vector<bool>& per_channel) {
    std::vector<bool> out(static_cast<std::size_t>(element_count(p)), false);
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t s = 0; s < spatial; ++s)
          out[static_cast<std::size_t>(offset(p, i, ch, s))] = per_channel[static_cast<std::size_t>(ch)];
    return out;
  };
  const std::vector<bool> x = channels("x"), gamma = channels("gamma");
  std::map<std::string, std::vector<bool>> out;
  switch (p.op) {
    case op_kind::forward_training: {
      const std::vector<bool> beta = channels("beta");
      out["y"] = spread(either(either(x, gamma), beta));
      out["mean"] = out["var"] = out["invstd"] = x;
      out["running_mean"] = either(x, channels("running_mean"));
      out["running_var"] = either(x, channels("running_var"));
      break;
    }
    case op_kind::forward_inference: {
      // y is elementwise here: a non-finite x reaches its own y only.
      std::vector<bool> y = spread(either(either(either(gamma, channels("beta")), channels("running_mean")),
                                          channels("running_var")));
      const auto it = inputs.find("x");
      if (it != inputs.end() && it->second.values.size() == y.size())
        for (std::size_t k = 0; k < y.size(); ++k) y[k] = y[k] || !std::isfinite(it->second.values[k]);
      out["y"] = std::move(y);
      break;
    }
    case op_kind::backward: {
      // dbeta = sum dy reads no x; dgamma = sum dy xhat and dx read both.
      const std::vector<bool> dy = channels("dy"), grads = either(x, dy);
      out["dbeta"] = dy;
      out["dgamma"] = grads;
      out["dx"] = spread(either(grads, gamma));
      out["mean"] = out["var"] = out["invstd"] = x;
      break;
    }
    case op_kind::merge_statistics:
      // shard_mean and shard_m2 are S x C, shard-major: element (s, ch) at
      // s C + ch, as nc with n = S. A channel's mean reads its S shard means;
      // its var and invstd read the means and the M2s.
      out["mean"] = channels("shard_mean");
      out["var"] = out["invstd"] = either(out["mean"], channels("shard_m2"));
      break;
  }
  return out;
}

tensor_map compute(const problem& p, const tensor_map& inputs, rounding_stats* stats) {
  validate(p);
  // Non-finite inputs (docs/reference.md, "Non-finite inputs"): the outputs
  // they reach are undefined, NaN. Everything else is computed exactly as
  // without them, from inputs where each non-finite value is replaced by 1
  // (a value the outputs computed from it never read: undefined_outputs
  // marks every output that reads it).
  const std::map<std::string, std::vector<bool>> undefined = undefined_outputs(p, inputs);
  bool any_undefined = false;
  for (const auto& [name, mask] : undefined)
    for (bool u : mask) any_undefined = any_undefined || u;
  tensor_map finite_inputs;
  if (any_undefined) {
    finite_inputs = inputs;
    for (auto& [name, t] : finite_inputs)
      for (double& v : t.values)
        if (!std::isfinite(v)) v = 1.0;
  }
  const tensor_map& in = any_undefined ? finite_inputs : inputs;
  tensor_map out;
  switch (p.op) {
    case op_kind::forward_training: out = forward_training(p, in, stats); break;
    case op_kind::forward_inference: out = forward_inference(p, in, stats); break;
    case op_kind::backward: out = backward(p, in, stats); break;
    case op_kind::merge_statistics: out = merge_statistics(p, in, stats); break;
  }
  for (const auto& [name, mask] : undefined) {
    std::vector<double>& v = out.at(name).values;
    for (std::size_t k = 0; k < mask.size() && k < v.size(); ++k)
      if (mask[k]) v[k] = std::numeric_limits<double>::quiet_NaN();
  }
  // An undefined value is one NaN, the positive quiet one, whatever operation
  // produced it (0*inf gives a negative NaN on x86): outputs are compared and
  // stored bit for bit.
  for (auto& [name, t] : out)
    for (double& v : t.values)
      if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace bncheck::reference
