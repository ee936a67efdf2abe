// The one problem description that flows through bncheck: generator ->
// reference -> kernel -> comparison -> report. Plain data; its canonical text
// form (problem_text.cpp) parses back to the same value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bncheck {

/// Which computation a problem asks for.
enum class op_kind {
  forward_training,   ///< y from batch statistics; saves stats; updates running stats
  forward_inference,  ///< y from the running statistics
  backward,           ///< dx, dgamma, dbeta from dy, using the batch statistics
  /// The batch statistics of a batch split into shards (SyncBatchNorm): from
  /// each shard's per-channel mean, M2 (sum of squared deviations) and count,
  /// the whole batch's mean, biased var and invstd. No data tensor: n is the
  /// number of shards, `shards` their counts (docs/properties.md, merge_statistics).
  merge_statistics,
};

/// Memory layout of x, y, dy, dx. Statistics are per channel over all other axes.
enum class layout {
  nc,     ///< batch x features (the B x d case)
  nchw,   ///< channel-first 2-D spatial
  nhwc,   ///< channel-last 2-D spatial
  ncdhw,  ///< channel-first 3-D spatial
  ndhwc,  ///< channel-last 3-D spatial
};

/// Floating-point storage formats.
enum class dtype { f64, f32, f16, bf16 };

/// Conventions for running statistics and saved values.
enum class profile {
  onnx,     ///< running = a*running + (1-a)*batch, biased variance; saves mean and var
  pytorch,  ///< running = (1-m)*running + m*batch, unbiased running var; saves mean and invstd
  cudnn,    ///< exponential average factor like pytorch, unbiased running var; saves mean and invstd
};

/// How an input tensor is filled. Values are generated deterministically from
/// the problem's seed (fill.cpp) and rounded once to the tensor's dtype.
enum class fill_kind {
  normal,   ///< a + b*z, z approximately standard normal (Irwin-Hall of 4 uniforms)
  uniform,  ///< uniform in [a, b)
  constant, ///< every element equals a
  file,     ///< values come from a golden case folder; not generatable
};

/// A non-finite value a fill places over its generated values.
enum class special_value : uint8_t { nan, inf, neg_inf };

/// One placed value: the element at flat index `index` (memory order of the
/// tensor) becomes NaN, +inf or -inf.
struct special_at {
  int64_t index = 0;
  special_value value = special_value::nan;
  friend bool operator==(const special_at&, const special_at&) = default;
};

/// The most non-finite values one fill may place ("a few", README).
inline constexpr int max_specials = 8;

struct fill_spec {
  fill_kind kind = fill_kind::normal;
  double a = 0.0;
  double b = 1.0;
  /// Non-finite values placed over the generated ones (text: ",nan@5,-inf@17"),
  /// indices strictly increasing; entries from count on are default.
  std::array<special_at, max_specials> specials{};
  int count = 0;
  friend bool operator==(const fill_spec&, const fill_spec&) = default;
};

/// Default fills for each input tensor.
inline constexpr fill_spec default_x_fill{fill_kind::normal, 0.0, 1.0};
inline constexpr fill_spec default_gamma_fill{fill_kind::uniform, 0.5, 2.0};
inline constexpr fill_spec default_beta_fill{fill_kind::uniform, -1.0, 1.0};
inline constexpr fill_spec default_dy_fill{fill_kind::normal, 0.0, 1.0};
inline constexpr fill_spec default_rmean_fill{fill_kind::normal, 0.0, 1.0};
inline constexpr fill_spec default_rvar_fill{fill_kind::uniform, 0.5, 2.0};
/// merge_statistics: each shard's mean, and its unbiased variance v (the
/// shard's M2 input is (count - 1) * |v|, so a shard of one value has M2 = 0).
inline constexpr fill_spec default_shard_mean_fill{fill_kind::normal, 0.0, 1.0};
inline constexpr fill_spec default_shard_var_fill{fill_kind::uniform, 0.5, 2.0};

