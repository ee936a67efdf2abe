// The rounding driver: correct rounding to double at the edges of the format,
// the acceptance test, escalation on a hard case, exact ties, the cap.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "reference/ziv.hpp"

namespace bncheck::reference {
namespace {

// m * 2^e, exactly (m an integer below 2^62).
mpfr_float dyadic(int64_t m, long e) {
  mpfr_float v = with_precision(64);
  mpfr_set_sj_2exp(raw(v), m, e, MPFR_RNDN);
  return v;
}

// a + b exactly, for dyadic a, b.
mpfr_float plus(const mpfr_float& a, const mpfr_float& b) { return exact_add(a, b); }

TEST(round_to_double, rounds_subnormals_once_with_ties_to_even) {
  EXPECT_EQ(round_to_double(dyadic(1, -1075)), 0.0);                   // half of denorm_min: tie to 0
  EXPECT_FALSE(std::signbit(round_to_double(dyadic(1, -1075))));
  EXPECT_TRUE(std::signbit(round_to_double(dyadic(-1, -1075))));       // -0
  EXPECT_EQ(round_to_double(dyadic(3, -1075)), 0x1p-1073);             // 1.5 denorm_min: tie to 2
  EXPECT_EQ(round_to_double(dyadic(5, -1075)), 0x1p-1073);             // 2.5 denorm_min: tie to 2
  EXPECT_EQ(round_to_double(plus(dyadic(1, -1075), dyadic(1, -1140))), 0x1p-1074);  // just above the tie
  // Halfway between the largest subnormal (odd) and DBL_MIN (even).
  EXPECT_EQ(round_to_double(dyadic((int64_t{1} << 53) - 1, -1075)), DBL_MIN);
  EXPECT_EQ(round_to_double(dyadic((int64_t{1} << 53) - 3, -1075)), DBL_MIN - 0x1p-1073);
}

TEST(round_to_double, overflows_at_the_ieee_threshold) {
  // 2^1024 - 2^970 is halfway between DBL_MAX (odd significand) and 2^1024: rounds to infinity.
  const mpfr_float threshold = plus(dyadic(1, 1024), dyadic(-1, 970));
  EXPECT_EQ(round_to_double(threshold), std::numeric_limits<double>::infinity());
  EXPECT_EQ(round_to_double(plus(threshold, dyadic(-1, 900))), DBL_MAX);
  mpfr_float negative = threshold;
  mpfr_neg(raw(negative), raw(negative), MPFR_RNDN);
  EXPECT_EQ(round_to_double(negative), -std::numeric_limits<double>::infinity());
}

TEST(decide, accepts_when_the_error_cannot_cross_a_boundary) {
  // v = 1 + 2^-53 + 2^-100: above the midpoint between 1 and 1 + 2^-52 by 2^-100.
  const mpfr_float v = plus(plus(dyadic(1, 0), dyadic(1, -53)), dyadic(1, -100));
  approx fine{v, error_kind::bounded, -110};
  EXPECT_EQ(decide(v, fine), std::optional<double>(1.0 + 0x1p-52));
  fine.bound_exp = -90;  // the bound reaches past the midpoint
  EXPECT_FALSE(decide(v, fine).has_value());
  fine.bound_exp = -110;  // the two precisions disagree by more than 2^-100
  EXPECT_FALSE(decide(plus(v, dyadic(-1, -99)), fine).has_value());
}

TEST(decide, refuses_an_inexact_zero_and_accepts_exact_values) {
  approx zero{exact_value(0.0), error_kind::bounded, -200};
  EXPECT_FALSE(decide(exact_value(0.0), zero).has_value());
  zero.kind = error_kind::exact;
  EXPECT_EQ(decide(exact_value(1.0), zero), std::optional<double>(0.0));
  const mpfr_float tie = plus(dyadic(1, 0), dyadic(1, -53));
  EXPECT_EQ(decide(tie, approx{tie, error_kind::exact, 0}), std::optional<double>(1.0));
}

// RN_q(1 + k 2^-53 + sign 2^-250 / 3) for odd k: within 2^-250 of a midpoint
// between two doubles, so precisions 128 and 256 cannot separate it from the tie.
mpfr_float near_midpoint(mpfr_prec_t q, int sign, int64_t k = 1) {
  mpfr_float v = with_precision(q);
  mpfr_set_ui(raw(v), 1, MPFR_RNDN);
  mpfr_div_ui(raw(v), raw(v), 3, MPFR_RNDN);
  mpfr_mul_2si(raw(v), raw(v), -250, MPFR_RNDN);
  if (sign < 0) mpfr_neg(raw(v), raw(v), MPFR_RNDN);
  const mpfr_float mid = plus(dyadic(1, 0), dyadic(k, -53));
  mpfr_add(raw(v), raw(v), raw(mid), MPFR_RNDN);
  return v;
}

TEST(round_proven, escalates_on_a_value_within_2_to_the_minus_250_of_a_midpoint) {
  rounding_stats stats;
  EXPECT_EQ(round_proven([](mpfr_prec_t q) { return near_midpoint(q, +1); }, 128, &stats), 1.0 + 0x1p-52);
  EXPECT_EQ(stats.values, 1);
  EXPECT_GT(stats.escalations, 0);
  EXPECT_GE(stats.max_precision, 300u);
  // Below the midpoint between 1 + 2^-52 (odd) and 1 + 2^-51 (even), where the
  // tie would round the wrong way.
  rounding_stats below;
  EXPECT_EQ(round_proven([](mpfr_prec_t q) { return near_midpoint(q, -1, 3); }, 128, &below), 1.0 + 0x1p-52);
  EXPECT_GT(below.escalations, 0);
}

TEST(round_proven, resolves_an_exact_midpoint_by_ties_to_even_without_escalation) {
  rounding_stats stats;
  // 1 + 2^-53 lies between 1 (even) and 1 + 2^-52 (odd); 1 + 3*2^-53 between 1 + 2^-52 (odd) and 1 + 2^-51 (even).
  EXPECT_EQ(round_proven([](mpfr_prec_t q) { mpfr_float v = with_precision(q); mpfr_set_ui(raw(v), 1, MPFR_RNDN);
                                             mpfr_add(raw(v), raw(v), raw(dyadic(1, -53)), MPFR_RNDN); return v; },
                         128, &stats),
            1.0);
  EXPECT_EQ(round_proven([](mpfr_prec_t q) { mpfr_float v = with_precision(q); mpfr_set_ui(raw(v), 1, MPFR_RNDN);
                                             mpfr_add(raw(v), raw(v), raw(dyadic(3, -53)), MPFR_RNDN); return v; },
                         128, &stats),
            1.0 + 0x1p-51);
  EXPECT_EQ(stats.values, 2);
  EXPECT_EQ(stats.escalations, 0);
  EXPECT_EQ(stats.max_precision, 128u);
}

TEST(round_proven, counts_values_and_keeps_the_largest_precision_over_calls) {
  rounding_stats stats;
  stats.max_precision = 4096;
  // 1/3 is far from any boundary: decided by the first pair (128, 256).
  EXPECT_EQ(round_proven([](mpfr_prec_t q) { mpfr_float v = with_precision(q); mpfr_set_ui(raw(v), 1, MPFR_RNDN);
                                             mpfr_div_ui(raw(v), raw(v), 3, MPFR_RNDN); return v; },
                         128, &stats),
            1.0 / 3.0);
  EXPECT_EQ(stats.values, 1);
  EXPECT_EQ(stats.escalations, 0);
  EXPECT_EQ(stats.max_precision, 4096u);
}

TEST(round_proven, leaves_the_callers_mpfr_flags_alone) {
  mpfr_flags_clear(MPFR_FLAGS_ALL);
  round_proven([](mpfr_prec_t q) { return near_midpoint(q, +1); }, 128);
  EXPECT_FALSE(mpfr_inexflag_p());
}

TEST(round_proven, throws_when_the_cap_is_reached) {
  // The tie plus 2^-(2q) / 3 rounds to the tie at every precision q, inexactly:
  // the value can never be told apart from the midpoint.
  auto stuck = [](mpfr_prec_t q) {
    mpfr_float v = with_precision(q);
    mpfr_set_ui(raw(v), 1, MPFR_RNDN);
    mpfr_div_ui(raw(v), raw(v), 3, MPFR_RNDN);
    mpfr_mul_2si(raw(v), raw(v), -2 * q, MPFR_RNDN);
    mpfr_add(raw(v), raw(v), raw(plus(dyadic(1, 0), dyadic(1, -53))), MPFR_RNDN);
    return v;
  };
  EXPECT_THROW(round_proven(stuck, precision_cap / 4), std::runtime_error);
}

TEST(round_proven_all, decides_each_value_on_its_own_and_counts_escalations_per_value) {
  // Value 0 is easy, value 1 needs a doubling: one escalation in all.
  auto eval = [](mpfr_prec_t q, std::vector<approx>& out) {
    out.resize(2);
    out[0].value = with_precision(q);
    mpfr_set_ui(raw(out[0].value), 1, MPFR_RNDN);
    mpfr_div_ui(raw(out[0].value), raw(out[0].value), 3, MPFR_RNDN);
    out[0].kind = error_kind::unknown;
    out[1].value = near_midpoint(q, +1);
    out[1].kind = error_kind::unknown;
  };
  rounding_stats stats;
  const std::vector<double> r = round_proven_all(eval, 2, 128, &stats);
  EXPECT_EQ(r, (std::vector<double>{1.0 / 3.0, 1.0 + 0x1p-52}));
  EXPECT_EQ(stats.values, 2);
  EXPECT_EQ(stats.escalations, 1);
  EXPECT_EQ(stats.max_precision, 512u);
}

TEST(initial_precision, grows_with_the_reduction_length) {
  EXPECT_EQ(initial_precision(1), 128);
  EXPECT_EQ(initial_precision(1 << 18), 128);
  EXPECT_EQ(initial_precision(int64_t{1} << 40), 64 + 2 * 41);
}

}  // namespace
}  // namespace bncheck::reference
