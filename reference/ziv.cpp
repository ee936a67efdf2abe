// Rounding to double and the acceptance test of Ziv's strategy.
#include "reference/ziv.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "core/problem.hpp"

namespace bncheck::reference {
namespace {

// An MPFR temporary of fixed precision for the duration of one test.
class scratch {
 public:
  explicit scratch(mpfr_prec_t bits) { mpfr_init2(v_, bits); }
  ~scratch() { mpfr_clear(v_); }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  mpfr_ptr get() { return v_; }

 private:
  mpfr_t v_;
};

}  // namespace

// mpfr_get_d rounds once to the precision the result has as a double: 53
// bits for normal numbers, fewer in the subnormal range (so no double
// rounding), and returns +-inf for RN values at or beyond 2^1024 - 2^970.
// tests/reference/ziv_test.cpp pins these boundaries.
double round_to_double(const mpfr_float& v) { return mpfr_get_d(raw(v), MPFR_RNDN); }

std::optional<double> decide(const mpfr_float& coarse, const approx& fine) {
  mpfr_srcptr v = raw(fine.value);
  if (fine.kind == error_kind::exact || !mpfr_number_p(v)) return round_to_double(fine.value);
  // An inexact zero says nothing about sign or size; a coarse value that is
  // not a number gives no error estimate.
  if (mpfr_zero_p(v) || !mpfr_number_p(raw(coarse))) return std::nullopt;

  // d >= |coarse - v| (rounded away from zero), raised to the floor.
  scratch d(64);
  mpfr_sub(d.get(), raw(coarse), v, MPFR_RNDA);
  mpfr_abs(d.get(), d.get(), MPFR_RNDN);
  const mpfr_exp_t floor_exp = fine.kind == error_kind::bounded
                                   ? fine.bound_exp
                                   : mpfr_get_exp(v) - static_cast<mpfr_exp_t>(mpfr_get_prec(v));
  if (mpfr_cmp_ui_2exp(d.get(), 1, floor_exp) < 0) mpfr_set_ui_2exp(d.get(), 1, floor_exp, MPFR_RNDN);

  // [lo, hi] contains [v - d, v + d] (outward rounding). Rounding to nearest
  // is monotone, so if both ends round to the same double, every point of the
  // interval does, the exact value included; ties inside are covered too.
  scratch lo(mpfr_get_prec(v)), hi(mpfr_get_prec(v));
  mpfr_sub(lo.get(), v, d.get(), MPFR_RNDD);
  mpfr_add(hi.get(), v, d.get(), MPFR_RNDU);
  const double a = mpfr_get_d(lo.get(), MPFR_RNDN);
  const double b = mpfr_get_d(hi.get(), MPFR_RNDN);
  if (std::bit_cast<uint64_t>(a) != std::bit_cast<uint64_t>(b)) return std::nullopt;
  return a;
}

mpfr_prec_t initial_precision(int64_t m) {
  const auto log2m = static_cast<mpfr_prec_t>(std::bit_width(static_cast<uint64_t>(std::max<int64_t>(m, 1))));
  return std::max<mpfr_prec_t>(128, 64 + 2 * log2m);
}

namespace detail {
void throw_not_proven(const mpfr_float& v) {
  throw std::runtime_error("reference: rounding of a value near " + hex_float(round_to_double(v)) +
                           " not proven at " + std::to_string(precision_cap) + " bits");
}
}  // namespace detail

}  // namespace bncheck::reference
