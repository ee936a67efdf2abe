// Exact arithmetic: sums and products of doubles across the whole exponent
// range come out without rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/exact.hpp"

namespace bncheck::reference {
namespace {

TEST(exact, sum_spans_the_whole_double_range_without_rounding) {
  const std::vector<mpfr_float> v = {exact_value(0x1p1023), exact_value(0x1p-1074), exact_value(-0x1p1023),
                                     exact_value(3.0)};
  const mpfr_float s = exact_sum(v);
  // 3 + 2^-1074 needs 1076 bits: anything but exact arithmetic loses the tail.
  EXPECT_GT(mpfr_cmp_d(raw(s), 3.0), 0);
  mpfr_float tail = exact_sub(s, exact_value(3.0));
  EXPECT_EQ(mpfr_cmp_d(raw(tail), 0x1p-1074), 0);
}

TEST(exact, dot_of_doubles_keeps_every_product_bit) {
  const double a = 1.0 + 0x1p-52, b = 1.0 - 0x1p-53;
  const std::vector<mpfr_float> x = {exact_value(a), exact_value(-1.0)}, y = {exact_value(b), exact_value(1.0)};
  // a*b - 1 = 2^-52 - 2^-53 - 2^-105 = 2^-53 - 2^-105 exactly.
  const mpfr_float d = exact_dot(x, y);
  mpfr_float expected = exact_sub(exact_value(0x1p-53), exact_value(0x1p-105));
  EXPECT_EQ(mpfr_cmp(raw(d), raw(expected)), 0);
}

TEST(exact, difference_of_equal_values_is_zero_and_products_keep_sign) {
  EXPECT_TRUE(mpfr_zero_p(raw(exact_sub(exact_value(0.1), exact_value(0.1)))));
  const mpfr_float p = exact_mul(exact_value(-0.1), exact_value(0.3));
  EXPECT_LT(mpfr_sgn(raw(p)), 0);
  EXPECT_EQ(mpfr_get_d(raw(p), MPFR_RNDN), -0.1 * 0.3);  // one rounding of the exact product
}

TEST(exact, precision_does_not_depend_on_boost_default_precision) {
  const unsigned saved = mpfr_float::default_precision();
  mpfr_float::default_precision(5);
  EXPECT_EQ(mpfr_get_prec(raw(exact_value(0.1))), 53);
  EXPECT_EQ(mpfr_get_prec(raw(with_precision(300))), 300);
  mpfr_float::default_precision(saved);
}

}  // namespace
}  // namespace bncheck::reference
