// Input values: each channel of x (and dy) from a region plan, every value
// center + m * 2^exp with an integer mantissa m, rounded once into its format;
// gamma, beta and running statistics as small m * 2^e.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "core/dtype.hpp"
#include "properties/gen.hpp"

namespace bncheck::properties {
namespace {

// How one channel's values are built (region): center + m * 2^exp, |m| < 2^bits.
struct channel_plan {
  region kind = region::ordinary;
  double center = 0;
  int exp = 0;
  int bits = 0;  // 0: every value is the center
};

int ceil_log2(int64_t v) { return v <= 1 ? 0 : std::bit_width(static_cast<uint64_t>(v - 1)); }

// Largest E with 2^E finite in t; values are kept below 2^(E+1).
int max_exponent(dtype t) { return t == dtype::f64 ? 1023 : t == dtype::f16 ? 15 : 127; }

// center + m * 2^e rounded once into t; a value beyond the range becomes the
// largest finite one of its sign (inputs must be finite: the reference rejects
// anything else).
double compose(dtype t, double center, int64_t m, int e) {
  const double v = center + std::ldexp(static_cast<double>(m), e);
  const double r = round_to(t, v);
  return std::isinf(r) ? std::copysign(max_finite(t), v) : r;
}

int relative_weight(region r) {
  switch (r) {
    case region::ordinary: return 5;
    case region::offset: return 4;
    case region::constant: return 2;
    case region::exact: return 2;
    default: return 1;
  }
}

// Regions that make sense for a tensor of format t in problem p: subnormal
// data only with eps >= 2^-60 in every format but f16 (their variance
// underflows the accumulation format; with a tiny eps that would demand more
// than the model's arithmetic); exact and near-overflow only for x, and
// near-overflow only where the parameter format's range holds the data's.
std::vector<std::pair<int, region>> usable(const problem& p, dtype t, const std::vector<region>& allowed,
                                           bool is_x) {
  std::vector<std::pair<int, region>> out;
  for (region r : allowed) {
    if (r == region::subnormal && t != dtype::f16 && p.eps < std::ldexp(1.0, -60)) continue;
    if ((r == region::exact || r == region::near_overflow) && !is_x) continue;
    // f64 data near its top with f32 statistics: the mean itself overflows
    // the parameter format, not a meaningful problem.
    if (r == region::near_overflow && max_exponent(p.param_type) < max_exponent(t)) continue;
    out.emplace_back(relative_weight(r), r);
  }
  if (out.empty()) out.emplace_back(1, region::ordinary);
  return out;
}

// The exact region (benchdnn's trick): pairs mu - d, mu + d on the grid 2^exp
// with |mu| < 2^ba, |d| < 2^bd (in grid units). Every partial sum of x and of
// (x - mu)^2, in any order, is exact in the accumulation precision when
// B + max(ba, bd) + 1 <= p_acc and B + 2 bd <= p_acc (B = ceil(log2 M)); mu fits
// the parameter format (ba <= p_param) and, for M a power of two, so does the
// variance 2 sum(d^2)/M (B + 2 bd + 1 <= p_param).
channel_plan exact_plan(const problem& p, int size) {
  const int B = ceil_log2(reduction_size(p));
  const int p_acc = p.data_type == dtype::f64 ? 53 : 24;
  const int p_data = precision_bits(p.data_type), p_par = precision_bits(p.param_type);
  const int bd_max = std::clamp(std::min({(std::min(p_acc, p_par) - B - 1) / 2, p_data - 1, 6}), 0, 6);
  const int ba_max = std::clamp(std::min({p_acc - B - 2, p_data - 1, p_par, 12}), 0, 12);
  const int scale_bits = 1 + size / 10;
  channel_plan c;
  c.kind = region::exact;
  c.bits = *in_range(std::min(1, bd_max), std::min(bd_max, scale_bits), std::min(1, bd_max));
  const int ba = *in_range(0, std::min(ba_max, scale_bits), 0);
  const int64_t a = *in_range<int64_t>(-((int64_t{1} << ba) - 1), (int64_t{1} << ba) - 1, 0);
  // Magnitudes stay below 2^(max_exponent - 1) so the squares of f16 values fit in float32.
  const int top = std::max(ba, c.bits) + 1;
  const int e_hi = std::min(6, max_exponent(p.data_type) - 1 - top);
  c.exp = *in_range(std::min(-10, e_hi), e_hi, std::min(0, e_hi));
  c.center = std::ldexp(static_cast<double>(a), c.exp);
  return c;
}

channel_plan plan_for(const problem& p, dtype t, region kind, int size) {
  channel_plan c;
  c.kind = kind;
  const int emax = max_exponent(t);
  // Keeps center and spread (2^(exp + top)) inside the format's range.
  auto fit = [&](int top) { c.exp = std::min(c.exp, emax - top); };
  switch (kind) {
    case region::non_finite:  // ordinary values; channel_values places the non-finite ones
    case region::ordinary: {
      c.bits = *in_range(1, 1 + 9 * size / 100, 1);
      c.exp = *in_range(-8, 8, 0);
      const int a = *in_range(-15, 15, 0);
      fit(c.bits + 5);
      c.center = std::ldexp(a, c.exp + c.bits - 1);
      break;
    }
    case region::offset: {
      c.bits = *in_range(1, 8, 1);
      c.exp = *in_range(-8, 8, 0);
      const int shift = *in_range(4, 20, 4);  // center / spread up to 15 * 2^20 (> 1e6)
      const int a = *in_range(1, 15, 1) * *pick_of<int>({1, -1});
      fit(c.bits + shift + 4);
      c.center = std::ldexp(a, c.exp + c.bits + shift);
      break;
    }
    case region::tiny: {
      c.bits = *in_range(1, 8, 1);
      c.exp = *in_range(t == dtype::f16 ? -24 : -45, -14, -14);
      c.center = std::ldexp(*in_range(-3, 3, 0), c.exp + c.bits);
      break;
    }
    case region::constant: {
      c.exp = *in_range(-10, 10, 0);
      fit(12);
      c.center = std::ldexp(*in_range(-1024, 1024, 0), c.exp);
      break;
    }
    case region::exact: return exact_plan(p, size);
    case region::subnormal: {
      // Subnormals are m * 2^e_min with |m| < 2^(p-1): f16 2^-24, bf16
      // 2^-133, f32 2^-149, f64 2^-1074.
      c.exp = std::ilogb(denorm_min(t));
      c.bits = *in_range(1, precision_bits(t) - 1, 1);
      c.center = std::ldexp(*in_range(-1, 1, 0), c.exp + c.bits - 1);
      break;
    }
    case region::near_overflow: {
      const double sign = *pick_of<double>({1.0, -1.0});
      // A channel constant at the largest magnitude that keeps the folded
      // affine map |gamma| s |x| <= 2^(emax - 8) with s up to eps^-1/2
      // (|gamma| <= 8): a constant channel has s = eps^-1/2.
      const int limit = p.eps > 0 ? emax - 11 - static_cast<int>(std::ceil(-0.5 * std::log2(p.eps))) : emax - 1;
      const auto constant_top = [&] {
        c.center = sign * std::ldexp(*in_range(8, 15, 8), std::min(emax - 4, limit - 4));
        c.bits = 0;
      };
      if (t == dtype::f16) {  // 49152 .. 63488, spread up to 2^13 (clamped at 65504)
        c.center = sign * std::ldexp(*in_range(24, 31, 24), 11);
        c.exp = *in_range(5, 9, 5);
        c.bits = *in_range(1, 4, 1);
      } else if (t == dtype::f32 && reduction_size(p) > 1 && *pick<bool>({{1, false}, {2, true}})) {
        // Within two binades of float's overflow, of one sign, with a
        // relative spread of 2^-d (d in 2..22). The variance (up to 2^250)
        // is far beyond float: a kernel that forms it in float arithmetic
        // overflows (PyTorch PR #178123: invstd 0, y = beta). channel_values
        // puts center -+ spread/2 first, so the channel is never constant
        // and s |x| stays below 2^(d + 2) sqrt(M).
        const int d = *in_range(2, 22, 2);
        c.bits = *in_range(1, 8, 1);
        c.exp = emax - d - c.bits;
        c.center = sign * std::ldexp(*in_range(8, 13, 8), emax - 3);
      } else {
        // bf16 shares float32's range, and a correct kernel computes in float32
        // (u_a): a bf16 spread near 2^127 has a variance near 2^240, which the
        // model's float arithmetic need not hold. f64 has no wider format: a
        // spread near 2^1023 has a variance beyond any double. So these
        // channels are constant, as large as the folded affine map allows.
        constant_top();
      }
      break;
    }
  }
  return c;
}

// The values of one channel (logical order: sample-major, then spatial).
std::vector<double> channel_values(dtype t, const channel_plan& c, int64_t m) {
  std::vector<double> v(static_cast<std::size_t>(m), compose(t, c.center, 0, 0));
  if (c.bits == 0) return v;
  const int64_t lim = (int64_t{1} << c.bits) - 1;
  if (c.kind == region::exact) {
    const auto d = *rc::gen::container<std::vector<int64_t>>(static_cast<std::size_t>(m / 2),
                                                             in_range<int64_t>(-lim, lim, 0));
    for (std::size_t j = 0; j < d.size(); ++j) {
      v[2 * j] = compose(t, c.center, -d[j], c.exp);
      v[2 * j + 1] = compose(t, c.center, d[j], c.exp);
    }
    return v;
  }
  const auto mant = *rc::gen::container<std::vector<int64_t>>(static_cast<std::size_t>(m),
                                                              in_range<int64_t>(-lim, lim, 0));
  for (std::size_t j = 0; j < mant.size(); ++j) v[j] = compose(t, c.center, mant[j], c.exp);
  if (c.kind == region::non_finite) {
    // One or two values (of the channel's M) NaN, +inf or -inf: the
    // channel's outputs are undefined and must come out non-finite
    // (docs/tolerances.md 9); shrinks toward one NaN at the first element.
    const double inf = std::numeric_limits<double>::infinity();
    const int64_t k = *in_range<int64_t>(1, std::min<int64_t>(2, m), 1);
    for (int64_t j = 0; j < k; ++j)
      v[static_cast<std::size_t>(*in_range<int64_t>(0, m - 1, 0))] =
          *pick_of<double>({std::numeric_limits<double>::quiet_NaN(), inf, -inf});
  }
  if (c.kind == region::near_overflow && t == dtype::f32 && m > 1) {
    // Never constant (plan_for): the first two values are center -+ 2^(exp + bits - 1).
    const int64_t half = int64_t{1} << (c.bits - 1);
    v[0] = compose(t, c.center, -half, c.exp);
    v[1] = compose(t, c.center, half, c.exp);
  }
  return v;
}

// A data tensor (x or dy) of p, channel by channel; returns the plans used.
std::vector<channel_plan> data_tensor(const problem& p, const std::vector<region>& allowed, bool is_x,
                                      int size, tensor& out) {
  const dtype t = p.data_type;
  out = tensor{t, data_shape(p), std::vector<double>(static_cast<std::size_t>(element_count(p)))};
  const int64_t S = spatial_size(p), M = reduction_size(p);
  std::vector<channel_plan> plans;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const region kind = *pick(usable(p, t, allowed, is_x));
    plans.push_back(plan_for(p, t, kind, size));
    const std::vector<double> v = channel_values(t, plans.back(), M);
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s)
        out.values[static_cast<std::size_t>(offset(p, i, ch, s))] = v[static_cast<std::size_t>(i * S + s)];
  }
  return plans;
}

