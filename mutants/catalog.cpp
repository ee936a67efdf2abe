// The catalog of deliberately broken kernels and of correct controls: each is
// the plain kernel (plain_kernel.hpp) with a named faults value. A mutant
// turns exactly one knob of the correct default to a bug.
#include "mutants/catalog.hpp"

#include "mutants/naive_variance.hpp"
#include "mutants/plain_kernel.hpp"

namespace bncheck::mutants {
namespace {

struct named_faults {
  const char* name;
  const char* description;
  faults f;
};

const std::vector<named_faults>& mutants() {
  static const std::vector<named_faults> all = {
      // Statistics.
      {"naive_variance", "variance as E[x^2] - E[x]^2 in one pass (float32 for f32/f16/bf16 data): cancels at large offsets",
       {.moments = moments_algo::one_pass}},
      {"unbiased_normalization", "normalizes with the unbiased variance M2/(M-1) instead of the biased M2/M",
       {.unbiased_normalization = true}},
      {"biased_via_unbiased", "computes M2/(M-1) first and the biased variance as that times (M-1)/M: NaN for a batch of one",
       {.moments = moments_algo::via_unbiased}},
      {"eps_outside_sqrt", "invstd = 1/(sqrt(var) + eps) instead of 1/sqrt(var + eps)", {.eps = eps_use::outside}},
      {"eps_omitted", "invstd = 1/sqrt(var): eps left out", {.eps = eps_use::omitted}},
      {"eps_as_floor", "invstd = 1/sqrt(max(var, eps)): eps as a floor instead of an addend", {.eps = eps_use::floor}},
      {"invstd_zero_guard", "writes invstd = 0 where var + eps is 0 (eps = 0, constant channel): y = beta instead of the undefined NaN",
       {.eps = eps_use::guard_zero}},
      {"reduction_skips_last", "reduction loops stop one element early (j < M - 1) but still divide by M",
       {.reduce = reduction_set::skip_last}},
      {"per_sample_statistics", "statistics per (sample, channel) over spatial positions (instance norm) instead of over the batch",
       {.reduce = reduction_set::per_sample}},
      {"depth_ignored", "3-D layouts reduced as if d were 1: statistics from depth slice 0 only, every element normalized",
       {.reduce = reduction_set::first_depth_slice}},
      // Precision and order of accumulation.
      {"f16_accumulation", "sums of f16 data accumulated in f16 (every partial sum rounded to half)",
       {.arith = precision::f16_sums}},
      {"f32_math_for_f64", "f64 data computed in float32 arithmetic", {.arith = precision::f32}},
      {"variance_overflows_float", "statistics of float data kept in float even where the variance is beyond float (PyTorch PR #178123: invstd 0, y = beta at |x| ~ 1e30)",
       {.range_fallback = false}},
      {"sequential_f32_sum", "every sum (of x - x0, (x - mu)^2, dy, dy xhat) one left-to-right running sum over the whole channel, float32 for f32/f16/bf16 data: no blocking, no compensation",
       {.order = sum_order::sequential}},
      {"welford_sequential_f32", "Welford's update over the whole channel in one sequence (float32 for f32/f16/bf16 data), no blocking",
       {.moments = moments_algo::welford_sequential}},
      {"dbeta_sequential_f32", "dbeta as one left-to-right running sum of dy (float32 for f32/f16/bf16 data), no blocking or compensation",
       {.dbeta_sequential = true}},
      // Elementwise forward.
      {"beta_subtracted", "y = gamma xhat - beta instead of + beta", {.affine = affine_form::beta_subtracted}},
      {"gamma_on_beta", "y = gamma (xhat + beta): gamma applied to beta too", {.affine = affine_form::gamma_on_beta}},
      {"mean_subtracted_twice", "y = gamma (x - 2 mu) s + beta: the mean subtracted from already centred data",
       {.affine = affine_form::mean_twice}},
      {"folded_unshifted", "folded y = (gamma s) x + (beta - gamma s mu) as PyTorch's CPU kernel: within the bounds, but a constant channel misses beta by ulps of gamma s mu",
       {.affine = affine_form::folded}},
      {"y_through_f16", "y rounded to f16 before being stored as the data format (f32/f64 data lose precision)",
       {.y_through = dtype::f16}},
      {"y_through_bf16", "y rounded to bf16 before being stored as the data format (double rounding for f32/f64 data)",
       {.y_through = dtype::bf16}},
      // Saved and running statistics, inference.
      {"saved_stats_swapped", "writes invstd into the saved var and var into the saved invstd", {.saved_swapped = true}},
      {"momentum_reversed", "pytorch/cudnn running stats with onnx weights: m r + (1-m) stat instead of (1-m) r + m stat",
       {.running = running_update::onnx_weights}},
      {"running_var_bias_swapped", "running variance unbiased for onnx and biased for pytorch/cudnn",
       {.running = running_update::bias_swapped}},
      {"running_stats_not_updated", "forward_training leaves running_mean and running_var unchanged",
       {.running = running_update::none}},
      {"running_stats_swapped", "running_mean updated with the variance and running_var with the mean",
       {.running = running_update::stats_swapped}},
      {"batch_one_zero_running_var", "unbiased running variance as M2/max(M-1, 1): a number (0 contribution) instead of NaN for a batch of one",
       {.running = running_update::bessel_clamped}},
      {"stats_selected_by_blend", "training selects its statistics as t batch + (1-t) running with t = 1 (a branchless select): y is NaN where an incoming running statistic is NaN or inf (ONNX Runtime #29790's class: training y depending on what it must not)",
       {.stats_selected_by_blend = true}},
      {"inference_uses_batch_stats", "forward_inference normalizes with the batch statistics instead of the running ones",
       {.inference_batch_stats = true}},
      // Backward.
      {"dx_without_stat_terms", "dx = gamma s dy: the terms through the mean and the variance dropped",
       {.dx = dx_form::dy_only}},
      {"dx_xhat_sign", "dx = gamma s (dy - dbeta/M + xhat dgamma/M): sign of the variance term flipped",
       {.dx = dx_form::xhat_sign}},
      {"dx_ignores_gamma", "dx = s (dy - dbeta/M - xhat dgamma/M): gamma left out", {.dx = dx_form::without_gamma}},
      {"dgamma_without_xhat", "dgamma = sum(dy x) instead of sum(dy xhat) (and dx built from it)", {.dgamma_raw_x = true}},
      {"backward_var_as_invstd", "backward reads the saved var where it means the saved invstd", {.var_as_invstd = true}},
      {"dparams_first_sample", "dbeta and dgamma summed over sample 0 only, not over the batch (and dx built from them)",
       {.params_first_sample = true}},
      // Memory.
      {"nhwc_read_as_nchw", "channel-last data (nhwc, ndhwc) indexed with the channel-first formula", {.index = indexing::channel_first}},
      {"channel_stride_w", "channel-first layouts with channel stride w instead of d*h*w", {.index = indexing::stride_w}},
      {"index_wrap_4096", "element offsets wrap at 2^12 (a narrow index type; stands in for int32 overflow past 2^31 elements at a size tests can allocate)",
       {.index = indexing::wrap_12bit}},
      {"last_channel_unwritten", "the channel loop stops one short: the last channel's outputs are never written",
       {.last_channel_skipped = true}},
      {"channel_groups_rounded_down", "channels in groups of 64, the group count rounded down: above 64 channels the partial last group is never processed (apex #1768's C = 65)",
       {.channel_groups_of_64 = true}},
      {"tail_unwritten", "y and dx written in vectors of 8 over memory without the remainder loop: the last count % 8 elements stay unwritten",
       {.tail_skipped = true}},
      // Merging shards (SyncBatchNorm).
      {"merge_equal_weights", "shards merged with equal weights, whatever their sizes: the mean of the shard means and of the shard variances (PyTorch #22192)",
       {.merge = merge_algo::equal_weights}},
      {"merge_without_between_term", "merged M2 = sum of the shards' M2: the spread of the shard means around the batch mean dropped",
       {.merge = merge_algo::without_between}},
      // Storage (mixed formats and channel slices).
      {"x_read_with_dy_storage", "backward reads x with dy's storage (format and channel slice) when they differ: PyTorch #64039, whose channels-last backward read a contiguous x as channels-last",
       {.x_with_dy_storage = true}},
      {"slice_read_as_dense", "an input (x, dy) that is a channel slice of a wider tensor is read as if dense in its format (strides from c, not from the wider tensor's channels): PyTorch #133520's class",
       {.slice_as_dense = true}},
      // Non-finite data.
      {"nan_skipped", "forward_training's reductions skip NaN values of x, as nanmean (oneDNN PR #5370 lost NaNs): the channel's statistics and its other y come out finite instead of undefined",
       {.nan_skipped = true}},
  };
  return all;
}

const std::vector<named_faults>& controls() {
  static const std::vector<named_faults> all = {
      {"blocked_two_pass", "two-pass, sums left to right in blocks of 32 then blocks pairwise, float32 (double for f64 data), x shifted by its first value",
       {}},
      {"pairwise_two_pass", "two-pass, sums by recursive halving, float32 (double for f64 data), x shifted by its first value",
       {.order = sum_order::pairwise}},
      {"welford_chan", "Welford's update per block of 32 in float32 (double for f64 data), blocks merged pairwise by Chan's update; shards merged by Chan's update one after another",
       {.moments = moments_algo::welford_blocked, .merge = merge_algo::chan}},
      {"f64_accumulation", "two-pass with every operation in double, whatever the data format; blocked sums",
       {.arith = precision::f64}},
      {"folded_affine", "y = (gamma s)(x - k) + (beta - gamma s (mu - k)) in float32, k the channel's first value (PyTorch's fold, shifted)",
       {.affine = affine_form::folded_shifted}},
  };
  return all;
}

std::unique_ptr<kernel> make_from(const std::vector<named_faults>& list, const std::string& name) {
  for (const named_faults& e : list)
    if (name == e.name) return make_plain_kernel(e.name, e.f);
  return nullptr;
}

std::vector<entry> entries(const std::vector<named_faults>& list) {
  std::vector<entry> out;
  for (const named_faults& e : list) out.push_back({e.name, e.description});
  return out;
}

}  // namespace

std::vector<entry> mutant_catalog() { return entries(mutants()); }

std::unique_ptr<kernel> make_mutant(const std::string& name) { return make_from(mutants(), name); }

std::vector<std::string> mutant_names() {
  std::vector<std::string> out;
  for (const auto& e : mutants()) out.push_back(e.name);
  return out;
}

std::vector<entry> control_catalog() { return entries(controls()); }

std::unique_ptr<kernel> make_control(const std::string& name) { return make_from(controls(), name); }

std::unique_ptr<kernel> make_naive_variance() { return make_mutant("naive_variance"); }

}  // namespace bncheck::mutants
