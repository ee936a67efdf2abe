// The forward ops of the plain kernel, written as a textbook would: per
// channel, statistics of its group, then y = gamma (x - mu) s + beta element by
// element, in W arithmetic, each result rounded once to its storage format.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>
#include <utility>

#include "core/dtype.hpp"
#include "mutants/plain_parts.hpp"

namespace bncheck::mutants::plain {
namespace {

// s from a variance, with eps where f puts it.
template <class W>
W inverse_std(W var, const problem& p, const faults& f) {
  const W eps = static_cast<W>(p.eps);
  switch (f.eps) {
    case eps_use::inside: break;
    case eps_use::outside: return W(1) / (std::sqrt(var) + eps);
    case eps_use::omitted: return W(1) / std::sqrt(var);
    case eps_use::floor: return W(1) / std::sqrt(std::max(var, eps));
    case eps_use::guard_zero: {
      const W v = var + eps;
      return v > 0 ? W(1) / std::sqrt(v) : W(0);
    }
  }
  return W(1) / std::sqrt(var + eps);
}

// One y from x and the statistics in use (mu, s), gamma g, beta b; k is the
// shift of the folded form (the channel's first value, or 0). Folding about k
// instead of 0 keeps a constant channel exact: a*(x - k) = 0 and mu - k = 0.
template <class W>
W affine(W x, W mu, W s, W g, W b, W k, affine_form form) {
  switch (form) {
    case affine_form::plain: break;
    case affine_form::folded_shifted: {
      const W a = g * s;
      return a * (x - k) + (b - a * (mu - k));
    }
    case affine_form::folded: {
      const W a = g * s;
      return a * x + (b - a * mu);
    }
    case affine_form::beta_subtracted: return (x - mu) * s * g - b;
    case affine_form::gamma_on_beta: return ((x - mu) * s + b) * g;
    case affine_form::mean_twice: return (x - mu - mu) * s * g + b;
  }
  return (x - mu) * s * g + b;
}

template <class W>
void write_y(const kernel_io& io, const view& v, const faults& f, const group& grp, W mu, W s, W g, W b, W k) {
  for (int64_t off : grp.apply) {
    double y = affine(v.data<W>(io.x, off), mu, s, g, b, k, f.affine);
    if (f.y_through) y = round_to(*f.y_through, y);
    v.put_data(io.y, off, y);
  }
}

// Running statistics of channel c in place, r' = a r + w stat (core/problem.hpp):
// onnx (a, w) = (m, 1-m) with the biased variance; pytorch and cudnn
// (1-m, m) with the unbiased one, NaN for M = 1.
template <class W>
void update_running(const problem& p, const kernel_io& io, const view& v, const faults& f,
                    int64_t c, W mean, W var, W count) {
  if (f.running == running_update::none || !io.running_mean || !io.running_var) return;
  const W m = static_cast<W>(p.momentum);
  const bool onnx_weights = p.prof == profile::onnx || f.running == running_update::onnx_weights;
  const W a = onnx_weights ? m : 1 - m;
  const W w = onnx_weights ? 1 - m : m;
  const bool use_unbiased = (p.prof != profile::onnx) != (f.running == running_update::bias_swapped);
  W var_stat = var;
  if (use_unbiased)
    var_stat = f.running == running_update::bessel_clamped ? var * count / std::max(count - 1, W(1))
                                                           : unbiased(var, count);
  W mean_stat = mean;
  if (f.running == running_update::stats_swapped) std::swap(mean_stat, var_stat);
  const W rm = static_cast<W>(v.param(io.running_mean, c));
  const W rv = static_cast<W>(v.param(io.running_var, c));
  v.put_param(io.running_mean, c, a * rm + w * mean_stat);
  v.put_param(io.running_var, c, a * rv + w * var_stat);
}

}  // namespace

// Channel c of forward_training in W. With range_check, returns false (having
// written nothing of the group) where W's statistics overflow although the
// data are finite: the caller computes the channel again in double.
template <class W>
bool train_channel(const problem& p, const kernel_io& io, const view& v, const faults& f, accumulation acc,
                   int64_t c, bool range_check) {
  const auto g = static_cast<W>(v.param(io.gamma, c));
  const auto b = static_cast<W>(v.param(io.beta, c));
  stats<W> st;
  W used_var = 0, s = 0, count = 1;
  // Several groups only for per-sample statistics: the last one's are saved.
  for (const group& grp : v.groups(c)) {
    std::vector<W> xs = v.gather<W>(io.x, grp.reduce);
    count = static_cast<W>(grp.count);
    if (f.nan_skipped) {  // nanmean: the NaN values dropped, the rest counted
      std::erase_if(xs, [](W x) { return std::isnan(x); });
      count = static_cast<W>(xs.size());
    }
    st = moments(xs, count, f, acc);
    if (range_check && !(std::isfinite(st.mean) && std::isfinite(st.var)) &&
        std::all_of(xs.begin(), xs.end(), [](W x) { return std::isfinite(x); }))
      return false;
    if (f.stats_selected_by_blend) {
      const W t = 1;  // training: the batch's
      st.mean = t * st.mean + (1 - t) * static_cast<W>(v.param(io.running_mean, c));
      st.var = t * st.var + (1 - t) * static_cast<W>(v.param(io.running_var, c));
    }
    used_var = f.unbiased_normalization ? unbiased(st.var, count) : st.var;
    s = inverse_std(used_var, p, f);
    write_y(io, v, f, grp, st.mean, s, g, b, xs.empty() ? W(0) : xs.front());
  }
  v.put_param(io.mean, c, st.mean);
  v.put_param(f.saved_swapped ? io.invstd : io.var, c, used_var);
  v.put_param(f.saved_swapped ? io.var : io.invstd, c, s);
  update_running(p, io, v, f, c, st.mean, st.var, count);
  return true;
}

template <class W>
void forward_training(const problem& p, const kernel_io& io, const faults& f) {
  const view v(p, f, io);
  const accumulation acc = accumulation_for(p, f);
  const bool range_check = std::is_same_v<W, float> && f.range_fallback;
  for (int64_t c = 0; c < v.channels(); ++c)
    if (!train_channel<W>(p, io, v, f, acc, c, range_check)) train_channel<double>(p, io, v, f, acc, c, false);
}

// y = gamma (x - rm) / sqrt(rv + eps) + beta: the running statistics, or the
// batch's with inference_batch_stats. The folded form folds about 0 here.
// Channel c of forward_inference in W; with range_check, false (nothing
// written) where f64 running statistics do not fit W (a running variance
// beyond float): the caller computes the channel in double.
template <class W>
bool infer_channel(const problem& p, const kernel_io& io, const view& v, const faults& f, accumulation acc,
                   int64_t c, bool range_check) {
  const auto g = static_cast<W>(v.param(io.gamma, c));
  const auto b = static_cast<W>(v.param(io.beta, c));
  const double rm = v.param(io.running_mean, c), rv = v.param(io.running_var, c);
  if (range_check && std::isfinite(rm) && std::isfinite(rv) &&
      !(std::isfinite(static_cast<W>(rm)) && std::isfinite(static_cast<W>(rv))))
    return false;
  for (const group& grp : v.groups(c)) {
    stats<W> st{static_cast<W>(rm), static_cast<W>(rv)};
    if (f.inference_batch_stats) st = moments(v.gather<W>(io.x, grp.reduce), static_cast<W>(grp.count), f, acc);
    write_y(io, v, f, grp, st.mean, inverse_std(st.var, p, f), g, b, W(0));
  }
  return true;
}

template <class W>
void forward_inference(const problem& p, const kernel_io& io, const faults& f) {
  const view v(p, f, io);
  const accumulation acc = accumulation_for(p, f);
  const bool range_check = std::is_same_v<W, float> && f.range_fallback;
  for (int64_t c = 0; c < v.channels(); ++c)
    if (!infer_channel<W>(p, io, v, f, acc, c, range_check)) infer_channel<double>(p, io, v, f, acc, c, false);
}

template void forward_training<float>(const problem&, const kernel_io&, const faults&);
template void forward_training<double>(const problem&, const kernel_io&, const faults&);
template void forward_inference<float>(const problem&, const kernel_io&, const faults&);
template void forward_inference<double>(const problem&, const kernel_io&, const faults&);

}  // namespace bncheck::mutants::plain