// Per-channel parameters m * 2^e with m in [lo, hi] (shrinking toward target)
// and e in [elo, ehi] (toward 0), in the parameter format.
tensor small_params(const problem& p, int lo, int hi, int target, int elo, int ehi) {
  tensor t{p.param_type, {p.c}, {}};
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const int m = *in_range(lo, hi, target);
    t.values.push_back(round_to(p.param_type, std::ldexp(m, *in_range(elo, ehi, 0))));
  }
  return t;
}

// Running statistics for inference near each channel's own scale, so that
// (x - running_mean) / sqrt(running_var + eps) stays moderate and y finite.
void inference_stats(const problem& p, const std::vector<channel_plan>& plans, tensor& rm, tensor& rv) {
  rm = tensor{p.param_type, {p.c}, {}};
  rv = tensor{p.param_type, {p.c}, {}};
  const dtype t = p.param_type;
  for (const channel_plan& c : plans) {
    // Capped at 2^50 so that running_var stays far inside float32's range.
    const int scale_exp = std::min(50, c.bits > 0      ? c.exp + c.bits
                                       : c.center != 0 ? std::ilogb(c.center) - 6
                                                       : 0);
    const double r = std::ldexp(*in_range(-4, 4, 0), scale_exp - 2);
    double mean = round_to(t, c.center + r);
    if (std::isinf(mean)) mean = std::copysign(max_finite(t), mean);
    double var = round_to(t, std::ldexp(*in_range(1, 16, 8), 2 * scale_exp - 6));
    if (std::isinf(var)) var = max_finite(t);
    if (var == 0 && p.eps == 0) var = denorm_min(t);
    rm.values.push_back(mean);
    rv.values.push_back(var);
  }
}

}  // namespace

