// The worked example of the seed notes (001), against values computed here
// independently with Boost's cpp_bin_float (not MPFR) at 200 decimal digits.

// n = 2 samples of 3 features, x1 = [0.5, 1.0, 1.5], x2 = [2.0, 2.5, 3.0],
// eps = 1e-8, gamma = 1, beta = 0.
// The notes contain two slips, checked below so that nobody "fixes" the
// reference to match them: they give sigma^2 = 0.3125, but each feature's two
// values sit at mean -+ 0.75, so the biased variance is 0.75^2 = 0.5625; and
// they give xhat ~ -+0.707, which is 0.75 / sqrt(2 * 0.5625) (the sum of
// squares not divided by m = 2). With m = 2, xhat is -+sigma/sqrt(sigma^2 + eps)
// ~ -+(1 - eps/(2 sigma^2)) = -+0.99999999111..., the actual value.
#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>

#include "core/problem.hpp"
#include "core/tensor.hpp"
#include "reference/reference.hpp"

namespace bncheck::reference {
namespace {

using wide = boost::multiprecision::number<boost::multiprecision::cpp_bin_float<200>>;

// The double nearest to v, checked against both neighbours in wide arithmetic.
double nearest(const wide& v) {
  const double d = static_cast<double>(v);
  const wide err = abs(v - wide(d));
  EXPECT_LT(err, abs(v - wide(std::nextafter(d, INFINITY))));
  EXPECT_LT(err, abs(v - wide(std::nextafter(d, -INFINITY))));
  return d;
}

tensor_map seed_inputs() {
  tensor_map in;
  in["x"] = tensor{dtype::f64, {2, 3}, {0.5, 1.0, 1.5, 2.0, 2.5, 3.0}};
  in["gamma"] = tensor{dtype::f64, {3}, {1.0, 1.0, 1.0}};
  in["beta"] = tensor{dtype::f64, {3}, {0.0, 0.0, 0.0}};
  in["running_mean"] = tensor{dtype::f64, {3}, {0.0, 0.0, 0.0}};
  in["running_var"] = tensor{dtype::f64, {3}, {1.0, 1.0, 1.0}};
  return in;
}

problem seed_problem() {
  problem p;
  p.op = op_kind::forward_training;
  p.lay = layout::nc;
  p.data_type = p.param_type = dtype::f64;
  p.n = 2;
  p.c = 3;
  p.eps = 1e-8;
  return p;
}

TEST(seed_example, statistics_are_exact) {
  const problem p = seed_problem();
  const tensor_map out = compute(p, seed_inputs());
  EXPECT_EQ(out.at("mean").values, (std::vector<double>{1.25, 1.75, 2.25}));
  EXPECT_EQ(out.at("var").values, (std::vector<double>{0.5625, 0.5625, 0.5625}));
  // The notes' sigma^2 = 0.3125 is a slip (see the top of this file).
  EXPECT_NE(out.at("var").values[0], 0.3125);
}

TEST(seed_example, y_is_the_correct_rounding_of_an_independent_computation) {
  const problem p = seed_problem();
  rounding_stats stats;
  const tensor_map out = compute(p, seed_inputs(), &stats);

  // Everything in cpp_bin_float: the double eps = 1e-8 converts exactly.
  const wide eps(1e-8);
  const wide var = (pow(wide(0.5) - wide(1.25), 2) + pow(wide(2.0) - wide(1.25), 2)) / 2;
  const wide invstd = 1 / sqrt(var + eps);
  const double y_low = nearest(-wide(0.75) * invstd), y_high = nearest(wide(0.75) * invstd);

  const std::vector<double>& y = out.at("y").values;  // nc: sample 0 then sample 1
  for (int f = 0; f < 3; ++f) {
    EXPECT_EQ(y[f], y_low) << f;
    EXPECT_EQ(y[3 + f], y_high) << f;
  }
  EXPECT_EQ(out.at("invstd").values[0], nearest(invstd));

  // Sanity of the value itself: -+(1 - eps/(2*0.5625)) to first order, not -+0.707.
  EXPECT_LT(std::fabs(y_low + 0.99999999111111), 1e-13);
  EXPECT_GT(std::fabs(y_low + 0.70710678), 0.2);
  // Plain double arithmetic is within one ulp of the correctly rounded value.
  const double naive = -0.75 / std::sqrt(0.5625 + 1e-8);
  EXPECT_LE(std::fabs(naive - y_low), std::fabs(std::nextafter(y_low, 0.0) - y_low));
  EXPECT_EQ(stats.values, 6 + 3 * 5);
}

}  // namespace
}  // namespace bncheck::reference
