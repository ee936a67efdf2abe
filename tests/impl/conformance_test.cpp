// The Eigen kernel against the reference under the tolerance model, through
// the harness: a grid of small problems over every op, layout, data format
// and profile, and the running statistics of each profile.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "check/failure_report.hpp"
#include "check/harness.hpp"
#include "core/kernel.hpp"
#include "kernels/registry.hpp"
#include "tests/support/problem_sweep.hpp"

namespace bncheck {
namespace {

using sizes = testing::sweep_sizes;

// Per layout rank: a single sample (nc only), odd sizes, and M above the
// kernel's 256-value chunk with chunks straddling samples.
std::vector<sizes> sizes_for(layout lay) {
  switch (spatial_rank(lay)) {
    case 0: return {{1, 7, 1, 1, 1}, {16, 5, 1, 1, 1}, {300, 3, 1, 1, 1}};
    case 2: return {{3, 5, 1, 7, 3}, {2, 3, 1, 4, 5}, {2, 2, 1, 15, 11}};
    default: return {{3, 5, 2, 3, 3}, {1, 2, 5, 8, 8}};
  }
}

std::vector<problem> grid() {
  uint64_t seed = 100;
  std::vector<problem> out = testing::problem_sweep(seed, sizes_for);
  // Large offsets (x ~ 10^4 with unit spread) and constant channels.
  for (op_kind op : {op_kind::forward_training, op_kind::backward})
    for (layout lay : {layout::nc, layout::nchw, layout::nhwc})
      for (dtype dt : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
        for (fill_spec x : {fill_spec{fill_kind::normal, 10000, 1}, fill_spec{fill_kind::constant, 0.1, 0}}) {
          problem p;
          p.op = op;
          p.lay = lay;
          p.data_type = dt;
          p.n = lay == layout::nc ? 64 : 4, p.c = 3;
          if (lay != layout::nc) p.h = 5, p.w = 7;
          p.x = x;
          p.seed = seed++;
          out.push_back(p);
        }
  // Channels too large to go all together through the cache (20000 f64
  // values per channel): the kernel works on blocks of channels.
  for (op_kind op : {op_kind::forward_training, op_kind::backward}) {
    problem p;
    p.op = op;
    p.data_type = p.param_type = dtype::f64;
    p.n = 20, p.c = 8, p.h = 40, p.w = 25;
    p.seed = seed++;
    out.push_back(p);
  }
  return out;
}

// "forward_training_nchw_f32_f32_pytorch_mb3ic5id1ih7iw3_s12": unique, and only
// letters, digits and underscores as GoogleTest requires.
std::string case_name(const ::testing::TestParamInfo<problem>& info) {
  const problem& p = info.param;
  std::string s = std::string(to_string(p.op)) + "_" + std::string(to_string(p.lay)) + "_" +
                  std::string(to_string(p.data_type)) + "_" + std::string(to_string(p.param_type)) +
                  "_" + std::string(to_string(p.prof)) + "_mb" + std::to_string(p.n) + "ic" +
                  std::to_string(p.c) + "id" + std::to_string(p.d) + "ih" + std::to_string(p.h) +
                  "iw" + std::to_string(p.w) + "_s" + std::to_string(p.seed);
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

class eigen_conformance : public ::testing::TestWithParam<problem> {};

TEST_P(eigen_conformance, matches_the_reference_within_tolerance) {
  const problem& p = GetParam();
  auto k = make_kernel("eigen");
  const test_case c = make_case(p);
  const kernel_output out = run_kernel(*k, p, c.inputs);
  ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
  const check_result r = compare(c, out.got);
  EXPECT_TRUE(r.pass) << failure_report(c, k->name(), r);
}

INSTANTIATE_TEST_SUITE_P(grid, eigen_conformance, ::testing::ValuesIn(grid()), case_name);

TEST(eigen_running_stats, follow_each_profile_and_differ_between_them) {
  auto k = make_kernel("eigen");
  std::vector<double> running_var_by_profile;
  for (profile prof : {profile::onnx, profile::pytorch, profile::cudnn}) {
    problem p;
    p.lay = layout::nchw;
    p.prof = prof;
    p.momentum = 0.3;
    p.n = 4, p.c = 3, p.h = 5, p.w = 5;
    p.seed = 21;
    const test_case c = make_case(p);
    const kernel_output out = run_kernel(*k, p, c.inputs);
    ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
    const check_result r = compare(c, out.got);
    EXPECT_TRUE(r.pass) << failure_report(c, k->name(), r);
    for (const char* name : {"running_mean", "running_var"})
      for (int64_t ch = 0; ch < p.c; ++ch)
        EXPECT_NE(out.got.at(name).values[ch], c.inputs.at(name).values[ch]) << name << " not updated";
    running_var_by_profile.push_back(out.got.at("running_var").values[0]);
  }
  // onnx weighs the old value by the momentum and keeps the biased variance.
  EXPECT_NE(running_var_by_profile[0], running_var_by_profile[1]);
  EXPECT_EQ(running_var_by_profile[1], running_var_by_profile[2]);
}

TEST(eigen_running_stats, single_value_gives_nan_unbiased_variance_like_the_reference) {
  auto k = make_kernel("eigen");
  for (profile prof : {profile::pytorch, profile::cudnn}) {
    problem p;
    p.lay = layout::nc;
    p.prof = prof;
    p.n = 1, p.c = 5;
    const test_case c = make_case(p);
    const kernel_output out = run_kernel(*k, p, c.inputs);
    ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
    const check_result r = compare(c, out.got);
    EXPECT_TRUE(r.pass) << failure_report(c, k->name(), r);
    EXPECT_TRUE(std::isnan(out.got.at("running_var").values[0]));
  }
}

}  // namespace
}  // namespace bncheck