/// How one data tensor (x, dy, y or dx) lies in memory when it is not dense
/// in the problem's layout (bug class 2, README "A problem, as text"): its
/// own memory format, and possibly channels [first, first + c) of a tensor
/// of `channels` channels in that format (a channel slice: a view whose
/// other channels are padding between its elements).
struct storage {
  /// The tensor's memory format, of the problem layout's spatial rank
  /// (nchw or nhwc for a 2-D problem); nullopt: the problem's layout.
  std::optional<layout> format;
  int64_t channels = 0;  ///< 0: not a slice (the tensor has exactly c channels)
  int64_t first = 0;     ///< first channel of the slice (0 when not a slice)
  friend bool operator==(const storage&, const storage&) = default;
};

/// The names of the data tensors: x, dy (inputs), y, dx (outputs).
inline constexpr const char* data_tensor_names[] = {"x", "dy", "y", "dx"};

struct problem {
  op_kind op = op_kind::forward_training;
  layout lay = layout::nchw;
  dtype data_type = dtype::f32;   ///< x, y, dy, dx
  dtype param_type = dtype::f32;  ///< gamma, beta, saved and running statistics: f32 or f64
  int64_t n = 1, c = 1, d = 1, h = 1, w = 1;  ///< d, h, w are 1 where the layout lacks them
  double eps = 1e-5;              ///< exact double; added inside the square root
  double momentum = 0.1;          ///< meaning depends on the profile (see profile)
  profile prof = profile::pytorch;
  uint64_t seed = 0;
  fill_spec x = default_x_fill;
  fill_spec gamma = default_gamma_fill;
  fill_spec beta = default_beta_fill;
  fill_spec dy = default_dy_fill;
  fill_spec running_mean = default_rmean_fill;
  fill_spec running_var = default_rvar_fill;
  /// merge_statistics only (empty otherwise): the number of values each of
  /// the n shards holds, each at least 1, their sum at most 2^53. No data of
  /// that size is made: the inputs are the shards' statistics.
  std::vector<int64_t> shards;
  fill_spec shard_mean = default_shard_mean_fill;
  fill_spec shard_var = default_shard_var_fill;
  /// Where x, dy, y and dx lie (text: x_storage=nhwc, y_storage=nchw,slice=3/8);
  /// default: dense in lay. Only the op's own data tensors may differ.
  storage x_storage, dy_storage, y_storage, dx_storage;

  friend bool operator==(const problem&, const problem&) = default;
};

/// The storage of data tensor `name` (x, dy, y, dx); throws std::invalid_argument for another name.
const storage& storage_of(const problem& p, std::string_view name);
storage& storage_of(problem& p, std::string_view name);
/// Whether `name` is a data tensor (x, dy, y, dx).
bool is_data_tensor(std::string_view name);
/// Whether op reads or writes data tensor `name` (forward: x, y; backward: x, dy, dx).
bool op_has_data_tensor(op_kind op, std::string_view name);
/// The memory format data tensor `name` lies in: its storage's, or p.lay.
layout format_of(const problem& p, std::string_view name);
/// Whether every data tensor is dense in p.lay (no storage set): what a
/// kernel that takes no strides requires.
bool dense_storage(const problem& p);

/// Where the elements of a data tensor lie, in elements: element (sample i,
/// channel ch, spatial position s) is at offset + i*n_stride + ch*c_stride +
/// s*s_stride of an allocation of span elements (spatial positions are
/// contiguous steps of s_stride in every format). For a tensor dense in
/// p.lay, offset is 0, span is element_count(p) and the address is offset().
struct placement {
  int64_t n_stride = 0, c_stride = 0, s_stride = 0;
  int64_t offset = 0;  ///< elements before element (0, 0, 0): the slice's first channel
  int64_t span = 0;    ///< elements of the whole allocation
  /// Offset of (i, ch, s) from element (0, 0, 0).
  int64_t at(int64_t i, int64_t ch, int64_t s) const { return i * n_stride + ch * c_stride + s * s_stride; }
};
/// The placement of data tensor `name` of p.
placement placement_of(const problem& p, std::string_view name);
/// The strides, in elements, of data tensor `name` for the logical axes
/// (N, C, [D,] [H, W]) of p's rank, from its placement: the C ABI's and
/// DLPack's order (bncheck_kernel.h's table for a dense tensor).
std::vector<int64_t> data_strides(const problem& p, std::string_view name);

/// The fill of input tensor `name` (x, dy, gamma, beta, running_mean,
/// running_var, shard_mean, shard_var); throws std::invalid_argument for a name without one.
fill_spec& fill_of(problem& p, const std::string& name);

