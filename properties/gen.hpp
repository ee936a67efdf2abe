// RapidCheck generators for bncheck: problems, and input tensors whose values
// are built as integer mantissa x 2^exponent, so that they are exact in their
// format, shrink toward small integers and reach the hard regions
// (docs/properties.md, "Generators").
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/problem.hpp"
#include "core/tensor.hpp"

namespace bncheck::properties {

/// How the values of one channel are built: x = center + m * 2^exp with
/// integer mantissas |m| < 2^bits (docs/properties.md lists what each region
/// is for and its limits).
enum class region {
  ordinary,       ///< a few bits around a small center
  offset,         ///< center up to 2^20 (about 1e6) times the spread
  tiny,           ///< spread of 2^-45 .. 2^-14: far below sqrt(eps)
  constant,       ///< every value equal: variance exactly 0, y exactly beta
  exact,          ///< pairs x = mu -+ d with few bits: mean and variance exact in any order
  subnormal,      ///< subnormal values of the data format
  near_overflow,  ///< magnitudes near the data format's largest finite value
  /// ordinary values with one or two of them NaN, +inf or -inf (x and dy):
  /// drawn only where a property asks for it (agreement, gradient_agreement);
  /// relations between two runs mean nothing on undefined outputs
  non_finite,
};
std::string_view to_string(region r);
/// Every region, ordinary first (shrinking moves toward the front).
std::vector<region> all_regions();
/// The regions a problem_space draws by default: every one but non_finite.
std::vector<region> finite_regions();

/// The problems a property draws from.
struct problem_space {
  std::vector<op_kind> ops{op_kind::forward_training, op_kind::forward_inference, op_kind::backward};
  std::vector<layout> layouts{layout::nc, layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc};
  std::vector<dtype> data_types{dtype::f32, dtype::f64, dtype::f16, dtype::bf16};
  std::vector<dtype> param_types{dtype::f32, dtype::f64};
  std::vector<region> regions = finite_regions();  ///< what channels of x (and dy, where drawn there) may be
  int64_t max_elements = 512;     ///< cap on n*c*d*h*w of ordinary cases (reached at the largest size)
  int64_t max_reduction = 0;      ///< >= 2^18 allows rare long reductions up to this M (x from fills)
  int64_t min_batch = 1;          ///< smallest n
  bool power_of_two_sizes = false;  ///< n, d, h, w powers of two, so M is one
  /// 1 case in 50 (at sizes >= 30, max_elements >= 256) a wide schedule
  /// shape: C in 65..129, not a power of two but 96, odd reduction sizes
  /// 1..243, inputs from fills.
  bool wide_shapes = true;
  /// Also generate the problems where the model and our kernel are known to
  /// disagree (docs/properties.md, "Known gaps"): backward with eps = 0, f64
  /// data and f32 parameters. Off by default.
  bool known_model_gaps = false;
  /// Data types never drawn (a kernel's known deviation excludes them).
  std::vector<dtype> excluded_data_types;
  /// Whether a channel of x may be constant (every value equal, M = 1
  /// included); false drops region::constant and rejects any case with one.
  bool constant_channels = true;
  /// Regions no tensor is drawn from, x or dy (a kernel's known deviation).
  std::vector<std::string> excluded_regions;
  /// 1 ordinary case in this many gives its data tensors storages (each
  /// independently: the other format of its rank, a channel slice of a
  /// tensor with 1..3 more channels, or both); 0: never.
  int storage_one_in = 8;
};
/// Draws the storages of p's data tensors as problem_space::storage_one_in
/// describes, shrinking toward none (inside a RapidCheck generator).
void draw_storages(problem& p);
/// The region named s ("near_overflow", ...), if there is one.
std::optional<region> parse_region(std::string_view s);
/// Whether r is among the excluded region names.
bool excluded(const std::vector<std::string>& names, region r);

/// True when every value of channel ch of data tensor t is the same.
bool constant_channel(const problem& p, const std::vector<double>& t, int64_t ch);
/// Whether some channel of x holds one value only (M = 1 included).
bool has_constant_channel(const problem& p, const tensor& x);

/// One generated case before the reference sees it.
struct generated_case {
  problem prob;             ///< inputs given explicitly have fill 'file'
  tensor_map inputs;        ///< exactly generate_inputs(prob)'s names; every value exact in its format
  std::vector<region> regions;  ///< the region of each channel of x
};

/// Prints the problem text and every input's values (RapidCheck's counterexample).
void showValue(const generated_case& g, std::ostream& os);
/// "x = [1, 2, 3]" lines for every tensor of m (long ones cut after `limit` values).
std::string format_tensors(const tensor_map& m, std::size_t limit = 64);

/// An integer in [lo, hi] (inclusive, not scaled by size), shrinking toward target.
template <class T>
rc::Gen<T> in_range(T lo, T hi, T target);
/// One of the items, drawn with the given weights, shrinking toward the first.
template <class T>
rc::Gen<T> pick(std::vector<std::pair<int, T>> weighted);
/// One of the items with equal weights, shrinking toward the first.
template <class T>
rc::Gen<T> pick_of(std::vector<T> items);

/// eps: exact doubles in [0, 10]: 1e-5 most often, 0, tiny powers of two,
/// and arbitrary m * 2^e; shrinks toward 1e-5.
rc::Gen<double> gen_eps();
/// momentum: exact doubles in [0, 1]: 0.1, 0, 1 and m * 2^-k; shrinks toward 0.1.
rc::Gen<double> gen_momentum();
/// Sizes, op, layout, formats, eps, momentum, profile and seed. Long cases
/// (M >= 2^18) only when s.max_reduction allows, at sizes >= 50, 1 case in 25.
rc::Gen<problem> gen_problem(const problem_space& s);
/// The inputs of p: long reductions from fills (the problem text then
/// regenerates them); otherwise explicit values, x channel by channel from
/// the regions s allows.
rc::Gen<generated_case> gen_inputs(const problem& p, const problem_space& s);
/// gen_problem then gen_inputs, with shrink_case's shrinks after RapidCheck's own.
rc::Gen<generated_case> gen_case(const problem_space& s);
/// Shrinks of a whole case that stay inside s: each channel alone, the
/// spatial axes flattened into the batch (layout nc, the same statistics),
/// the first or second half of the samples, every sample dropped in turn.
rc::Seq<generated_case> shrink_case(const generated_case& g, const problem_space& s);

/// n*d*h*w at or above which a case counts as a long reduction.
inline constexpr int64_t long_reduction = int64_t{1} << 18;
/// The nightly run's longest reduction (bncheck run --nightly); from it on,
/// long cases include apex #1768's C = 65, 100 x 100 shape.
inline constexpr int64_t nightly_reduction = int64_t{1} << 20;
/// Channel counts above this are drawn only as wide schedule shapes (from fills).
inline constexpr int64_t wide_channels = 64;
/// True when p's inputs come from fills (a long reduction, or a wide shape).
bool from_fills(const problem& p);

/// Marks every input of m as given explicitly (fill 'file') in p.
void mark_explicit(problem& p, const tensor_map& m);

}  // namespace bncheck::properties

#include "properties/gen-inl.hpp"
