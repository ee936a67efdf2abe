// The canonical text form parses back to the same problem, and bad text is
// rejected with input_error.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/fill.hpp"
#include "core/problem.hpp"

namespace bncheck {
namespace {

TEST(problem_text, round_trips_every_layout_op_dtype_and_profile) {
  for (auto op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (auto lay : {layout::nc, layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc})
      for (auto dt : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
        for (auto prof : {profile::onnx, profile::pytorch, profile::cudnn}) {
          problem p;
          p.op = op;
          p.lay = lay;
          p.data_type = dt;
          p.param_type = dt == dtype::f64 ? dtype::f64 : dtype::f32;
          p.n = 3;
          p.c = 5;
          if (spatial_rank(lay) >= 2) p.h = 7, p.w = 2;
          if (spatial_rank(lay) == 3) p.d = 4;
          p.eps = 1e-5;
          p.momentum = 0.1;
          p.prof = prof;
          p.seed = 12345678901234ull;
          const std::string text = to_text(p);
          EXPECT_EQ(parse_problem(text), p) << text;
          EXPECT_EQ(to_text(parse_problem(text)), text);
        }
}

TEST(problem_text, keeps_doubles_and_fills_exact) {
  problem p;
  p.eps = 0.1 + 0.2;  // not the double nearest 0.3
  p.momentum = 1.0 / 3.0;
  p.x = {fill_kind::normal, 10000.0, 1e-4};
  p.gamma = {fill_kind::constant, -0.0, 0};
  p.beta = {fill_kind::file, 0, 0};
  const problem q = parse_problem(to_text(p));
  EXPECT_EQ(q, p);
  EXPECT_TRUE(std::signbit(q.gamma.a));
}

TEST(problem_text, shows_the_expected_canonical_line) {
  problem p;
  p.lay = layout::nhwc;
  p.n = 2, p.c = 3, p.h = 4, p.w = 5;
  p.seed = 7;
  EXPECT_EQ(to_text(p),
            "forward_training nhwc f32:f32 mb2ic3ih4iw5 eps=1e-05 momentum=0.1 profile=pytorch seed=7");
}

TEST(problem_text, accepts_tokens_in_any_order_with_defaults) {
  const problem p = parse_problem("profile=onnx mb2ic3 nc backward eps=0x1p-20");
  EXPECT_EQ(p.op, op_kind::backward);
  EXPECT_EQ(p.lay, layout::nc);
  EXPECT_EQ(p.prof, profile::onnx);
  EXPECT_EQ(p.eps, std::ldexp(1.0, -20));
  EXPECT_EQ(p.n, 2);
  EXPECT_EQ(p.c, 3);
}

TEST(problem_text, rejects_bad_text_with_input_error) {
  const char* bad[] = {
      "",                                        // no sizes
      "nchw mb2",                                // no channels
      "nchw mb0ic3ih2iw2",                       // zero size
      "nchw mb-1ic3ih2iw2",                      // negative size
      "nchw mb2ic3ih2iw2 eps=nan",               // NaN eps
      "nchw mb2ic3ih2iw2 eps=-1",                // negative eps
      "nchw mb2ic3ih2iw2 eps=1e-5x",             // trailing junk
      "nchw mb99999999999ic99999999999ih99999iw99999",  // overflowing count
      "nchw mb99999999999999999999999ic1",       // does not fit int64
      "nc mb2ic3ih2iw2",                         // spatial axes on nc
      "nchw mb2ic3id2ih2iw2",                    // depth on a 2-D layout
      "nchw mb2ic3ih2iw2 profile=tf",            // unknown profile
      "nchw mb2ic3ih2iw2 f32:f8",                // unknown dtype
      "nchw mb2ic3ih2iw2 f16:f16",               // parameters narrower than f32
      "nchw mb2ic3ih2iw2 x=gauss:0:1",           // unknown fill
      "nchw mb2ic3ih2iw2 colour=red",            // unknown key
      "nchw nhwc mb2ic3",                        // two layouts
  };
  for (const char* text : bad) EXPECT_THROW(parse_problem(text), input_error) << text;
}

TEST(problem_text, storages_round_trip_in_canonical_form) {
  const problem p = parse_problem("backward ncdhw f64:f64 mb2ic2id2ih2iw3 dx_storage=ndhwc x_storage=ndhwc,slice=1/3 "
                                  "dy_storage=ncdhw,slice=0/4");
  EXPECT_EQ(p.x_storage, (storage{layout::ndhwc, 3, 1}));
  EXPECT_EQ(p.dy_storage, (storage{std::nullopt, 4, 0}));  // the problem's own format is no format
  EXPECT_EQ(p.dx_storage, (storage{layout::ndhwc, 0, 0}));
  EXPECT_EQ(to_text(p),
            "backward ncdhw f64:f64 mb2ic2id2ih2iw3 eps=1e-05 momentum=0.1 profile=pytorch seed=0 "
            "x_storage=ndhwc,slice=1/3 dy_storage=ncdhw,slice=0/4 dx_storage=ndhwc");
  EXPECT_EQ(parse_problem(to_text(p)), p);
  // Storages that say "dense in the layout" are no storage at all.
  const problem q = parse_problem("forward_training nhwc f32:f32 mb2ic3ih2iw2 x_storage=nhwc y_storage=nhwc,slice=0/3");
  EXPECT_TRUE(dense_storage(q));
  EXPECT_EQ(to_text(q), to_text(parse_problem("forward_training nhwc f32:f32 mb2ic3ih2iw2")));
}

TEST(problem_text, a_storage_places_elements_by_its_format_and_slice) {
  // x: channels 1..3 of a 6-channel NHWC tensor of a 2-D NCHW problem.
  const problem p = parse_problem("forward_training nchw f32:f32 mb2ic3ih2iw5 x_storage=nhwc,slice=1/6");
  const placement x = placement_of(p, "x");
  EXPECT_EQ(x.n_stride, 60);  // h*w*6
  EXPECT_EQ(x.c_stride, 1);
  EXPECT_EQ(x.s_stride, 6);
  EXPECT_EQ(x.offset, 1);
  EXPECT_EQ(x.span, 120);
  EXPECT_EQ(x.at(1, 2, 7), 60 + 2 + 42);
  const placement y = placement_of(p, "y");  // dense NCHW: offset() itself
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t s = 0; s < 10; ++s) EXPECT_EQ(y.at(i, c, s), offset(p, i, c, s));
  EXPECT_EQ(y.offset, 0);
  EXPECT_EQ(y.span, element_count(p));
  // Channel-first slice: the samples step over the whole wider tensor.
  const placement z = placement_of(parse_problem("forward_inference nchw f32:f32 mb2ic3ih2iw5 y_storage=nchw,slice=2/5"), "y");
  EXPECT_EQ(z.n_stride, 50);
  EXPECT_EQ(z.c_stride, 10);
  EXPECT_EQ(z.s_stride, 1);
  EXPECT_EQ(z.offset, 20);
  EXPECT_EQ(z.span, 100);
}

TEST(problem_text, rejects_storages_that_do_not_fit_the_problem) {
  const char* bad[] = {
      "forward_training nchw f32:f32 mb2ic3ih2iw2 dy_storage=nhwc",          // forward has no dy
      "backward nchw f32:f32 mb2ic3ih2iw2 y_storage=nhwc",                   // backward has no y
      "forward_training nc f32:f32 mb2ic3 x_storage=nchw",                   // other spatial rank
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=ncdhw",          // other spatial rank
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=nchw,slice=1/3",  // does not hold ic3
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=nchw,slice=0/0",  // no channels
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=nchw,slice=-1/4",
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=nchw,slice=1",
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=nchw,cut=1/4",
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=",
      "forward_training nchw f32:f32 mb2ic3ih2iw2 dx_storage=nhwc",          // forward has no dx
      "forward_training nchw f32:f32 mb2ic3ih2iw2 x_storage=nchw,slice=0/999999999999999999",  // overflows
      "merge_statistics nc f32:f32 mb2ic3 shards=1,2 x_storage=nc,slice=0/4",  // no data tensors
  };
  for (const char* text : bad) EXPECT_THROW(parse_problem(text), input_error) << text;
}

// Found by fuzz/fill.cpp: parse_fill and parse_double quoted their text raw,
// so a newline in it broke the one-line message.
TEST(problem_text, a_bad_fill_or_number_is_quoted_on_one_line) {
  for (const char* text : {"const:1\n2", "normal:0\r:1", "nor\nmal:0:1"}) {
    try {
      parse_fill(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const input_error& e) {
      EXPECT_EQ(std::string(e.what()).find_first_of("\n\r"), std::string::npos) << e.what();
    }
  }
}

// Issue 12, item 1: a fill places a few non-finite values (",nan@I", ",inf@I",
// ",-inf@I", flat indices in memory order, strictly increasing).
TEST(problem_text, places_non_finite_values_and_round_trips) {
  const char* text =
      "forward_training nchw f32:f32 mb2ic3ih3iw3 eps=1e-05 momentum=0.1 profile=pytorch seed=1 "
      "x=normal:0:1,nan@5,inf@6,-inf@53 gamma=uniform:0.5:2,nan@2 running_var=uniform:0.5:2,inf@0";
  const problem p = parse_problem(text);
  ASSERT_EQ(p.x.count, 3);
  EXPECT_EQ(p.x.specials[0].index, 5);
  EXPECT_EQ(p.x.specials[0].value, special_value::nan);
  EXPECT_EQ(p.x.specials[1].index, 6);
  EXPECT_EQ(p.x.specials[1].value, special_value::inf);
  EXPECT_EQ(p.x.specials[2].index, 53);
  EXPECT_EQ(p.x.specials[2].value, special_value::neg_inf);
  EXPECT_EQ(p.gamma.count, 1);
  EXPECT_EQ(p.running_var.specials[0].value, special_value::inf);
  EXPECT_EQ(to_text(p), text);
  EXPECT_EQ(parse_problem(to_text(p)), p);
  // The plain fill is a different problem: the placements are part of it.
  EXPECT_FALSE(parse_problem("nchw mb2ic3ih3iw3 seed=1 x=normal:0:1") == p);
}

TEST(problem_text, rejects_bad_non_finite_placements_on_one_line) {
  const char* bad[] = {
      "nchw mb2ic3ih3iw3 x=const:nan",             // a non-finite parameter is not a placement
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan@54",     // x has 54 elements
      "nchw mb2ic3ih3iw3 gamma=const:1,inf@3",     // gamma has 3
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan@5,inf@5",  // the same index twice
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan@6,inf@5",  // not increasing
      "nchw mb2ic3ih3iw3 x=file,nan@1",            // file places nothing
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan",        // no index
      "nchw mb2ic3ih3iw3 x=normal:0:1,snan@1",     // unknown value
      "nchw mb2ic3ih3iw3 x=normal:0:1,+inf@1",     // +inf is written inf
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan@-1",     // negative index
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan@01",     // not canonical
      "nchw mb2ic3ih3iw3 x=normal:0:1,",           // empty placement
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan@1,nan@2,nan@3,nan@4,nan@5,nan@6,nan@7,nan@8,nan@9",  // more than 8
      "nchw mb2ic3ih3iw3 x=normal:0:1,nan@99999999999999999999",  // does not fit int64
  };
  for (const char* text : bad) {
    try {
      parse_problem(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const input_error& e) {
      const std::string what = e.what();
      EXPECT_FALSE(what.empty());
      EXPECT_EQ(what.find_first_of("\n\r"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace bncheck