rc::Gen<generated_case> gen_inputs(const problem& p, const problem_space& space) {
  return rc::gen::exec([p, space] {
    generated_case g;
    g.prob = p;
    if (from_fills(p)) {
      g.inputs = generate_inputs(p);
      g.regions.assign(static_cast<std::size_t>(p.c), p.x.a != 0 ? region::offset : region::ordinary);
      return g;
    }
    const int size = *rc::gen::withSize([](int z) { return rc::gen::just(z); });
    tensor x;
    const std::vector<channel_plan> plans = data_tensor(p, space.regions, true, size, x);
    for (const channel_plan& c : plans) g.regions.push_back(c.kind);
    g.inputs["x"] = std::move(x);
    g.inputs["gamma"] = small_params(p, -8, 8, 1, -3, 1);
    if (p.op == op_kind::backward) {
      tensor dy;
      std::vector<region> dy_regions{region::ordinary, region::offset, region::tiny, region::constant,
                                     region::subnormal};
      if (std::find(space.regions.begin(), space.regions.end(), region::non_finite) != space.regions.end())
        dy_regions.push_back(region::non_finite);
      std::erase_if(dy_regions, [&](region r) { return excluded(space.excluded_regions, r); });
      data_tensor(p, dy_regions, false, size, dy);
      g.inputs["dy"] = std::move(dy);
    } else {
      tensor beta = small_params(p, -16, 16, 0, -4, 4);
      if (*pick<bool>({{9, false}, {1, true}}))  // a large beta: y's rounding at a large magnitude
        for (double& b : beta.values) b = round_to(p.param_type, std::ldexp(b, *in_range(8, 20, 8)));
      g.inputs["beta"] = std::move(beta);
      if (p.op == op_kind::forward_inference) {
        inference_stats(p, plans, g.inputs["running_mean"], g.inputs["running_var"]);
      } else {
        g.inputs["running_mean"] = small_params(p, -16, 16, 0, -4, 4);
        g.inputs["running_var"] = small_params(p, 0, 16, 1, -4, 4);
      }
    }
    mark_explicit(g.prob, g.inputs);
    return g;
  });
}

}  // namespace bncheck::properties
