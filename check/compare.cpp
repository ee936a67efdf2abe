// Element-wise comparison against the tolerance model, keeping the worst.
#include "check/compare.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "check/tolerance.hpp"
#include "core/dtype.hpp"
#include "reference/reference.hpp"

namespace bncheck {
namespace {

constexpr std::size_t max_worst = 10;

// Spacing of format t at v: 2^(exponent(v) - p + 1), at least the smallest subnormal.
double ulp_at(dtype t, double v) {
  if (v == 0 || !std::isfinite(v)) return denorm_min(t);
  int e = 0;
  std::frexp(v, &e);
  return std::max(std::ldexp(1.0, e - precision_bits(t)), denorm_min(t));
}

// Normalized error: |got - expected| / bound; NaN and infinities must match exactly.
// Where format t overflows: the smallest magnitude that rounds to infinity
// to nearest, max_finite + half its ulp = (2 - 2^-p) 2^emax. In long double,
// which holds it exactly for f64 as well (docs/tolerances.md 3.1).
long double overflow_threshold(dtype t) {
  const int p = precision_bits(t);
  const int emax = std::ilogb(max_finite(t));
  return std::ldexp(2.0L - std::ldexp(1.0L, -p), emax);
}

// |got - expected| / bound, with a got of +-inf admitted where the exact
// value lies, within its bound, at or beyond the overflow threshold of the
// output's format t: there inf is what correct rounding gives
// (docs/tolerances.md 3.1). The result is then the distance from the exact
// value to the threshold in bounds (0 when the exact value is beyond it).
double normalized_error(double expected, double got, double bound, dtype t) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (std::isnan(expected)) return std::isnan(got) ? 0 : inf;
  if (std::isinf(got) && std::isfinite(expected) && std::signbit(got) == std::signbit(expected)) {
    const long double short_of = overflow_threshold(t) - std::fabs(static_cast<long double>(expected));
    if (short_of <= 0) return 0;
    if (short_of <= bound) return static_cast<double>(short_of / bound);
  }
  if (std::isnan(got) || std::isinf(expected) || std::isinf(got)) return got == expected ? 0 : inf;
  const double err = std::fabs(got - expected);
  if (err == 0) return 0;
  return bound > 0 ? err / bound : inf;
}


// The channel of element i of an output with n elements: the per-channel
// outputs hold c elements; y and dx are laid out like x.
int64_t channel_of(const problem& p, std::size_t n, int64_t i) {
  if (static_cast<int64_t>(n) == p.c) return i;
  return channel_last(p.lay) ? i % p.c : (i / spatial_size(p)) % p.c;
}

// The histogram's bin edges: 1e-6 .. 1e4.
constexpr double edges[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4};

}  // namespace

int histogram_bin(double n) {
  if (n == 0) return 0;
  if (!(n < edges[std::size(edges) - 1])) return histogram_bins - 1;  // NaN included
  return 1 + static_cast<int>(std::upper_bound(std::begin(edges), std::end(edges), n) - std::begin(edges));
}

std::string histogram_bin_label(int bin) {
  static const char* const labels[histogram_bins] = {"0",    "<1e-6", "1e-6", "1e-5", "1e-4", "1e-3", "1e-2",
                                                     "1e-1", "1",     "1e1",  "1e2",  "1e3",  "1e4+"};
  return bin >= 0 && bin < histogram_bins ? labels[bin] : "?";
}

check_result compare(const test_case& c, const tensor_map& got, const std::vector<std::string>& not_produced) {
  check_result r;
  const tensor_map bounds = tolerance_bounds(c.prob, c.inputs, c.expected);
  // Elements whose exact value reads a non-finite input: undefined, and the
  // kernel must say so with a non-finite value of its choice (docs/tolerances.md 9).
  const std::map<std::string, std::vector<bool>> undefined = reference::undefined_outputs(c.prob, c.inputs);
  auto worse = [](const element_error& a, const element_error& b) { return a.normalized > b.normalized; };
  for (const auto& name : output_names(c.prob)) {
    if (std::find(not_produced.begin(), not_produced.end(), name) != not_produced.end()) {
      r.not_produced += (r.not_produced.empty() ? "" : ", ") + name;
      continue;
    }
    auto it = got.find(name);
    const tensor& exp = c.expected.at(name);
    if (it == got.end() || it->second.values.size() != exp.values.size()) {
      r.pass = false;
      r.missing += (r.missing.empty() ? "" : ", ") + name;
      continue;
    }
    const dtype t = type_of(c.prob, name);
    const std::vector<double>& b = bounds.at(name).values;
    output_errors& out = r.outputs.emplace_back();
    out.tensor = name;
    out.histogram.assign(histogram_bins, 0);
    out.channel_max.assign(c.prob.c, 0.0);
    const auto u = undefined.find(name);
    const std::vector<bool>* undef = u != undefined.end() && u->second.size() == exp.values.size() ? &u->second : nullptr;
    for (std::size_t i = 0; i < exp.values.size(); ++i) {
      const double e = exp.values[i], g = it->second.values[i];
      const double n = undef && (*undef)[i] ? (std::isfinite(g) ? std::numeric_limits<double>::infinity() : 0.0)
                                            : normalized_error(e, g, b[i], t);
      ++r.checked;
      r.max_normalized = std::max(r.max_normalized, n);
      ++out.checked;
      ++out.histogram[histogram_bin(n)];
      out.max_normalized = std::max(out.max_normalized, n);
      double& ch = out.channel_max[channel_of(c.prob, exp.values.size(), static_cast<int64_t>(i))];
      ch = std::max(ch, n);
      if (n > 1) {
        ++out.failed;
        ++r.failed;
        if (std::isnan(g) && !std::isnan(e)) ++r.nans;
        r.pass = false;
      }
      if (r.worst.size() < max_worst || n > r.worst.back().normalized) {
        const double err = std::fabs(g - e);
        element_error ee{name, static_cast<int64_t>(i), e, g, b[i], n, err / ulp_at(t, e),
                         e != 0 ? err / std::fabs(e) : (err == 0 ? 0 : std::numeric_limits<double>::infinity()),
                         element_name(name, exp.shape, i)};
        if (std::isnan(e) || std::isnan(g)) ee.ulps = ee.relative = std::isnan(e) == std::isnan(g) ? 0 : std::numeric_limits<double>::infinity();
        r.worst.insert(std::upper_bound(r.worst.begin(), r.worst.end(), ee, worse), ee);
        if (r.worst.size() > max_worst) r.worst.pop_back();
      }
    }
  }
  return r;
}

std::string element_name(const std::string& tensor, const std::vector<int64_t>& shape, std::size_t i) {
  auto index = static_cast<int64_t>(i);
  std::vector<int64_t> idx(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    idx[k] = index % shape[k];
    index /= shape[k];
  }
  std::string s = tensor + "[";
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (k) s += ',';
    s += std::to_string(idx[k]);
  }
  return s + "]";
}

}  // namespace bncheck
