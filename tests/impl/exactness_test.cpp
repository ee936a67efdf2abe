// Exact properties of the Eigen kernel, checked bit for bit without the
// reference: a constant channel or a single value gives exactly beta, and the
// memory layout does not change a single output bit.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "core/kernel.hpp"
#include "core/tensor.hpp"
#include "kernels/registry.hpp"
#include "tests/impl/direct_call.hpp"

namespace bncheck {
namespace {

using testing::call_direct;
using testing::direct_call;

constexpr dtype data_types[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};

std::unique_ptr<kernel> eigen() { return make_kernel("eigen"); }

problem sized(op_kind op, layout lay, dtype dt, int64_t n, int64_t c, int64_t d, int64_t h,
              int64_t w) {
  problem p;
  p.op = op;
  p.lay = lay;
  p.data_type = dt;
  p.param_type = dtype::f32;
  p.n = n, p.c = c, p.d = d, p.h = h, p.w = w;
  p.seed = 5;
  return p;
}

// The inputs of p; for backward the saved statistics are the kernel's own
// forward_training outputs on the same x (any values would do for exactness).
tensor_map inputs_for(kernel& k, const problem& p) {
  tensor_map in = generate_inputs(p);
  if (p.op != op_kind::backward) return in;
  problem fwd = p;
  fwd.op = op_kind::forward_training;
  const direct_call f = call_direct(k, fwd, generate_inputs(fwd));
  EXPECT_EQ(f.result.status, kernel_status::ok) << f.result.message;
  for (const char* name : {"mean", "var", "invstd"}) {
    tensor t{p.param_type, {p.c}, {}};
    for (int64_t c = 0; c < p.c; ++c) t.values.push_back(f.at(name, p.param_type, c));
    in[name] = t;
  }
  return in;
}

TEST(eigen_exactness, constant_channel_gives_beta_exactly) {
  auto k = eigen();
  // 0.1 is not dyadic: a sum of M copies rounds, so only a mean that
  // reproduces a constant exactly (here: shift by the first value) gives 0.
  for (double value : {0.1, 10000.3, -7.0})
    for (dtype dt : data_types)
      for (layout lay : {layout::nc, layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc}) {
        const int rank = spatial_rank(lay);
        problem p = sized(op_kind::forward_training, lay, dt, rank ? 3 : 700, 4, rank == 3 ? 3 : 1,
                          rank ? 15 : 1, rank ? 13 : 1);
        p.x = {fill_kind::constant, value, 0};
        const tensor_map in = generate_inputs(p);
        const direct_call out = call_direct(*k, p, in);
        ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
        const double x0 = in.at("x").values[0];
        for (int64_t c = 0; c < p.c; ++c) {
          ASSERT_EQ(out.at("mean", p.param_type, c), round_to(p.param_type, x0)) << to_text(p);
          ASSERT_EQ(out.at("var", p.param_type, c), 0.0) << to_text(p);
          const double beta = round_to(dt, in.at("beta").values[c]);
          for (int64_t i = 0; i < p.n; ++i)
            for (int64_t s = 0; s < spatial_size(p); ++s)
              ASSERT_EQ(out.at("y", dt, offset(p, i, c, s)), beta) << to_text(p);
        }
      }
}

TEST(eigen_exactness, single_sample_nc_gives_beta_and_undefined_unbiased_variance) {
  auto k = eigen();
  for (dtype dt : data_types)
    for (profile prof : {profile::onnx, profile::pytorch, profile::cudnn}) {
      problem p = sized(op_kind::forward_training, layout::nc, dt, 1, 37, 1, 1, 1);
      p.prof = prof;
      p.x = {fill_kind::normal, 5.0, 3.0};
      const tensor_map in = generate_inputs(p);
      const direct_call out = call_direct(*k, p, in);
      ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
      for (int64_t c = 0; c < p.c; ++c) {
        EXPECT_EQ(out.at("y", dt, c), round_to(dt, in.at("beta").values[c])) << to_text(p);
        EXPECT_EQ(out.at("mean", p.param_type, c), round_to(p.param_type, in.at("x").values[c]));
        EXPECT_EQ(out.at("var", p.param_type, c), 0.0);
        const double rv = out.at("running_var", p.param_type, c);
        if (prof == profile::onnx)
          EXPECT_EQ(rv, round_to(p.param_type, p.momentum * in.at("running_var").values[c]));
        else
          EXPECT_TRUE(std::isnan(rv)) << "unbiased variance of one value must be NaN";
      }
    }
}

// The same logical tensor in another layout: element (i, c, s) moves from
// offset(from, ...) to offset(to, ...).
tensor relayout(const problem& from, const problem& to, const tensor& t) {
  tensor r{t.type, data_shape(to), std::vector<double>(t.values.size())};
  for (int64_t i = 0; i < from.n; ++i)
    for (int64_t c = 0; c < from.c; ++c)
      for (int64_t s = 0; s < spatial_size(from); ++s)
        r.values[offset(to, i, c, s)] = t.values[offset(from, i, c, s)];
  return r;
}

// Runs p in layout a and in layout b on the same logical data and requires
// identical bytes in every output element.
void expect_same_bits(kernel& k, problem p, layout a, layout b) {
  p.lay = a;
  problem q = p;
  q.lay = b;
  const tensor_map in_a = inputs_for(k, p);
  tensor_map in_b = in_a;
  for (const char* name : {"x", "dy"}) {
    if (in_a.count(name)) in_b[name] = relayout(p, q, in_a.at(name));
  }
  const direct_call out_a = call_direct(k, p, in_a);
  const direct_call out_b = call_direct(k, q, in_b);
  ASSERT_EQ(out_a.result.status, kernel_status::ok) << out_a.result.message;
  ASSERT_EQ(out_b.result.status, kernel_status::ok) << out_b.result.message;
  for (const auto& name : output_names(p)) {
    const dtype t = type_of(p, name);
    const bool data = name == "y" || name == "dx";
    for (int64_t i = 0; i < (data ? p.n : 1); ++i)
      for (int64_t c = 0; c < p.c; ++c)
        for (int64_t s = 0; s < (data ? spatial_size(p) : 1); ++s) {
          const int64_t at_a = data ? offset(p, i, c, s) : c, at_b = data ? offset(q, i, c, s) : c;
          ASSERT_EQ(out_a.bytes(name, t, at_a), out_b.bytes(name, t, at_b))
              << name << "[" << at_a << "] " << to_text(p) << " vs " << to_string(b);
        }
  }
  if (p.op != op_kind::forward_training) return;
  for (const char* name : {"var", "invstd"}) {
    for (int64_t c = 0; c < p.c; ++c)
      ASSERT_EQ(out_a.bytes(name, p.param_type, c), out_b.bytes(name, p.param_type, c)) << name;
  }
}

TEST(eigen_exactness, channel_first_and_channel_last_give_identical_bits) {
  auto k = eigen();
  // Sizes with M above the 256-value chunk and S not dividing it, so chunks
  // straddle samples; one with M below a chunk; and one whose channel-first
  // channels are too large to go all together through the cache (20000 f64
  // values, 160 KB, per channel, above the 128 KiB budget: blocks of one
  // channel, four per thread, each written while the next is read).
  struct shape {
    int64_t n, c, d, h, w;
  };
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (dtype dt : data_types)
      for (fill_spec x : {default_x_fill, fill_spec{fill_kind::normal, 10000, 1}}) {
        for (shape s : {shape{5, 6, 1, 11, 10}, shape{3, 5, 1, 7, 3}, shape{9, 3, 1, 31, 1},
                        shape{20, 8, 1, 40, 25}}) {
          problem p = sized(op, layout::nchw, dt, s.n, s.c, s.d, s.h, s.w);
          p.x = x;
          expect_same_bits(*k, p, layout::nchw, layout::nhwc);
        }
        problem p = sized(op, layout::ncdhw, dt, 2, 3, 3, 7, 13);
        p.x = x;
        expect_same_bits(*k, p, layout::ncdhw, layout::ndhwc);
      }
}

TEST(eigen_exactness, nc_and_one_by_one_nchw_give_identical_bits) {
  // The same memory read by the channel-last and the channel-first loops.
  auto k = eigen();
  for (op_kind op : {op_kind::forward_training, op_kind::backward})
    for (dtype dt : data_types) {
      problem p = sized(op, layout::nc, dt, 300, 7, 1, 1, 1);
      problem q = p;
      q.lay = layout::nchw;
      const tensor_map in = inputs_for(*k, p);
      tensor_map in_q = in;
      for (auto& [name, t] : in_q) t.shape = shape_of(q, name);
      const direct_call a = call_direct(*k, p, in);
      const direct_call b = call_direct(*k, q, in_q);
      ASSERT_EQ(a.result.status, kernel_status::ok) << a.result.message;
      for (const auto& name : output_names(p))
        ASSERT_EQ(a.buffers.at(name), b.buffers.at(name)) << name << " " << to_text(p);
    }
}

}  // namespace
}  // namespace bncheck
