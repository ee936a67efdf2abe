// The reference's merge of shard statistics: a worked example by hand, and
// agreement bit for bit with forward_training's statistics of the whole
// batch the shards were cut from.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/problem.hpp"
#include "core/tensor.hpp"
#include "reference/reference.hpp"

namespace bncheck::reference {
namespace {

tensor_map shard_inputs(const problem& p, std::vector<double> means, std::vector<double> m2s) {
  tensor_map in;
  tensor count{dtype::f64, {p.n}, {}};
  for (int64_t k : p.shards) count.values.push_back(static_cast<double>(k));
  in["shard_count"] = count;
  in["shard_mean"] = {p.param_type, {p.n, p.c}, std::move(means)};
  in["shard_m2"] = {p.param_type, {p.n, p.c}, std::move(m2s)};
  return in;
}

TEST(reference_merge, worked_example) {
  // Shards {0} and {2, 4, 6}: means 0 and 4, M2 0 and 8. Whole batch
  // {0, 2, 4, 6}: mean 3, M2 = 9 + 1 + 1 + 9 = 20, var 5.
  const problem p = parse_problem("merge_statistics nc f64:f64 mb2ic1 shards=1,3 eps=4");
  const tensor_map out = compute(p, shard_inputs(p, {0, 4}, {0, 8}));
  EXPECT_EQ(out.at("mean").values[0], 3.0);
  EXPECT_EQ(out.at("var").values[0], 5.0);
  EXPECT_EQ(out.at("invstd").values[0], 1.0 / 3.0);  // 1/sqrt(5 + 4), correctly rounded
}

TEST(reference_merge, equals_the_whole_batchs_statistics_bit_for_bit) {
  // x = 1..12 in one channel, cut into shards of 1, 3 and 8 values:
  // {1} mean 1 M2 0; {2,3,4} mean 3 M2 2; {5..12} mean 8.5 M2 42.
  problem whole = parse_problem("forward_training nc f64:f64 mb12ic1 eps=1e-05 profile=onnx");
  tensor_map in = generate_inputs(whole);
  for (int i = 0; i < 12; ++i) in.at("x").values[static_cast<std::size_t>(i)] = i + 1;
  const tensor_map batch = compute(whole, in);
  const problem p = parse_problem("merge_statistics nc f64:f64 mb3ic1 shards=1,3,8 eps=1e-05");
  const tensor_map merged = compute(p, shard_inputs(p, {1, 3, 8.5}, {0, 2, 42}));
  for (const char* name : {"mean", "var", "invstd"})
    EXPECT_EQ(merged.at(name).values[0], batch.at(name).values[0]) << name;
}

TEST(reference_merge, shard_sizes_orders_of_magnitude_apart_weigh_by_count) {
  // One value at 1e6 beside a million at 0: mean 1e6/(1e6 + 1), not 5e5.
  const problem p = parse_problem("merge_statistics nc f64:f64 mb2ic1 shards=1,1000000");
  const tensor_map out = compute(p, shard_inputs(p, {1e6, 0}, {0, 1e6}));
  EXPECT_EQ(out.at("mean").values[0], 1e6 / 1000001.0);  // one division of exact integers: correctly rounded
  // M2 = 1e6 + 1 * (1e6 - mu)^2 + 1e6 * mu^2 = 1e6 + 1e12 * 1e6 / 1000001 (exactly), var = M2 / 1000001
  const long double mu = 1e6L / 1000001.0L;
  const long double m2 = 1e6L + (1e6L - mu) * (1e6L - mu) + 1e6L * mu * mu;
  EXPECT_NEAR(out.at("var").values[0], static_cast<double>(m2 / 1000001.0L), 1e-9);
}

// docs/tolerances.md 9: a non-finite shard statistic makes the outputs of its
// channel that read it undefined (NaN), and no other channel's.
TEST(reference_merge, a_non_finite_shard_statistic_undefines_only_its_channel) {
  const problem p = parse_problem("merge_statistics nc f64:f64 mb2ic3 shards=1,3 eps=4");
  const double nan = std::nan(""), inf = INFINITY;
  // Channel 0 finite; channel 1 has a NaN mean; channel 2 an infinite M2.
  const tensor_map out = compute(p, shard_inputs(p, {0, nan, 1, 4, 2, 1}, {0, 0, 0, 8, 8, inf}));
  EXPECT_EQ(out.at("mean").values[0], 3.0);
  EXPECT_EQ(out.at("var").values[0], 5.0);
  EXPECT_TRUE(std::isnan(out.at("mean").values[1]));
  EXPECT_TRUE(std::isnan(out.at("var").values[1]));
  EXPECT_TRUE(std::isnan(out.at("invstd").values[1]));
  EXPECT_EQ(out.at("mean").values[2], 1.0);  // the means {1, 1} are finite
  EXPECT_TRUE(std::isnan(out.at("var").values[2]));
  EXPECT_TRUE(std::isnan(out.at("invstd").values[2]));
  EXPECT_THROW(parse_problem("merge_statistics nc f64:f64 mb2ic2 shards=1,7 shard_var=uniform:0.5:2,inf@1"),
               input_error);
}

TEST(reference_merge, a_negative_m2_or_a_wrong_count_is_an_input_error) {
  const problem p = parse_problem("merge_statistics nc f64:f64 mb2ic1 shards=1,3");
  EXPECT_THROW(compute(p, shard_inputs(p, {0, 4}, {0, -1})), input_error);
  tensor_map in = shard_inputs(p, {0, 4}, {0, 8});
  in.at("shard_count").values[1] = 4;
  EXPECT_THROW(compute(p, in), input_error);
}

}  // namespace
}  // namespace bncheck::reference