/// The fill that makes input tensor `tensor` (x, dy, gamma, beta,
/// running_mean, running_var, shard_mean; shard_m2 is made from shard_var),
/// or null for a tensor no fill makes (saved statistics, shard_count).
const fill_spec* input_fill(const problem& p, const std::string& tensor);
/// Whether every fill of p can be generated (none is 'file'): then the text
/// form alone reproduces the problem's inputs.
bool generatable(const problem& p);

/// Number of spatial positions per (sample, channel): d*h*w.
int64_t spatial_size(const problem& p);
/// Reduction length per channel M = n*d*h*w.
int64_t reduction_size(const problem& p);
/// Elements of x: n*c*d*h*w.
int64_t element_count(const problem& p);
/// True for nc, nhwc, ndhwc: channels are the innermost (fastest) axis.
bool channel_last(layout l);
/// Number of spatial axes of a layout: 0 (nc), 2 (nchw, nhwc), 3 (ncdhw, ndhwc).
int spatial_rank(layout l);
/// The other memory format of l's spatial rank: nchw <-> nhwc, ncdhw <-> ndhwc; nc itself.
layout other_format(layout l);
/// The shape of x in memory order (C order), e.g. nhwc -> {n, h, w, c}.
std::vector<int64_t> data_shape(const problem& p);
/// Offset of element (sample i, channel ch, spatial position s) in x.
inline int64_t offset(const problem& p, int64_t i, int64_t ch, int64_t s) {
  const int64_t S = p.d * p.h * p.w;
  return (p.lay == layout::nc || p.lay == layout::nhwc || p.lay == layout::ndhwc)
             ? (i * S + s) * p.c + ch
             : (i * p.c + ch) * S + s;
}
/// Calls f(at, k) for every element (sample i, channel ch, spatial position
/// s) of a data tensor placed as g: at = g.at(i, ch, s), its offset from
/// element (0, 0, 0), and k = offset(p, i, ch, s), its index dense in p.lay.
template <class F>
void for_each_element(const problem& p, const placement& g, F&& f) {
  const int64_t S = p.d * p.h * p.w;
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t ch = 0; ch < p.c; ++ch)
      for (int64_t s = 0; s < S; ++s) f(g.at(i, ch, s), offset(p, i, ch, s));
}

/// Throws input_error if a fill places a non-finite value outside its
/// tensor (x, dy: element_count; the per-channel ones: c) or on a 'file'
/// fill, if sizes are non-positive, the parameter format is not f32 or f64, the layout lacks an axis that
/// is not 1, eps is NaN/negative/infinite, momentum is not finite, or the
/// element count overflows int64; for merge_statistics, unless the layout is
/// nc, data and parameter formats agree, and `shards` holds n counts, each at
/// least 1, summing to at most 2^53 (shards must be empty for other ops); or
/// if a storage is set on a tensor the op lacks, names a format of another
/// spatial rank, or a slice that does not fit (first + c <= channels).
void validate(const problem& p);

/// Canonical one-line text form, e.g.
///   fwd_training nchw f32:f32 mb2ic3ih4iw5 eps=1e-05 momentum=0.1 profile=pytorch seed=7
/// followed by any fill that differs from its default (x=normal:10000:1 ...).
/// Doubles are printed in the shortest form that reads back exactly.
std::string to_text(const problem& p);
/// Parses the text form (tokens in any order; missing ones take defaults).
/// Throws input_error on anything it does not understand. Validates.
problem parse_problem(std::string_view text);

std::string_view to_string(op_kind);
std::string_view to_string(layout);
std::string_view to_string(dtype);
std::string_view to_string(profile);
op_kind parse_op(std::string_view);
layout parse_layout(std::string_view);
dtype parse_dtype(std::string_view);
profile parse_profile(std::string_view);

/// Shortest decimal text that reads back as exactly v ("1e-05", "0.1", "-0").
std::string exact_decimal(double v);
/// C99 hex-float text of v ("0x1.4f8b588e368f1p-17").
std::string hex_float(double v);
/// Parses a decimal or hex-float double exactly (strtod); throws input_error.
double parse_double(std::string_view s);

}  // namespace bncheck
