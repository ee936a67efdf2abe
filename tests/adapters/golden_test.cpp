// The third-party adapters on the committed golden corpus, one test per
// (adapter, case): every case an adapter supports passes, except the
// diagnosed failures listed below (docs/adapters.md explains each); the
// problems a library cannot run are skipped, and exactly those.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "check/deviations.hpp"
#include "check/gate.hpp"
#include "core/kernel.hpp"
#include "golden/store.hpp"
#include "kernels/registry.hpp"
#include "tests/support/corpus.hpp"

namespace bncheck {
namespace {

using testing::golden_case_names;
using testing::golden_corpus;

const char* missing_library(const std::string& adapter) {
  if (adapter == "onednn") return "the onednn adapter is not built: libdnnl-dev was not found at configure time";
  if (adapter == "libtorch") return "the libtorch adapter is not built: libtorch-dev was not found at configure time";
  return "the dlib adapter is not built: libdlib-dev was not found at configure time";
}

// Whether the library must run p (true), must refuse it (false), or either
// (nullopt: oneDNN's bf16 and f16 depend on the CPU's instruction set).
std::optional<bool> must_run(const std::string& adapter, const problem& p) {
  // None of the three libraries has a CPU merge of shard statistics
  // (PyTorch's batch_norm_gather_stats_with_counts is CUDA only).
  if (p.op == op_kind::merge_statistics) return false;
  if (adapter == "onednn") {
    if (p.param_type != dtype::f32 || p.data_type == dtype::f64) return false;
    if (p.data_type == dtype::f32) return true;
    return std::nullopt;
  }
  if (adapter == "libtorch") {
    const bool formats = (p.data_type == p.param_type && (p.data_type == dtype::f32 || p.data_type == dtype::f64)) ||
                         (p.data_type == dtype::bf16 && p.param_type == dtype::f32);
    return formats && !(p.op == op_kind::forward_training && p.prof == profile::onnx);
  }
  // dlib tensors are dense and own their memory: it takes no strides, so
  // the harness refuses every problem with a storage for it (oneDNN and
  // libtorch take them all).
  return p.data_type == dtype::f32 && p.param_type == dtype::f32 && p.lay != layout::nhwc &&
         p.lay != layout::ndhwc && p.eps > 0 && (p.op == op_kind::forward_inference || p.n > 1) &&
         !(p.op == op_kind::forward_training && p.prof == profile::onnx) && dense_storage(p);
}

// The diagnosed failures: case -> the output whose error is worst. oneDNN's
// and libtorch's are their known-deviations files (what `bncheck run
// --deviations` waives, docs/deviations.md), so the test and the gate read
// one record; dlib has none: its faults must fail the gate.
struct expected_failure {
  std::string worst;   ///< tensor named by the failure
  bool always = true;  ///< false: fails or passes depending on the thread count
};

std::map<std::string, expected_failure> known_failures(const std::string& adapter) {
  std::map<std::string, expected_failure> out;
  if (adapter == "dlib") {
    // dlib computes the variance as E[x^2] - E[x]^2 in float (section 4.2).
    out = {{"offset_1e4_f32_nchw", {"y", true}},
           {"long_reduction_f32_nchw", {"invstd", true}},
           {"tiny_spread_f32_nchw", {"invstd", true}},
           // ... whose float E[x^2] overflows at x ~ 1e30 (x^2 ~ 1e60): inf - inf, y NaN.
           {"near_overflow_fwd_f32_nchw", {"y", true}}};
    return out;
  }
  const deviations d = read_deviations(std::string(BNCHECK_SOURCE_DIR) + "/adapters/" + adapter + "/deviations");
  for (const case_deviation& c : d.cases) out[c.case_name] = {c.tensor, !c.may_pass};
  return out;
}

class adapter_golden : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(adapter_golden, passes_or_fails_as_diagnosed) {
  const auto& [adapter, name] = GetParam();
  std::unique_ptr<kernel> k = make_kernel(adapter);
  if (!k) GTEST_SKIP() << missing_library(adapter);
  const test_case& c = golden_corpus().at(name);
  const outcome o = judge(*k, c);
  const std::optional<bool> runs = must_run(adapter, c.prob);
  if (runs.has_value() && !*runs) {
    EXPECT_EQ(o.v, verdict::skip) << adapter << " must refuse " << o.problem_text << "\n" << o.report;
    return;
  }
  if (!runs.has_value() && o.v == verdict::skip) return;
  ASSERT_NE(o.v, verdict::skip) << adapter << " must run " << o.problem_text << "\n" << o.report;
  const auto known = known_failures(adapter);
  const auto it = known.find(name);
  if (it == known.end()) {
    EXPECT_EQ(o.v, verdict::pass) << o.report;
  } else if (it->second.always || o.v == verdict::fail) {
    EXPECT_EQ(o.v, verdict::fail) << "a diagnosed failure now passes: " << o.problem_text;
    EXPECT_EQ(o.worst_tensor, it->second.worst) << o.report;
  }
}

INSTANTIATE_TEST_SUITE_P(corpus, adapter_golden,
                         ::testing::Combine(::testing::Values("onednn", "libtorch", "dlib"),
                                            ::testing::ValuesIn(golden_case_names())),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

// The libtorch adapter hands libtorch each storage as it is (at::from_blob
// with its strides), which is what reaches libtorch 1.13's generic backward
// path: taken unless x and dy are both contiguous in one 2-D format, it sums
// dy into a bf16 result and carries grad_mean and k in bf16
// (adapters/libtorch/deviations). The same bf16 problem passes dense and with
// x and dy both channels-last, and in f32 with x channels-last; an adapter
// that made the tensors dense first would pass all of them.
TEST(libtorch_adapter, gives_libtorch_the_storages_whose_bf16_backward_sums_in_bf16) {
  std::unique_ptr<kernel> k = make_kernel("libtorch");
  if (!k) GTEST_SKIP() << missing_library("libtorch");
  const auto judged = [&](const std::string& text) { return judge(*k, make_case(parse_problem(text))); };
  const std::string bf16 = "backward nchw bf16:f32 mb4ic17ih8iw8 eps=1e-05 momentum=0.1 profile=pytorch seed=5";
  const std::string f32 = "backward nchw f32:f32 mb4ic17ih8iw8 eps=1e-05 momentum=0.1 profile=pytorch seed=5";
  for (const std::string& passes : {bf16, bf16 + " x_storage=nhwc dy_storage=nhwc", bf16 + " dx_storage=nhwc",
                                    f32 + " x_storage=nhwc", f32 + " dy_storage=nchw,slice=1/18"}) {
    const outcome o = judged(passes);
    EXPECT_EQ(o.v, verdict::pass) << passes << "\n" << o.report;
  }
  // x channels-last with dy contiguous (PyTorch #64039's pair), and dy a slice.
  for (const std::string& fails : {bf16 + " x_storage=nhwc", bf16 + " dy_storage=nchw,slice=1/18"}) {
    const outcome o = judged(fails);
    EXPECT_EQ(o.v, verdict::fail) << "libtorch's generic bf16 backward now passes: " << fails;
    EXPECT_EQ(o.worst_tensor, "dbeta") << o.report;
    EXPECT_GT(o.max_normalized, 20.0) << o.report;
  }
}

// dlib aborts the process on its second failed precondition (dlib::fatal_error):
// the adapter must refuse every such problem before calling dlib.
TEST(dlib_adapter, refuses_dlib_preconditions_without_aborting) {
  std::unique_ptr<kernel> k = make_kernel("dlib");
  if (!k) GTEST_SKIP() << missing_library("dlib");
  problem p;
  p.n = 2, p.c = 3, p.h = 2, p.w = 2;
  std::vector<problem> refused;
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}) {
    p.op = op;
    problem eps0 = p;
    eps0.eps = 0;
    refused.push_back(eps0);
    if (op != op_kind::forward_inference) {
      problem one = p;
      one.n = 1;
      refused.push_back(one);
    }
  }
  problem big_momentum = p;
  big_momentum.op = op_kind::forward_training;
  big_momentum.momentum = 1.5;
  refused.push_back(big_momentum);
  for (const problem& each : refused) {
    const kernel_output out = run_kernel(*k, each, make_case(each).inputs);
    EXPECT_EQ(out.result.status, kernel_status::unimplemented) << to_text(each) << ": " << out.result.message;
  }
}

// Each adapter declares exactly the outputs its library does not compute
// (core/kernel.hpp), instead of deriving them: oneDNN saves no invstd and
// keeps no running statistics; PyTorch and dlib save no variance. The rest
// of forward_training's outputs are checked and pass on a plain problem.
TEST(adapters, declare_what_their_library_does_not_produce) {
  const std::map<std::string, std::vector<std::string>> omitted = {
      {"onednn", {"invstd", "running_mean", "running_var"}},
      {"libtorch", {"var"}},
      {"dlib", {"var"}},
  };
  int built = 0;
  for (const auto& [adapter, names] : omitted) {
    std::unique_ptr<kernel> k = make_kernel(adapter);
    if (!k) continue;
    ++built;
    problem p;
    p.n = 4, p.c = 5, p.h = 3, p.w = 3;
    p.prof = profile::pytorch;
    p.seed = 301;
    const test_case c = make_case(p);
    const kernel_output out = run_kernel(*k, p, c.inputs);
    ASSERT_EQ(out.result.status, kernel_status::ok) << adapter << ": " << out.result.message;
    EXPECT_EQ(out.result.not_produced, names) << adapter;
    for (const io_slot& slot : io_slots(p.op)) {
      if (!slot.written) continue;
      EXPECT_EQ(out.got.count(slot.name), std::count(names.begin(), names.end(), slot.name) ? 0u : 1u)
          << adapter << " " << slot.name;
    }
    const outcome o = judge(*k, c);
    EXPECT_EQ(o.v, verdict::pass) << adapter << "\n" << o.report;
    // The report lists those the model would have checked: under the pytorch
    // profile the saved statistic is invstd, and var is not an output
    // (docs/tolerances.md).
    std::string joined;
    for (const std::string& n : output_names(p))
      if (std::count(names.begin(), names.end(), n)) joined += (joined.empty() ? "" : ", ") + n;
    EXPECT_EQ(o.not_produced, joined) << adapter;
  }
  if (built == 0) GTEST_SKIP() << "no adapter is built: none of libdnnl-dev, libtorch-dev, libdlib-dev was found";
}

}  // namespace
}  // namespace bncheck
