// Exact sums and products by sizing the precision of each result.
#include "reference/exact.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace bncheck::reference {
namespace {

// A finite nonzero MPFR number v = m * 2^e with 1/2 <= |m| < 1 (e =
// mpfr_get_exp) has its lowest set bit at 2^lsb, lsb = e - mpfr_min_prec(v).
// A result that is a multiple of 2^L and smaller than 2^H in magnitude has at
// most H - L significant bits, so a precision of H - L makes MPFR's operation
// exact; every such operation is still checked (ternary value 0) and a
// failure is an internal error.
mpfr_exp_t lsb_exp(mpfr_srcptr v) { return mpfr_get_exp(v) - static_cast<mpfr_exp_t>(mpfr_min_prec(v)); }

void require_exact(int ternary) {
  if (ternary != 0) throw std::logic_error("reference: an operation meant to be exact rounded");
}

void require_finite(mpfr_srcptr v) {
  if (!mpfr_number_p(v)) throw std::logic_error("reference: exact arithmetic on a NaN or infinity");
}

// Bits needed for the magnitude of a sum of n terms: n < 2^bit_width(n).
mpfr_exp_t count_bits(std::size_t n) { return static_cast<mpfr_exp_t>(std::bit_width(n)); }

mpfr_float signed_zero(bool negative) {
  mpfr_float z = with_precision(2);
  mpfr_set_zero(raw(z), negative ? -1 : 1);
  return z;
}

}  // namespace

mpfr_float with_precision(mpfr_prec_t bits) {
  mpfr_float v;
  mpfr_set_prec(raw(v), std::max<mpfr_prec_t>(bits, MPFR_PREC_MIN));
  return v;
}

mpfr_float exact_value(double v) {
  mpfr_float r = with_precision(53);
  require_exact(mpfr_set_d(raw(r), v, MPFR_RNDN));
  return r;
}

mpfr_float exact_integer(int64_t v) {
  mpfr_float r = with_precision(64);
  require_exact(mpfr_set_sj(raw(r), v, MPFR_RNDN));
  return r;
}

mpfr_float exact_add(const mpfr_float& a, const mpfr_float& b) {
  require_finite(raw(a));
  require_finite(raw(b));
  if (mpfr_zero_p(raw(a)) && mpfr_zero_p(raw(b))) return signed_zero(mpfr_signbit(raw(a)) && mpfr_signbit(raw(b)));
  if (mpfr_zero_p(raw(b))) return a;
  if (mpfr_zero_p(raw(a))) return b;
  // |a + b| < 2^max(ea, eb) + 2^max(ea, eb) = 2^(max + 1).
  const mpfr_exp_t high = std::max(mpfr_get_exp(raw(a)), mpfr_get_exp(raw(b))) + 1;
  const mpfr_exp_t low = std::min(lsb_exp(raw(a)), lsb_exp(raw(b)));
  mpfr_float r = with_precision(high - low);
  require_exact(mpfr_add(raw(r), raw(a), raw(b), MPFR_RNDN));
  return r;
}

mpfr_float exact_sub(const mpfr_float& a, const mpfr_float& b) {
  mpfr_float nb = b;
  mpfr_neg(raw(nb), raw(nb), MPFR_RNDN);
  return exact_add(a, nb);
}

mpfr_float exact_mul(const mpfr_float& a, const mpfr_float& b) {
  require_finite(raw(a));
  require_finite(raw(b));
  if (mpfr_zero_p(raw(a)) || mpfr_zero_p(raw(b)))
    return signed_zero(mpfr_signbit(raw(a)) != mpfr_signbit(raw(b)));
  // Integer significands of k and l bits have a product of at most k + l bits.
  mpfr_float r = with_precision(static_cast<mpfr_prec_t>(mpfr_min_prec(raw(a)) + mpfr_min_prec(raw(b))));
  require_exact(mpfr_mul(raw(r), raw(a), raw(b), MPFR_RNDN));
  return r;
}

mpfr_float exact_sum(std::span<const mpfr_float> v) {
  mpfr_exp_t high = 0, low = 0;
  std::size_t terms = 0;
  for (const mpfr_float& t : v) {
    require_finite(raw(t));
    if (mpfr_zero_p(raw(t))) continue;
    high = terms == 0 ? mpfr_get_exp(raw(t)) : std::max(high, mpfr_get_exp(raw(t)));
    low = terms == 0 ? lsb_exp(raw(t)) : std::min(low, lsb_exp(raw(t)));
    ++terms;
  }
  if (terms == 0) return signed_zero(false);
  // Every partial sum is a multiple of 2^low and below terms * 2^high.
  mpfr_float acc = with_precision(high + count_bits(terms) - low);
  mpfr_set_zero(raw(acc), 1);
  for (const mpfr_float& t : v) require_exact(mpfr_add(raw(acc), raw(acc), raw(t), MPFR_RNDN));
  return acc;
}

mpfr_float exact_dot(std::span<const mpfr_float> a, std::span<const mpfr_float> b) {
  if (a.size() != b.size()) throw std::logic_error("reference: exact_dot of unequal lengths");
  mpfr_exp_t high = 0, low = 0;
  mpfr_prec_t widest = 0;
  std::size_t terms = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    require_finite(raw(a[i]));
    require_finite(raw(b[i]));
    if (mpfr_zero_p(raw(a[i])) || mpfr_zero_p(raw(b[i]))) continue;
    const mpfr_exp_t h = mpfr_get_exp(raw(a[i])) + mpfr_get_exp(raw(b[i]));
    const mpfr_exp_t l = lsb_exp(raw(a[i])) + lsb_exp(raw(b[i]));
    high = terms == 0 ? h : std::max(high, h);
    low = terms == 0 ? l : std::min(low, l);
    widest = std::max<mpfr_prec_t>(widest, mpfr_min_prec(raw(a[i])) + mpfr_min_prec(raw(b[i])));
    ++terms;
  }
  if (terms == 0) return signed_zero(false);
  mpfr_float acc = with_precision(high + count_bits(terms) - low);
  mpfr_float product = with_precision(widest);
  mpfr_set_zero(raw(acc), 1);
  for (std::size_t i = 0; i < a.size(); ++i) {
    require_exact(mpfr_mul(raw(product), raw(a[i]), raw(b[i]), MPFR_RNDN));
    require_exact(mpfr_add(raw(acc), raw(acc), raw(product), MPFR_RNDN));
  }
  return acc;
}

}  // namespace bncheck::reference
