// compute() on hand-made cases: running statistics per profile, zero
// variance, exact ties, inference, a large offset, and bad input.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/fill.hpp"
#include "core/problem.hpp"
#include "core/tensor.hpp"
#include "reference/exact.hpp"
#include "reference/reference.hpp"

namespace bncheck::reference {
namespace {

problem nc_problem(op_kind op, int64_t n, int64_t c, dtype t = dtype::f64) {
  problem p;
  p.op = op;
  p.lay = layout::nc;
  p.data_type = p.param_type = t;
  p.n = n;
  p.c = c;
  return p;
}

tensor per_channel(const problem& p, std::vector<double> v) { return tensor{p.param_type, {p.c}, std::move(v)}; }

tensor_map forward_inputs(const problem& p, std::vector<double> x, std::vector<double> gamma,
                          std::vector<double> beta, std::vector<double> rm, std::vector<double> rv) {
  tensor_map in;
  in["x"] = tensor{p.data_type, data_shape(p), std::move(x)};
  in["gamma"] = per_channel(p, std::move(gamma));
  in["beta"] = per_channel(p, std::move(beta));
  in["running_mean"] = per_channel(p, std::move(rm));
  in["running_var"] = per_channel(p, std::move(rv));
  return in;
}

uint64_t bits(double v) { return std::bit_cast<uint64_t>(v); }

// x = [1, 2, 3, 6]: S = 12, mean 3, deviations -2 -1 0 3, sum of squares 14,
// biased var 14/4 = 3.5, unbiased 14/3. eps = 0.5 makes var + eps = 4, so
// invstd = 0.5 and y = (x - 3)/2 exactly. momentum 0.25, rm = 1, rv = 2.
tensor_map hand_case(profile prof) {
  problem p = nc_problem(op_kind::forward_training, 4, 1);
  p.eps = 0.5;
  p.momentum = 0.25;
  p.prof = prof;
  return compute(p, forward_inputs(p, {1, 2, 3, 6}, {1}, {0}, {1}, {2}));
}

TEST(reference_forward, hand_case_statistics_and_y_are_exact) {
  rounding_stats stats;
  problem p = nc_problem(op_kind::forward_training, 4, 1);
  p.eps = 0.5;
  const tensor_map out = compute(p, forward_inputs(p, {1, 2, 3, 6}, {1}, {0}, {1}, {2}), &stats);
  EXPECT_EQ(out.at("mean").values[0], 3.0);
  EXPECT_EQ(out.at("var").values[0], 3.5);
  EXPECT_EQ(out.at("invstd").values[0], 0.5);
  EXPECT_EQ(out.at("y").values, (std::vector<double>{-1.0, -0.5, 0.0, 1.5}));
  for (const auto& [name, t] : out) {
    EXPECT_EQ(t.type, dtype::f64) << name;
    EXPECT_EQ(t.shape, shape_of(p, name)) << name;
  }
  EXPECT_EQ(stats.values, 4 + 5);
  EXPECT_EQ(stats.escalations, 0);
}

TEST(reference_running_stats, pytorch_and_cudnn_use_the_unbiased_variance) {
  for (profile prof : {profile::pytorch, profile::cudnn}) {
    const tensor_map out = hand_case(prof);
    EXPECT_EQ(out.at("running_mean").values[0], 1.5);  // 0.75*1 + 0.25*3
    // 0.75*2 + 0.25*14/3 = 8/3: one correctly rounded IEEE division gives it.
    EXPECT_EQ(out.at("running_var").values[0], 8.0 / 3.0);
  }
}

TEST(reference_running_stats, onnx_uses_momentum_on_the_old_value_and_the_biased_variance) {
  const tensor_map out = hand_case(profile::onnx);
  EXPECT_EQ(out.at("running_mean").values[0], 2.5);   // 0.25*1 + 0.75*3
  EXPECT_EQ(out.at("running_var").values[0], 3.125);  // 0.25*2 + 0.75*3.5
}

TEST(reference_running_stats, single_value_gives_nan_unbiased_variance) {
  for (profile prof : {profile::pytorch, profile::cudnn, profile::onnx}) {
    problem p = nc_problem(op_kind::forward_training, 1, 2);
    p.momentum = 0.25;
    p.prof = prof;
    const tensor_map out = compute(p, forward_inputs(p, {5, -7}, {1, 1}, {0, 0}, {1, 1}, {2, 2}));
    const std::vector<double>& rm = out.at("running_mean").values;
    const std::vector<double>& rv = out.at("running_var").values;
    if (prof == profile::onnx) {
      EXPECT_EQ(rm, (std::vector<double>{0.25 + 0.75 * 5, 0.25 - 0.75 * 7}));
      EXPECT_EQ(rv, (std::vector<double>{0.5, 0.5}));  // 0.25*2 + 0.75*0
    } else {
      EXPECT_EQ(rm, (std::vector<double>{0.75 + 0.25 * 5, 0.75 - 0.25 * 7}));
      EXPECT_TRUE(std::isnan(rv[0]) && std::isnan(rv[1]));
    }
  }
}

TEST(reference_zero_variance, single_value_gives_beta_bitwise) {
  problem p;
  p.op = op_kind::forward_training;
  p.lay = layout::nchw;
  p.n = 1;
  p.c = 3;
  const std::vector<double> x = {round_to(dtype::f32, 0.1), round_to(dtype::f32, -3.7), 1e30};
  const std::vector<double> beta = {round_to(dtype::f32, 0.1), round_to(dtype::f32, -0.3), -0.0};
  const tensor_map out = compute(p, forward_inputs(p, x, {0.5, 3, 1}, beta, {0, 0, 0}, {1, 1, 1}));
  for (int ch = 0; ch < 3; ++ch) {
    EXPECT_EQ(bits(out.at("y").values[ch]), bits(beta[ch] + 0.0)) << ch;
    EXPECT_EQ(out.at("mean").values[ch], x[ch]) << ch;
    EXPECT_EQ(out.at("var").values[ch], 0.0) << ch;
  }
}

TEST(reference_zero_variance, constant_channel_of_seven_gives_beta_bitwise) {
  problem p = nc_problem(op_kind::forward_training, 7, 2);
  std::vector<double> x;
  for (int i = 0; i < 7; ++i) x.insert(x.end(), {0.1, 1e4 + 1.0 / 3.0});
  const tensor_map out = compute(p, forward_inputs(p, x, {1.7, -0.9}, {0.3, 0.1}, {0, 0}, {1, 1}));
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(bits(out.at("y").values[2 * i]), bits(0.3));
    EXPECT_EQ(bits(out.at("y").values[2 * i + 1]), bits(0.1));
  }
  EXPECT_EQ(out.at("mean").values, (std::vector<double>{0.1, 1e4 + 1.0 / 3.0}));
  EXPECT_EQ(out.at("var").values, (std::vector<double>{0.0, 0.0}));
  // invstd = 1/sqrt(eps): the double nearest to it (checked by squaring back).
  const double s = out.at("invstd").values[0];
  EXPECT_NEAR(s * s * p.eps, 1.0, 1e-15);
}

TEST(reference_zero_variance, zero_eps_constant_channel_gives_infinite_invstd_and_nan_y) {
  // sigma^2 + eps = 0: invstd = 1/0 = +inf, xhat = 0/0.
  problem p = nc_problem(op_kind::forward_training, 3, 1);
  p.eps = 0.0;
  const tensor_map out = compute(p, forward_inputs(p, {2, 2, 2}, {1}, {0.5}, {0}, {1}));
  EXPECT_EQ(out.at("var").values[0], 0.0);
  EXPECT_EQ(out.at("invstd").values[0], INFINITY);
  for (double v : out.at("y").values) EXPECT_TRUE(std::isnan(v));
}

TEST(reference_zero_variance, gamma_zero_gives_beta_and_zero_dx) {
  problem p = nc_problem(op_kind::backward, 5, 1);
  tensor_map in = forward_inputs(p, {0.1, 0.7, -2.5, 3.0, 1e-3}, {0.0}, {0.3}, {0}, {1});
  in["dy"] = tensor{dtype::f64, data_shape(p), {1, -2, 0.5, 0.25, 3}};
  const tensor_map b = compute(p, in);
  for (double v : b.at("dx").values) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(b.at("dbeta").values[0], 2.75);
  p.op = op_kind::forward_training;
  const tensor_map fwd = compute(p, in);
  for (double v : fwd.at("y").values) EXPECT_EQ(bits(v), bits(0.3));
}

TEST(reference_ties, exact_midpoint_statistics_round_to_even_without_escalation) {
  // Means 1 + 2^-53 (between 1, even, and 1 + 2^-52) and 1 + 3*2^-53
  // (between 1 + 2^-52 and 1 + 2^-51, even) are exact midpoints.
  problem p = nc_problem(op_kind::forward_training, 2, 2);
  rounding_stats stats;
  const tensor_map out =
      compute(p, forward_inputs(p, {1.0, 1.0 + 0x1p-52, 1.0 + 0x1p-52, 1.0 + 0x1p-51}, {1, 1}, {0, 0}, {0, 0}, {1, 1}),
              &stats);
  EXPECT_EQ(out.at("mean").values, (std::vector<double>{1.0, 1.0 + 0x1p-51}));
  EXPECT_EQ(stats.escalations, 0);
}

TEST(reference_ties, exact_midpoint_y_rounds_to_even) {
  // m = 2, eps = 0: xhat = -+1 exactly. gamma = 1 + 2^-52, beta = 2^-53 gives
  // y = -(1 + 2^-53) (tie to -1) and 1 + 3*2^-53 (tie to 1 + 2^-51).
  problem p = nc_problem(op_kind::forward_training, 2, 1);
  p.eps = 0.0;
  const tensor_map out = compute(p, forward_inputs(p, {0.0, 4.0}, {1.0 + 0x1p-52}, {0x1p-53}, {0}, {1}));
  EXPECT_EQ(out.at("y").values, (std::vector<double>{-1.0, 1.0 + 0x1p-51}));
  // An exact zero: x = [0, 3], gamma = 1, beta = 1 gives y = [0, 2].
  const tensor_map zero = compute(p, forward_inputs(p, {0.0, 3.0}, {1.0}, {1.0}, {0}, {1}));
  EXPECT_EQ(zero.at("y").values, (std::vector<double>{0.0, 2.0}));
}

TEST(reference_ties, dgamma_within_2_to_the_minus_699_of_a_midpoint_escalates_and_rounds_correctly) {
  // x = [0, 2^300], eps = 2^-100: xhat = -+1/sqrt(1 + 2^-698) = -+(1 - delta),
  // delta ~ 2^-699. dy = [-2^-53, 1 + 2^-52] gives
  // dgamma = (1 + 3*2^-53)(1 - delta): just below the midpoint between
  // 1 + 2^-52 (odd) and 1 + 2^-51 (even), where ties-to-even would go up.
  // dx = -+2^-998 (1 + 3*2^-53)(1 - delta') is a near tie of the same kind.
  problem p = nc_problem(op_kind::backward, 2, 1);
  p.eps = 0x1p-100;
  tensor_map in = forward_inputs(p, {0.0, 0x1p300}, {1}, {0}, {0}, {1});
  in["dy"] = tensor{dtype::f64, {2, 1}, {-0x1p-53, 1.0 + 0x1p-52}};
  rounding_stats stats;
  const tensor_map out = compute(p, in, &stats);
  EXPECT_EQ(out.at("dgamma").values[0], 1.0 + 0x1p-52);
  EXPECT_EQ(out.at("dx").values, (std::vector<double>{-0x1.0000000000001p-998, 0x1.0000000000001p-998}));
  // The pairs (128,256), (256,512), (512,1024) cannot decide dgamma nor either dx.
  EXPECT_EQ(stats.escalations, 3 * 3);
  EXPECT_EQ(stats.max_precision, 2048u);
}

TEST(reference_inference, uses_the_running_statistics) {
  // rv + eps = 3.75 + 0.25 = 4: y = gamma (x - rm)/2 + beta exactly.
  problem p = nc_problem(op_kind::forward_inference, 3, 2);
  p.eps = 0.25;
  const tensor_map out =
      compute(p, forward_inputs(p, {1, 10, 3, 20, -5, 0}, {2, 0.5}, {0.25, -1}, {1, 4}, {3.75, 3.75}));
  EXPECT_EQ(out.at("y").values, (std::vector<double>{0.25, 0.5, 2.25, 3.0, -5.75, -2.0}));
  EXPECT_EQ(out.size(), 1u);
}

TEST(reference_inference, negative_running_variance_gives_nan) {
  problem p = nc_problem(op_kind::forward_inference, 2, 1);
  const tensor_map out = compute(p, forward_inputs(p, {1, 2}, {1}, {0}, {0}, {-1}));
  EXPECT_TRUE(std::isnan(out.at("y").values[0]));
}

TEST(reference_backward, ignores_saved_statistics_in_the_inputs) {
  problem p = nc_problem(op_kind::backward, 3, 2);
  tensor_map in = forward_inputs(p, {0.5, 1, 2, -1, 4, 0.25}, {1.5, -0.5}, {0, 0}, {0, 0}, {1, 1});
  in["dy"] = tensor{dtype::f64, data_shape(p), {1, 0.5, -1, 2, 0.125, -3}};
  const tensor_map clean = compute(p, in);
  in["mean"] = per_channel(p, {100, 100});
  in["var"] = per_channel(p, {-1, 7});
  in["invstd"] = per_channel(p, {0, 0});
  const tensor_map saved = compute(p, in);
  for (const char* name : {"dx", "dgamma", "dbeta", "mean", "var", "invstd"})
    EXPECT_EQ(clean.at(name).values, saved.at(name).values) << name;
  // dbeta = sum dy per channel.
  EXPECT_EQ(clean.at("dbeta").values, (std::vector<double>{1 - 1 + 0.125, 0.5 + 2 - 3}));
}

TEST(reference_offset, variance_agrees_with_a_two_pass_long_double_computation) {
  // x = 1e4 + 0.01 u in f32: var ~ 1e-5 against a mean of 1e4.
  problem p = nc_problem(op_kind::forward_training, 256, 1, dtype::f32);
  splitmix64 rng{12345};
  std::vector<double> x(256);
  for (double& v : x) v = round_to(dtype::f32, 1e4 + 0.01 * static_cast<double>(rng.next() >> 11) * 0x1p-53);
  const tensor_map out = compute(p, forward_inputs(p, x, {1}, {0}, {0}, {1}));
  long double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= 256;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= 256;
  const double ref = out.at("var").values[0];
  EXPECT_LT(std::fabs(static_cast<long double>(ref) - var) / var, 1e-15L);
  EXPECT_GT(ref, 1e-6);
}

TEST(reference_results, do_not_depend_on_boost_default_precision) {
  problem p = nc_problem(op_kind::backward, 5, 2);
  tensor_map in = forward_inputs(p, {0.1, 0.2, 0.3, 0.5, 0.7, 1.1, 1.3, 1.7, 1.9, 2.3}, {1.1, 0.9}, {0, 0},
                                 {0, 0}, {1, 1});
  in["dy"] = tensor{dtype::f64, data_shape(p), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5}};
  const tensor_map a = compute(p, in);
  const unsigned saved = mpfr_float::default_precision();
  mpfr_float::default_precision(3);
  const tensor_map b = compute(p, in);
  mpfr_float::default_precision(1000);
  const tensor_map c = compute(p, in);
  mpfr_float::default_precision(saved);
  for (const auto& [name, t] : a) {
    EXPECT_EQ(t.values, b.at(name).values) << name;
    EXPECT_EQ(t.values, c.at(name).values) << name;
  }
}

