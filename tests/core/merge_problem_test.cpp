// merge_statistics as a problem: its text form with the shard counts round
// trips, its inputs have the documented names, shapes and formats, and a
// malformed merge problem is refused with input_error.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/kernel.hpp"
#include "core/problem.hpp"
#include "core/tensor.hpp"

namespace bncheck {
namespace {

TEST(merge_problem, text_with_shard_counts_round_trips) {
  const std::string text =
      "merge_statistics nc f32:f32 mb3ic4 shards=1,1000,1000000 eps=1e-05 momentum=0.1 profile=pytorch seed=7 "
      "shard_mean=normal:0:100";
  const problem p = parse_problem(text);
  EXPECT_EQ(p.op, op_kind::merge_statistics);
  EXPECT_EQ(p.shards, (std::vector<int64_t>{1, 1000, 1000000}));
  EXPECT_EQ(p.shard_mean.b, 100.0);
  EXPECT_EQ(to_text(p), text);
  EXPECT_EQ(parse_problem(to_text(p)), p);
}

TEST(merge_problem, counts_far_beyond_memory_are_fine_since_no_data_is_made) {
  const problem p = parse_problem("merge_statistics nc f64:f64 mb2ic1 shards=1,4503599627370496");
  EXPECT_EQ(p.shards.back(), int64_t{1} << 52);
}

TEST(merge_problem, inputs_are_counts_means_and_m2s_with_m2_zero_for_a_shard_of_one) {
  const problem p = parse_problem("merge_statistics nc f32:f32 mb3ic2 shards=1,10,1000000 seed=3");
  EXPECT_EQ(input_names(p), (std::vector<std::string>{"shard_count", "shard_mean", "shard_m2"}));
  EXPECT_EQ(output_names(p), (std::vector<std::string>{"mean", "var", "invstd"}));
  const tensor_map in = generate_inputs(p);
  EXPECT_EQ(in.at("shard_count").type, dtype::f64);
  EXPECT_EQ(in.at("shard_count").values, (std::vector<double>{1, 10, 1000000}));
  EXPECT_EQ(in.at("shard_mean").shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(in.at("shard_m2").type, dtype::f32);
  const std::vector<double>& m2 = in.at("shard_m2").values;
  EXPECT_EQ(m2[0], 0.0);  // shard 0, both channels: one value each
  EXPECT_EQ(m2[1], 0.0);
  // default shard_var is uniform in [0.5, 2): M2 = (n - 1) v
  for (std::size_t k = 2; k < 4; ++k) EXPECT_TRUE(m2[k] >= 9 * 0.5 && m2[k] <= 9 * 2) << m2[k];
  for (std::size_t k = 4; k < 6; ++k) EXPECT_TRUE(m2[k] >= 999999 * 0.5 && m2[k] <= 999999 * 2.0) << m2[k];
}

TEST(merge_problem, slots_carry_the_shard_buffers_in_and_the_statistics_out) {
  double count = 0, mean = 0, m2 = 0, out[3];
  const kernel_io io = bind_io(op_kind::merge_statistics, [&](const std::string& name) -> void* {
    if (name == "shard_count") return &count;
    if (name == "shard_mean") return &mean;
    if (name == "shard_m2") return &m2;
    return name == "mean" ? &out[0] : name == "var" ? &out[1] : &out[2];
  });
  EXPECT_EQ(io.shard_count, &count);
  EXPECT_EQ(io.shard_mean, &mean);
  EXPECT_EQ(io.shard_m2, &m2);
  EXPECT_EQ(io.invstd, &out[2]);
  EXPECT_EQ(io.x, nullptr);
  EXPECT_TRUE(optional_output(op_kind::merge_statistics, "var"));
  EXPECT_TRUE(optional_output(op_kind::merge_statistics, "invstd"));
  EXPECT_FALSE(optional_output(op_kind::merge_statistics, "mean"));
}

TEST(merge_problem, malformed_merges_are_input_errors) {
  const char* bad[] = {
      "merge_statistics nc f32:f32 mb2ic3",                             // no shards=
      "merge_statistics nc f32:f32 mb2ic3 shards=1,2,3",                // three counts for mb2
      "merge_statistics nc f32:f32 mb2ic3 shards=1,0",                  // an empty shard
      "merge_statistics nc f32:f32 mb2ic3 shards=1,-4",                 // a negative count
      "merge_statistics nc f32:f32 mb2ic3 shards=1,x",                  // not a number
      "merge_statistics nc f32:f32 mb2ic3 shards=1,",                   // an empty count
      "merge_statistics nc f64:f64 mb2ic1 shards=9007199254740992,1",   // N past 2^53
      "merge_statistics nchw f32:f32 mb2ic3ih2iw2 shards=1,2",          // data layout
      "merge_statistics nc f16:f32 mb2ic3 shards=1,2",                  // two formats
      "forward_training nc f32:f32 mb2ic3 shards=1,2",                  // shards on another op
  };
  for (const char* text : bad) EXPECT_THROW(parse_problem(text), input_error) << text;
}

}  // namespace
}  // namespace bncheck
