// MPFR helpers of the properties; exact operations come from reference/exact.hpp.
#include "properties/precise.hpp"

namespace bncheck::properties {

using reference::raw;
using reference::with_precision;

mpfr_float work_margin() {
  mpfr_float r = with_precision(2);
  mpfr_set_ui_2exp(raw(r), 1, -(work_bits - 8), MPFR_RNDN);
  return r;
}

mpfr_float exact(double v) { return reference::exact_value(v); }

double to_double(const mpfr_float& v) { return mpfr_get_d(raw(v), MPFR_RNDN); }

std::vector<std::size_t> channel_indices(const problem& p, int64_t ch) {
  const int64_t S = spatial_size(p);
  std::vector<std::size_t> out;
  out.reserve(static_cast<std::size_t>(reduction_size(p)));
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t s = 0; s < S; ++s) out.push_back(static_cast<std::size_t>(offset(p, i, ch, s)));
  return out;
}

std::vector<mpfr_float> channel(const problem& p, const std::vector<double>& t, int64_t ch) {
  std::vector<mpfr_float> out;
  for (std::size_t o : channel_indices(p, ch)) out.push_back(exact(t[o]));
  return out;
}

mpfr_float add(const mpfr_float& a, const mpfr_float& b) { return reference::exact_add(a, b); }
mpfr_float sub(const mpfr_float& a, const mpfr_float& b) { return reference::exact_sub(a, b); }
mpfr_float mul(const mpfr_float& a, const mpfr_float& b) { return reference::exact_mul(a, b); }

mpfr_float abs(const mpfr_float& a) {
  mpfr_float r = with_precision(mpfr_get_prec(raw(a)));
  mpfr_abs(raw(r), raw(a), MPFR_RNDN);  // exact at the operand's precision
  return r;
}

mpfr_float div(const mpfr_float& a, const mpfr_float& b) {
  mpfr_float r = with_precision(work_bits);
  mpfr_div(raw(r), raw(a), raw(b), MPFR_RNDN);
  return r;
}

mpfr_float sqrt(const mpfr_float& a) {
  mpfr_float r = with_precision(work_bits);
  mpfr_sqrt(raw(r), raw(a), MPFR_RNDN);
  return r;
}

mpfr_float sum(std::span<const mpfr_float> v) { return reference::exact_sum(v); }

int cmp(const mpfr_float& a, const mpfr_float& b) { return mpfr_cmp(raw(a), raw(b)); }

bool is_nan(const mpfr_float& a) { return mpfr_nan_p(raw(a)) != 0; }

reference::channel_stats stats_of(const problem& p, const std::vector<double>& x, int64_t ch) {
  const std::vector<mpfr_float> v = channel(p, x, ch);
  return reference::channel_stats(v, p.eps);
}

mpfr_float mean_of(const reference::channel_stats& s) { return s.mean(work_bits).value; }
mpfr_float var_of(const reference::channel_stats& s) { return s.var(work_bits).value; }

}  // namespace bncheck::properties