TEST(reference_input, missing_or_misshapen_tensors_are_input_errors) {
  problem p = nc_problem(op_kind::forward_training, 2, 2);
  const tensor_map good = forward_inputs(p, {1, 2, 3, 4}, {1, 1}, {0, 0}, {0, 0}, {1, 1});
  EXPECT_NO_THROW(compute(p, good));
  for (const char* name : {"x", "gamma", "beta", "running_mean", "running_var"}) {
    tensor_map in = good;
    in.erase(name);
    EXPECT_THROW(compute(p, in), input_error) << name;
    in = good;
    in[name].values.pop_back();
    EXPECT_THROW(compute(p, in), input_error) << name;
  }
  tensor_map in = good;
  in["x"].shape = {4, 1};
  EXPECT_THROW(compute(p, in), input_error);
  p.op = op_kind::backward;
  EXPECT_THROW(compute(p, good), input_error);  // no dy
  try {
    compute(p, good);
  } catch (const input_error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

// docs/reference.md, "Non-finite inputs": a NaN or an infinity makes undefined
// (NaN) exactly the outputs that read it; every other output is what it is
// without it, bit for bit.
bool all_nan(const tensor& t, const problem& p, int64_t ch) {
  bool all = true;
  for (std::size_t k = 0; k < t.values.size(); ++k) {
    const int64_t c = static_cast<int64_t>(t.values.size()) == p.c ? static_cast<int64_t>(k)
                                                                    : static_cast<int64_t>(k) % p.c;  // nc layout
    if (c == ch) all = all && std::isnan(t.values[k]);
  }
  return all;
}

// The other channel of every output, bit for bit equal between a and b and finite.
void expect_channel_same(const tensor_map& a, const tensor_map& b, const problem& p, int64_t ch,
                         const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const auto& va = a.at(name).values;
    const auto& vb = b.at(name).values;
    ASSERT_EQ(va.size(), vb.size());
    for (std::size_t k = 0; k < va.size(); ++k) {
      const int64_t c = static_cast<int64_t>(va.size()) == p.c ? static_cast<int64_t>(k) : static_cast<int64_t>(k) % p.c;
      if (c != ch) continue;
      EXPECT_TRUE(std::isfinite(vb[k])) << name << "[" << k << "]";
      EXPECT_EQ(bits(va[k]), bits(vb[k])) << name << "[" << k << "]";
    }
  }
}

TEST(reference_nonfinite, nan_in_channel_1_of_x_leaves_channel_0_bit_identical) {
  for (profile prof : {profile::onnx, profile::pytorch}) {
    problem p = nc_problem(op_kind::forward_training, 4, 2);
    p.prof = prof;
    const tensor_map clean = forward_inputs(p, {1, 10, 2, 20, 3, 30, 6, 70}, {1.5, 2}, {0.25, -1}, {0.5, 1}, {2, 3});
    tensor_map dirty = clean;
    dirty["x"].values[3] = std::nan("");  // sample 1, channel 1
    const tensor_map a = compute(p, clean), b = compute(p, dirty);
    expect_channel_same(a, b, p, 0, {"y", "mean", "var", "invstd", "running_mean", "running_var"});
    for (const char* name : {"y", "mean", "var", "invstd", "running_mean", "running_var"})
      EXPECT_TRUE(all_nan(b.at(name), p, 1)) << name;
  }
}

TEST(reference_nonfinite, infinities_in_x_make_their_channel_undefined_in_training_and_backward) {
  for (double v : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    problem p = nc_problem(op_kind::forward_training, 3, 2);
    tensor_map in = forward_inputs(p, {1, 5, 2, 6, 4, 8}, {1, 1}, {0, 0}, {0, 0}, {1, 1});
    const tensor_map clean = compute(p, in);
    in["x"].values[2] = v;  // sample 1, channel 0
    const tensor_map out = compute(p, in);
    expect_channel_same(clean, out, p, 1, {"y", "mean", "var", "invstd", "running_mean", "running_var"});
    for (const char* name : {"y", "mean", "var", "invstd", "running_mean", "running_var"})
      EXPECT_TRUE(all_nan(out.at(name), p, 0)) << name;
    p.op = op_kind::backward;
    in["dy"] = tensor{p.data_type, data_shape(p), {1, -1, 0.5, 2, -0.25, 1}};
    const tensor_map bwd = compute(p, in);
    for (const char* name : {"dx", "dgamma", "mean", "invstd"}) EXPECT_TRUE(all_nan(bwd.at(name), p, 0)) << name;
    // dbeta = sum dy reads no x: exact, 1 + 0.5 - 0.25.
    EXPECT_EQ(bwd.at("dbeta").values[0], 1.25);
    for (const char* name : {"dx", "dgamma", "dbeta"})
      for (std::size_t k = 0; k < bwd.at(name).values.size(); ++k)
        if ((bwd.at(name).values.size() == 2 ? k : k % 2) == 1) {
          EXPECT_TRUE(std::isfinite(bwd.at(name).values[k])) << name;
        }
  }
}

TEST(reference_nonfinite, nan_in_dy_reaches_its_channels_gradients_only) {
  problem p = nc_problem(op_kind::backward, 3, 2);
  tensor_map in = forward_inputs(p, {1, 5, 2, 7, 4, 8}, {2, 0.5}, {0, 0}, {0, 0}, {1, 1});
  in["dy"] = tensor{p.data_type, data_shape(p), {1, -1, 0.5, 2, -0.25, 1}};
  const tensor_map clean = compute(p, in);
  in["dy"].values[3] = std::nan("");  // sample 1, channel 1
  const tensor_map out = compute(p, in);
  expect_channel_same(clean, out, p, 0, {"dx", "dgamma", "dbeta", "mean", "var", "invstd"});
  for (const char* name : {"dx", "dgamma", "dbeta"}) EXPECT_TRUE(all_nan(out.at(name), p, 1)) << name;
  // The batch statistics read x only: channel 1's are still exact.
  for (const char* name : {"mean", "var", "invstd"})
    EXPECT_EQ(bits(out.at(name).values[1]), bits(clean.at(name).values[1])) << name;
  // gamma reaches dx only.
  in = forward_inputs(p, {1, 5, 2, 7, 4, 8}, {2, std::numeric_limits<double>::infinity()}, {0, 0}, {0, 0}, {1, 1});
  in["dy"] = tensor{p.data_type, data_shape(p), {1, -1, 0.5, 2, -0.25, 1}};
  const tensor_map g = compute(p, in);
  EXPECT_TRUE(all_nan(g.at("dx"), p, 1));
  EXPECT_EQ(bits(g.at("dgamma").values[1]), bits(clean.at("dgamma").values[1]));
  EXPECT_EQ(bits(g.at("dbeta").values[1]), bits(clean.at("dbeta").values[1]));
}

TEST(reference_nonfinite, inference_is_elementwise_in_x_and_per_channel_in_the_parameters) {
  problem p = nc_problem(op_kind::forward_inference, 3, 3);
  const tensor_map clean = forward_inputs(p, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3}, {0, 1, 2}, {0, 1, 2}, {1, 2, 3});
  tensor_map in = clean;
  in["x"].values[4] = std::numeric_limits<double>::infinity();  // sample 1, channel 1
  in["running_var"].values[2] = std::nan("");
  in["beta"].values[0] = -std::numeric_limits<double>::infinity();
  const tensor_map a = compute(p, clean), b = compute(p, in);
  const auto& ya = a.at("y").values;
  const auto& yb = b.at("y").values;
  for (std::size_t k = 0; k < yb.size(); ++k) {
    if (k % 3 == 0 || k % 3 == 2 || k == 4) {
      EXPECT_TRUE(std::isnan(yb[k])) << k;
    } else {
      EXPECT_EQ(bits(ya[k]), bits(yb[k])) << k;
    }
  }
  const auto u = undefined_outputs(p, in);
  EXPECT_EQ(u.at("y"), (std::vector<bool>{true, false, true, true, true, true, true, false, true}));
}

}  // namespace
}  // namespace bncheck::reference
