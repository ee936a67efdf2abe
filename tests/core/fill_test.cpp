// Fills are deterministic, representable in their format, and distributed as named.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/fill.hpp"
#include "core/tensor.hpp"

namespace bncheck {
namespace {

TEST(fill, same_seed_gives_same_values_and_other_seeds_differ) {
  const fill_spec spec{fill_kind::normal, 3.0, 2.0};
  EXPECT_EQ(generate(spec, dtype::f32, 100, 5, fill_stream::x),
            generate(spec, dtype::f32, 100, 5, fill_stream::x));
  EXPECT_NE(generate(spec, dtype::f32, 100, 5, fill_stream::x),
            generate(spec, dtype::f32, 100, 6, fill_stream::x));
  EXPECT_NE(generate(spec, dtype::f32, 100, 5, fill_stream::x),
            generate(spec, dtype::f32, 100, 5, fill_stream::dy));
}

TEST(fill, normal_has_the_requested_mean_and_spread) {
  const auto v = generate({fill_kind::normal, 10.0, 2.0}, dtype::f64, 100000, 1, fill_stream::x);
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  const double mean = s / v.size();
  for (double x : v) s2 += (x - mean) * (x - mean);
  EXPECT_NEAR(mean, 10.0, 0.05);
  EXPECT_NEAR(std::sqrt(s2 / v.size()), 2.0, 0.05);
}

TEST(fill, values_are_representable_in_the_target_format) {
  for (dtype t : {dtype::f32, dtype::f16, dtype::bf16})
    for (double x : generate({fill_kind::uniform, -3.0, 3.0}, t, 1000, 2, fill_stream::x))
      EXPECT_TRUE(representable(t, x)) << to_string(t) << " " << x;
}

TEST(fill, file_fill_cannot_be_generated) {
  EXPECT_THROW(generate({fill_kind::file, 0, 0}, dtype::f32, 4, 0, fill_stream::x), input_error);
}

TEST(fill, generate_inputs_gives_each_op_its_tensors_in_layout_shape) {
  problem p;
  p.lay = layout::nhwc;
  p.n = 2, p.c = 3, p.h = 4, p.w = 5;
  const tensor_map in = generate_inputs(p);
  ASSERT_EQ(in.count("x"), 1u);
  EXPECT_EQ(in.at("x").shape, (std::vector<int64_t>{2, 4, 5, 3}));
  EXPECT_EQ(in.at("gamma").shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(in.count("dy"), 0u);
  p.op = op_kind::backward;
  const tensor_map bw = generate_inputs(p);
  EXPECT_EQ(bw.count("dy"), 1u);
  EXPECT_EQ(bw.count("beta"), 0u);
}

// The placed values replace generated ones and leave every other element
// bit-identical to the plain fill (the draws do not shift).
TEST(fill, placed_non_finite_values_replace_only_their_elements) {
  fill_spec plain{fill_kind::normal, 2.0, 3.0};
  fill_spec placed = plain;
  placed.specials[0] = {0, special_value::nan};
  placed.specials[1] = {7, special_value::inf};
  placed.specials[2] = {99, special_value::neg_inf};
  placed.count = 3;
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    const auto a = generate(plain, t, 100, 9, fill_stream::x);
    const auto b = generate(placed, t, 100, 9, fill_stream::x);
    ASSERT_EQ(b.size(), 100u);
    EXPECT_TRUE(std::isnan(b[0]));
    EXPECT_EQ(b[7], std::numeric_limits<double>::infinity());
    EXPECT_EQ(b[99], -std::numeric_limits<double>::infinity());
    for (std::size_t i = 0; i < 100; ++i)
      if (i != 0 && i != 7 && i != 99) {
        EXPECT_TRUE(std::isfinite(b[i]));
        EXPECT_EQ(std::memcmp(&a[i], &b[i], sizeof(double)), 0) << i;
      }
  }
  EXPECT_THROW(generate(placed, dtype::f32, 99, 9, fill_stream::x), input_error);  // index 99 of 99
}

}  // namespace
}  // namespace bncheck
