// The checker tells the broken naive_variance kernel from the Eigen kernel on
// a large-offset case, and its report says where and how to reproduce.
#include <gtest/gtest.h>

#include <iostream>

#include "check/compare.hpp"
#include "check/failure_report.hpp"
#include "check/gate.hpp"
#include "check/harness.hpp"
#include "golden/store.hpp"
#include "core/kernel.hpp"
#include "kernels/registry.hpp"
#include "mutants/naive_variance.hpp"

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

// The gate over the committed corpus, as `bncheck run` judges it: the
// cancellation case must fail, with a report a person can read.
TEST(naive_variance, fails_the_gate_on_the_committed_offset_case) {
  const std::filesystem::path corpus = std::filesystem::path(BNCHECK_SOURCE_DIR) / "golden/cases";
  auto k = mutants::make_naive_variance();
  const outcome o = judge(*k, read_case(corpus / "offset_1e4_f32_nchw"));
  EXPECT_EQ(o.v, verdict::fail);
  EXPECT_GT(o.max_normalized, 1000.0);
  for (const char* part : {"FAIL offset_1e4_f32_nchw", "problem: forward_training nchw f32:f32", "kernel: naive_variance",
                           "worst elements", "stats: ", "REPRO: bncheck run --kernel naive_variance --problem '"})
    EXPECT_NE(o.report.find(part), std::string::npos) << part << "\n" << o.report;
  std::cout << o.report;  // the readable report, shown in the test log
  // The same kernel passes cases without an offset: the failure is the bug, not noise.
  EXPECT_EQ(judge(*k, read_case(corpus / "profile_pytorch_fwd")).v, verdict::pass);
}

}  // namespace
}  // namespace bncheck
