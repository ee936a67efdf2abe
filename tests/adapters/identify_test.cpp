// identify() names the conventions of kernels whose conventions are known:
// the Eigen kernel, the correct controls, mutants that each change one
// convention (mutants/catalog.hpp), and the adapters when built.
#include <gtest/gtest.h>

#include <string>

#include "identify/identify.hpp"
#include "kernels/registry.hpp"
#include "mutants/catalog.hpp"

namespace bncheck::identify {
namespace {

report of_mutant(const std::string& name) {
  std::unique_ptr<kernel> k = mutants::make_mutant(name);
  EXPECT_NE(k, nullptr) << name;
  return identify(*k);
}

const running_stats& running_for(const report& r, profile prof) {
  for (const running_stats& each : r.running)
    if (each.prof == prof) return each;
  throw std::logic_error("no running-statistics finding for a profile");
}

// The conventions of the reference (docs/reference.md), which every correct
// kernel that implements everything follows.
void expect_reference_conventions(const report& r) {
  SCOPED_TRACE(r.kernel);
  EXPECT_TRUE(r.norm.determined) << r.norm.evidence;
  EXPECT_EQ(r.norm.eps, eps_placement::inside_sqrt);
  EXPECT_EQ(r.norm.var, variance_kind::biased);
  EXPECT_TRUE(r.norm.affine_ok);
  EXPECT_EQ(r.saved.mean, written::expected);
  EXPECT_EQ(r.saved.var, written::expected);
  EXPECT_EQ(r.saved.var_kind, variance_kind::biased);
  EXPECT_EQ(r.saved.invstd, written::expected);
  EXPECT_EQ(r.saved.invstd_eps, eps_placement::inside_sqrt);
  const running_stats& onnx = running_for(r, profile::onnx);
  EXPECT_TRUE(onnx.updated);
  EXPECT_EQ(onnx.weight, momentum_weight::on_running) << onnx.evidence;
  EXPECT_EQ(onnx.var, variance_kind::biased) << onnx.evidence;
  for (profile prof : {profile::pytorch, profile::cudnn}) {
    const running_stats& each = running_for(r, prof);
    EXPECT_EQ(each.weight, momentum_weight::on_batch) << each.evidence;
    EXPECT_EQ(each.var, variance_kind::unbiased) << each.evidence;
  }
  EXPECT_TRUE(r.infer.uses_running) << r.infer.evidence;
  EXPECT_EQ(r.infer.eps, eps_placement::inside_sqrt) << r.infer.evidence;
  EXPECT_TRUE(r.backward.determined);
  EXPECT_TRUE(r.backward.mean) << r.backward.evidence;
  EXPECT_EQ(r.eps0.result, zero_variance::kind::undefined) << r.eps0.evidence;
  EXPECT_TRUE(r.constant.exact) << r.constant.evidence;
}

TEST(identify, eigen_kernel_follows_the_reference_conventions_everywhere) {
  std::unique_ptr<kernel> k = make_kernel("eigen");
  const report r = identify(*k);
  expect_reference_conventions(r);
  EXPECT_TRUE(r.backward.invstd);
  EXPECT_FALSE(r.backward.var) << "the Eigen kernel reads var only when invstd is absent";
  EXPECT_EQ(r.probe_config, "nc f32:f32, profile pytorch");
  for (const support_row& row : r.support) EXPECT_EQ(row.status, kernel_status::ok) << row.message;
  for (const edge_case& e : r.edges) EXPECT_EQ(e.status, kernel_status::ok) << e.name << ": " << e.message;
  const std::string text = format(r);
  EXPECT_NE(text.find("eps inside the square root"), std::string::npos) << text;
  EXPECT_NE(text.find("saved mean, invstd"), std::string::npos) << text;
}

TEST(identify, controls_follow_the_reference_conventions) {
  for (const mutants::entry& e : mutants::control_catalog()) {
    std::unique_ptr<kernel> k = mutants::make_control(e.name);
    expect_reference_conventions(identify(*k));
  }
}

TEST(identify, names_the_eps_placement_of_mutants) {
  EXPECT_EQ(of_mutant("eps_outside_sqrt").norm.eps, eps_placement::outside_sqrt);
  EXPECT_EQ(of_mutant("eps_omitted").norm.eps, eps_placement::omitted);
  const report floor = of_mutant("eps_as_floor");
  EXPECT_EQ(floor.norm.eps, eps_placement::floor);
  EXPECT_EQ(floor.norm.var, variance_kind::biased) << floor.norm.evidence;
  EXPECT_EQ(of_mutant("eps_outside_sqrt").infer.eps, eps_placement::outside_sqrt);
}

TEST(identify, names_unbiased_normalization) {
  const report r = of_mutant("unbiased_normalization");
  EXPECT_EQ(r.norm.eps, eps_placement::inside_sqrt);
  EXPECT_EQ(r.norm.var, variance_kind::unbiased) << r.norm.evidence;
  EXPECT_EQ(r.saved.invstd_var, variance_kind::unbiased) << r.saved.evidence;
}

TEST(identify, names_reversed_momentum) {
  const report r = of_mutant("momentum_reversed");
  EXPECT_EQ(running_for(r, profile::pytorch).weight, momentum_weight::on_running);
  EXPECT_EQ(running_for(r, profile::cudnn).weight, momentum_weight::on_running);
  EXPECT_EQ(running_for(r, profile::onnx).weight, momentum_weight::on_running);
}

TEST(identify, names_running_statistics_not_updated) {
  const report r = of_mutant("running_stats_not_updated");
  for (const running_stats& each : r.running) {
    EXPECT_EQ(each.status, kernel_status::ok);
    EXPECT_FALSE(each.updated) << each.evidence;
  }
}

TEST(identify, names_the_running_variance_bias) {
  const report r = of_mutant("running_var_bias_swapped");
  EXPECT_EQ(running_for(r, profile::pytorch).var, variance_kind::biased);
  EXPECT_EQ(running_for(r, profile::onnx).var, variance_kind::unbiased);
}

TEST(identify, finds_which_saved_statistics_backward_reads) {
  const report r = of_mutant("backward_var_as_invstd");
  EXPECT_TRUE(r.backward.mean);
  EXPECT_TRUE(r.backward.var) << r.backward.evidence;
  EXPECT_FALSE(r.backward.invstd) << r.backward.evidence;
}

TEST(identify, finds_inference_on_batch_statistics) {
  const report r = of_mutant("inference_uses_batch_stats");
  EXPECT_TRUE(r.infer.uses_batch) << r.infer.evidence;
  EXPECT_FALSE(r.infer.uses_running);
}

TEST(identify, finds_the_zero_variance_guard_and_the_folded_affine_map) {
  EXPECT_EQ(of_mutant("invstd_zero_guard").eps0.result, zero_variance::kind::guarded);
  const report folded = of_mutant("folded_unshifted");
  EXPECT_FALSE(folded.constant.exact) << folded.constant.evidence;
  EXPECT_GT(folded.constant.max_miss, 0);
}

TEST(identify, finds_saved_statistics_swapped) {
  const report r = of_mutant("saved_stats_swapped");
  EXPECT_NE(r.saved.var, written::expected) << r.saved.evidence;
  EXPECT_NE(r.saved.invstd, written::expected) << r.saved.evidence;
  EXPECT_EQ(r.norm.eps, eps_placement::inside_sqrt);
}

TEST(identify, onednn_conventions) {
  std::unique_ptr<kernel> k = make_kernel("onednn");
  if (!k) GTEST_SKIP() << "the onednn adapter is not built: libdnnl-dev was not found at configure time";
  const report r = identify(*k);
  // oneDNN saves mean and biased var, and declares invstd and the running
  // statistics not produced (docs/adapters.md).
  EXPECT_EQ(r.norm.eps, eps_placement::inside_sqrt);
  EXPECT_EQ(r.norm.var, variance_kind::biased);
  EXPECT_EQ(r.saved.var_kind, variance_kind::biased);
  EXPECT_EQ(r.saved.invstd, written::not_produced);
  for (profile prof : {profile::onnx, profile::pytorch, profile::cudnn})
    EXPECT_FALSE(running_for(r, prof).produced) << running_for(r, prof).evidence;
  EXPECT_TRUE(r.infer.uses_running);
  EXPECT_EQ(r.infer.eps, eps_placement::inside_sqrt);
  EXPECT_TRUE(r.backward.mean);
  EXPECT_TRUE(r.backward.var) << r.backward.evidence;
  EXPECT_FALSE(r.backward.invstd) << r.backward.evidence;
  EXPECT_TRUE(r.constant.exact) << r.constant.evidence;
}

TEST(identify, libtorch_conventions) {
  std::unique_ptr<kernel> k = make_kernel("libtorch");
  if (!k) GTEST_SKIP() << "the libtorch adapter is not built: libtorch-dev was not found at configure time";
  const report r = identify(*k);
  EXPECT_EQ(r.norm.eps, eps_placement::inside_sqrt);
  EXPECT_EQ(r.norm.var, variance_kind::biased);
  EXPECT_EQ(r.saved.invstd_eps, eps_placement::inside_sqrt);
  EXPECT_EQ(r.saved.var, written::not_produced);
  EXPECT_EQ(running_for(r, profile::onnx).status, kernel_status::unimplemented);
  const running_stats& pytorch = running_for(r, profile::pytorch);
  EXPECT_EQ(pytorch.weight, momentum_weight::on_batch);
  EXPECT_EQ(pytorch.var, variance_kind::unbiased);
  EXPECT_TRUE(r.backward.mean);
  EXPECT_TRUE(r.backward.invstd);
  EXPECT_FALSE(r.backward.var) << r.backward.evidence;
  EXPECT_EQ(r.eps0.result, zero_variance::kind::guarded) << r.eps0.evidence;
  EXPECT_FALSE(r.constant.exact) << r.constant.evidence;
}

TEST(identify, dlib_conventions) {
  std::unique_ptr<kernel> k = make_kernel("dlib");
  if (!k) GTEST_SKIP() << "the dlib adapter is not built: libdlib-dev was not found at configure time";
  const report r = identify(*k);
  EXPECT_EQ(r.norm.eps, eps_placement::inside_sqrt);
  EXPECT_EQ(r.norm.var, variance_kind::biased);
  EXPECT_EQ(r.saved.var, written::not_produced);
  EXPECT_EQ(r.saved.invstd_eps, eps_placement::inside_sqrt);
  const running_stats& pytorch = running_for(r, profile::pytorch);
  EXPECT_EQ(pytorch.weight, momentum_weight::on_batch);
  EXPECT_EQ(pytorch.var, variance_kind::unbiased);
  EXPECT_EQ(running_for(r, profile::onnx).status, kernel_status::unimplemented);
  EXPECT_TRUE(r.backward.invstd);
  EXPECT_FALSE(r.backward.var);
  EXPECT_EQ(r.eps0.status, kernel_status::unimplemented);
  for (const support_row& row : r.support) {
    const bool runs = row.data == dtype::f32 && row.param == dtype::f32 && row.lay != layout::nhwc &&
                      row.lay != layout::ndhwc;
    EXPECT_EQ(row.status, runs ? kernel_status::ok : kernel_status::unimplemented)
        << to_string(row.op) << " " << to_string(row.lay) << " " << to_string(row.data) << ": " << row.message;
  }
}

}  // namespace
}  // namespace bncheck::identify
