// The knobs of the plain kernel (plain_kernel.hpp): the algorithm choices a
// batch-norm kernel makes and the ways each is commonly got wrong. A default
// faults value is a correct kernel; a mutant turns one knob to a bug, a
// control picks another correct algorithm.
#pragma once

#include <optional>

#include "core/problem.hpp"

namespace bncheck::mutants {

/// Precision of all arithmetic (sums, statistics, elementwise formulas).
enum class precision {
  working,   ///< float for f32, f16, bf16 data; double for f64 data (what the model requires)
  f64,       ///< double for every data format
  f32,       ///< float even for f64 data (a bug for f64)
  f16_sums,  ///< working, but sums of f16 data keep every partial sum in f16 (a bug)
};

/// Order in which a reduction adds its terms.
enum class sum_order {
  blocked,     ///< left to right inside blocks of faults::block terms, block sums added pairwise
  pairwise,    ///< recursive halving down to single terms
  sequential,  ///< one running sum over the whole channel (a bug for long reductions)
};

/// How the mean and the biased variance of a channel are computed.
enum class moments_algo {
  two_pass,            ///< mean, then the sum of squared deviations from it
  welford_blocked,     ///< Welford's update inside blocks of faults::block values, blocks merged pairwise (Chan et al.)
  welford_sequential,  ///< Welford's update over the whole channel
  one_pass,            ///< sum(x^2)/M - mean^2 (a bug: cancels when |mean| >> spread)
  via_unbiased,        ///< M2/(M-1) first, times (M-1)/M (a bug: NaN for M = 1)
};

/// Where eps enters the inverse standard deviation.
enum class eps_use {
  inside,      ///< 1/sqrt(var + eps)
  outside,     ///< 1/(sqrt(var) + eps)
  omitted,     ///< 1/sqrt(var)
  floor,       ///< 1/sqrt(max(var, eps))
  guard_zero,  ///< 1/sqrt(var + eps), but 0 where var + eps is 0 (hides the undefined result)
};

/// The elementwise forward formula; mu and s are the statistics in use.
enum class affine_form {
  plain,            ///< ((x - mu) s) gamma + beta
  folded_shifted,   ///< (gamma s)(x - k) + (beta - gamma s (mu - k)), k the channel's first value
  folded,           ///< (gamma s) x + (beta - gamma s mu)
  beta_subtracted,  ///< ((x - mu) s) gamma - beta
  gamma_on_beta,    ///< ((x - mu) s + beta) gamma
  mean_twice,       ///< ((x - mu - mu) s) gamma + beta
};

/// How an element (sample, channel, spatial position) is located in memory.
enum class indexing {
  correct,        ///< core's offset()
  channel_first,  ///< the channel-first formula for every layout (nhwc read as nchw)
  stride_w,       ///< channel-first with channel stride w instead of d*h*w
  wrap_12bit,     ///< offsets kept modulo 2^12 (a narrow index type that overflows)
};

/// Which elements a channel's reductions visit.
enum class reduction_set {
  all,                ///< the M = n*d*h*w elements of the channel
  skip_last,          ///< all but the last (loop bound off by one), still dividing by M
  first_depth_slice,  ///< 3-D layouts: only depth 0, as if d were 1
  per_sample,         ///< each sample's spatial positions separately (instance norm)
};

/// How forward_training updates the running statistics.
enum class running_update {
  per_profile,     ///< the profile's weights and variance (core/problem.hpp)
  onnx_weights,    ///< a r + (1-a) stat for every profile (pytorch's weights reversed)
  bias_swapped,    ///< unbiased variance for onnx, biased for pytorch and cudnn
  none,            ///< left as they were
  stats_swapped,   ///< the mean goes into running_var and the variance into running_mean
  bessel_clamped,  ///< unbiased variance as M2/max(M-1, 1): 0 instead of NaN for M = 1
};

/// The backward formula for dx, with xhat = (x - mu) s.
enum class dx_form {
  full,             ///< gamma s (dy - dbeta/M - xhat dgamma/M)
  dy_only,          ///< gamma s dy: the paths through mean and variance dropped
  xhat_sign,        ///< gamma s (dy - dbeta/M + xhat dgamma/M)
  without_gamma,    ///< s (dy - dbeta/M - xhat dgamma/M)
};

/// How merge_statistics combines the shards' (count, mean, M2) of a channel.
enum class merge_algo {
  weighted_sum,     ///< mean = sum n_i mu_i / N; M2 = sum M2_i + sum n_i (mu_i - mean)^2
  chan,             ///< Chan's update, shard after shard (PyTorch's and apex's SyncBatchNorm gather)
  equal_weights,    ///< mean of the shard means, mean of the shard variances (PyTorch #22192)
  without_between,  ///< M2 = sum M2_i: the spread of the shard means around the mean dropped
};

struct faults {
  // Arithmetic.
  precision arith = precision::working;
  sum_order order = sum_order::blocked;
  /// Terms per block of the blocked order and of blocked Welford. 32, not the
  /// 256 of many GPU kernels: the tolerance model budgets L = ceil(log2 M) + 1
  /// roundings per sum (docs/tolerances.md 2.2), and a sequential run of b
  /// float additions errs by about sqrt(b) u on random terms and by up to
  /// about b/4 u when its roundings are correlated (a constant dy; a shift
  /// whose low bits every term shares). Runs of 256 measured up to 2.2 times
  /// the bound on such problems; runs of 32 stayed within it.
  int block = 32;
  bool shift_first = true;  ///< subtract the channel's first value before summing x (constant channels stay exact)
  /// Float statistics that overflow although the data are finite (float data
  /// near float's top: a variance beyond float) are computed again in double
  /// for that channel, as a float kernel must (docs/properties.md, near_overflow).
  bool range_fallback = true;
  moments_algo moments = moments_algo::two_pass;
  // Forward.
  bool unbiased_normalization = false;  ///< normalize with M2/(M-1) instead of M2/M
  eps_use eps = eps_use::inside;
  affine_form affine = affine_form::plain;
  std::optional<dtype> y_through{};     ///< y rounded to this format before the data format
  bool saved_swapped = false;           ///< invstd written where var goes and var where invstd goes
  running_update running = running_update::per_profile;
  bool inference_batch_stats = false;   ///< inference normalizes with the batch statistics
  /// Training selects the statistics to normalize with by blending,
  /// t batch + (1 - t) running with t = 1, instead of a branch: exact while
  /// the running statistics are finite, NaN where one is NaN or infinite
  /// (0 * inf): y then depends on the incoming running statistics.
  bool stats_selected_by_blend = false;
  // Backward.
  dx_form dx = dx_form::full;
  bool dgamma_raw_x = false;            ///< dgamma = sum(dy x) instead of sum(dy xhat)
  bool var_as_invstd = false;           ///< reads the saved var where the saved invstd is meant
  bool dbeta_sequential = false;        ///< dbeta as one running sum, whatever order the rest uses
  bool params_first_sample = false;     ///< dbeta and dgamma summed over sample 0 only
  // Memory.
  indexing index = indexing::correct;
  /// Backward reads x with dy's storage (format and slice): PyTorch #64039,
  /// whose channels-last backward read x as channels-last when only dy was.
  bool x_with_dy_storage = false;
  /// An input data tensor (x, dy) in a channel slice read as if dense in
  /// its format: strides from c, not from the channels of the tensor it is
  /// a slice of (PyTorch #133520's class: a sliced input taken as contiguous).
  bool slice_as_dense = false;
  reduction_set reduce = reduction_set::all;
  bool last_channel_skipped = false;    ///< channel loop stops one short
  /// Channels in groups of 64 with the group count rounded down: above 64
  /// channels, a partial last group is never processed (the launch-grid bug
  /// class of NVIDIA apex #1768, C = 65).
  bool channel_groups_of_64 = false;
  bool tail_skipped = false;            ///< y and dx written 8 at a time in memory order, no remainder loop
  // Merging shards (merge_statistics).
  merge_algo merge = merge_algo::weighted_sum;
  // Non-finite data.
  /// forward_training's reductions drop NaN values of x and divide by the
  /// count of the rest, as nanmean does: a NaN no longer reaches its
  /// channel's statistics, nor y elsewhere in the channel (the bug class of
  /// oneDNN PR #5370, where bnorm+ReLU lost NaNs).
  bool nan_skipped = false;
};

}  // namespace bncheck::mutants
