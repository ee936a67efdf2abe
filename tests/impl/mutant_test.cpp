// The checker tells the broken naive_variance kernel from the Eigen kernel on
// a large-offset case, and its report says where and how to reproduce.
#include <gtest/gtest.h>

#include "check/compare.hpp"
#include "check/harness.hpp"
#include "core/kernel.hpp"
#include "tests/mutants/naive_variance.hpp"

namespace bncheck {
namespace {

// x ~ 10^4 with unit spread: E[x^2] ~ 10^8, where a float32 ulp is 8.
problem offset_case() {
  return parse_problem(
      "forward_training nchw f32:f32 mb2ic3ih4iw5 eps=1e-05 momentum=0.1 profile=pytorch seed=7 "
      "x=normal:10000:1");
}

TEST(naive_variance, fails_at_a_large_offset_with_a_repro_line) {
  auto k = mutants::make_naive_variance();
  EXPECT_EQ(k->name(), "naive_variance");
  const test_case c = make_case(offset_case());
  const kernel_output out = run_kernel(*k, c.prob, c.inputs);
  ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
  const check_result r = compare(c, out.got);
  EXPECT_FALSE(r.pass);
  ASSERT_FALSE(r.worst.empty());
  const std::string report = failure_report(c, k->name(), r);
  EXPECT_NE(report.find("REPRO:"), std::string::npos) << report;
  EXPECT_NE(report.find("(" + r.worst.front().tensor + ")"), std::string::npos) << report;
  EXPECT_NE(report.find(r.worst.front().tensor + "["), std::string::npos) << report;
}

TEST(naive_variance, eigen_kernel_passes_the_same_case) {
  auto k = make_kernel("eigen");
  const test_case c = make_case(offset_case());
  const kernel_output out = run_kernel(*k, c.prob, c.inputs);
  ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
  const check_result r = compare(c, out.got);
  EXPECT_TRUE(r.pass) << failure_report(c, k->name(), r);
}

}  // namespace
}  // namespace bncheck
