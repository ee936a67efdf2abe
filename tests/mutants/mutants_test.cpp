// Detection power: every mutant runs cleanly on the grid (ok or skipped, never
// an error or an exception), the committed corpus's kills are tabulated, and
// each mutant fails its witness problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "check/compare.hpp"
#include "check/gate.hpp"
#include "mutants/catalog.hpp"
#include "tests/mutants/test_cases.hpp"

namespace bncheck::mutants {
namespace {

TEST(mutant_catalog, has_at_least_32_described_mutants_with_unique_snake_case_names) {
  const std::vector<entry> all = mutant_catalog();
  EXPECT_GE(all.size(), 32u);
  std::set<std::string> names;
  for (const entry& e : all) {
    EXPECT_TRUE(names.insert(e.name).second) << "duplicate " << e.name;
    const bool snake = std::all_of(e.name.begin(), e.name.end(), [](char ch) {
      return std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '_';
    });
    EXPECT_TRUE(snake) << e.name;
    EXPECT_FALSE(e.description.empty()) << e.name;
    auto k = make_mutant(e.name);
    ASSERT_NE(k, nullptr) << e.name;
    EXPECT_EQ(k->name(), e.name);
  }
  EXPECT_EQ(mutant_names().size(), all.size());
  EXPECT_EQ(make_mutant("no_such_mutant"), nullptr);
}

// One row of the kill table: which committed cases fail the mutant.
struct kills {
  std::vector<std::string> cases;
  outcome worst;
};

// Every mutant judged on every committed case. A kill must be a wrong
// output, never a kernel error.
std::map<std::string, kills> corpus_kills() {
  std::map<std::string, kills> out;
  for (const std::string& name : mutant_names()) {
    auto k = make_mutant(name);
    kills& row = out[name];
    for (const test_case& c : golden_corpus()) {
      const outcome o = judge(*k, c);
      EXPECT_EQ(o.report.find("reported an error"), std::string::npos) << o.report;
      if (o.v != verdict::fail) continue;
      row.cases.push_back(c.name);
      if (row.cases.size() == 1 || o.max_normalized > row.worst.max_normalized) row.worst = o;
    }
  }
  return out;
}

// The table in the test log: per mutant, how many committed cases kill it,
// the first (in name order) and the one with the largest err/bound.
TEST(mutant_catalog, golden_corpus_kill_table) {
  const std::map<std::string, kills> table = corpus_kills();
  std::printf("%-28s %5s  %-34s %-34s %10s\n", "mutant", "kills", "first killing case", "worst case", "err/bound");
  std::string survivors;
  for (const std::string& name : mutant_names()) {
    const kills& row = table.at(name);
    if (row.cases.empty()) survivors += " " + name;
    std::printf("%-28s %5zu  %-34s %-34s %10.3g\n", name.c_str(), row.cases.size(),
                row.cases.empty() ? "not killed by corpus" : row.cases.front().c_str(),
                row.cases.empty() ? "-" : row.worst.name.c_str(), row.worst.max_normalized);
  }
  std::printf("not killed by the corpus alone:%s\n", survivors.empty() ? " none" : survivors.c_str());
  std::fflush(stdout);
  auto killed_by = [&](const std::string& mutant, const std::string& c) {
    const auto& v = table.at(mutant).cases;
    return std::find(v.begin(), v.end(), c) != v.end();
  };
  // The two accumulation bugs the corpus's long and offset cases exist for.
  EXPECT_TRUE(killed_by("naive_variance", "offset_1e4_f32_nchw"));
  EXPECT_TRUE(killed_by("sequential_f32_sum", "long_reduction_f32_nchw"));
  // The merge bugs die on the merge cases, and on nothing else: no other
  // case runs merge_statistics, and on every other op they are the correct kernel.
  for (const char* m : {"merge_equal_weights", "merge_without_between_term"}) {
    EXPECT_TRUE(killed_by(m, "merge_1_1e3_1e6_f32")) << m;
    for (const std::string& c : table.at(m).cases) EXPECT_EQ(c.rfind("merge_", 0), 0u) << m << " killed by " << c;
  }
}

// A problem each mutant must fail: the smallest natural setting of its bug
// (problem text, defaults for what is left out). The correct plain kernel
// (the blocked_two_pass control) must pass the same problem, so the kill is
// the bug's and not the problem's.
const std::map<std::string, std::string>& witnesses() {
  static const std::string fwd = "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=1";
  static const std::string bwd = "backward nchw f32:f32 mb2ic3ih3iw3 seed=1";
  static const std::string long_fwd = "forward_training nchw f32:f32 mb4ic1ih256iw256 seed=1 x=normal:0:1";
  static const std::map<std::string, std::string> table = {
      {"naive_variance", "forward_training nchw f32:f32 mb2ic3ih4iw5 seed=7 x=normal:10000:1"},
      {"unbiased_normalization", fwd},
      {"biased_via_unbiased", "forward_training nc f32:f32 mb1ic4 profile=onnx seed=1"},
      {"eps_outside_sqrt", "forward_training nchw f32:f32 mb2ic3ih3iw3 eps=0.1 seed=1"},
      {"eps_omitted", "forward_training nchw f32:f32 mb2ic3ih3iw3 eps=0.1 seed=1"},
      {"eps_as_floor", "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=1 x=normal:0:0.001"},
      {"invstd_zero_guard", "forward_training nc f64:f64 mb5ic3 eps=0 x=const:3"},
      {"reduction_skips_last", "forward_training nc f32:f32 mb7ic3 seed=1"},
      {"per_sample_statistics", fwd},
      {"depth_ignored", "forward_training ncdhw f32:f32 mb2ic2id3ih2iw2 seed=1"},
      {"f16_accumulation", "forward_training nchw f16:f32 mb2ic2ih4iw4 seed=1"},
      {"f32_math_for_f64", "forward_training nc f64:f64 mb8ic2 seed=1"},
      {"channel_groups_rounded_down", "forward_training nhwc f32:f32 mb1ic65ih3iw3 seed=1"},
      {"variance_overflows_float", "forward_training nchw f32:f32 mb2ic3ih2iw2 seed=1 x=normal:1e+30:1e+29"},
      {"sequential_f32_sum", long_fwd},
      {"welford_sequential_f32", long_fwd},
      {"dbeta_sequential_f32", "backward nchw f32:f32 mb1ic1ih64iw64 seed=1 dy=const:0.1"},
      {"beta_subtracted", fwd},
      {"gamma_on_beta", fwd},
      {"mean_subtracted_twice", fwd},
      {"folded_unshifted", "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=1 x=const:0.1"},
      {"y_through_f16", fwd},
      {"y_through_bf16", fwd},
      {"saved_stats_swapped", "forward_training nchw f32:f32 mb2ic3ih3iw3 profile=onnx seed=1"},
      {"momentum_reversed", fwd},
      {"running_var_bias_swapped", "forward_training nc f32:f32 mb4ic3 profile=onnx seed=1"},
      {"running_stats_not_updated", fwd},
      {"running_stats_swapped", fwd},
      {"batch_one_zero_running_var", "forward_training nc f32:f32 mb1ic4 seed=1"},
      // y must not read the incoming running statistics; a NaN one shows it.
      {"stats_selected_by_blend", "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=1 running_mean=const:0,nan@1"},
      {"inference_uses_batch_stats", "forward_inference nchw f32:f32 mb2ic3ih3iw3 seed=1"},
      {"dx_without_stat_terms", bwd},
      {"dx_xhat_sign", bwd},
      {"dx_ignores_gamma", bwd},
      {"dgamma_without_xhat", bwd},
      {"backward_var_as_invstd", bwd},
      {"dparams_first_sample", bwd},
      {"nhwc_read_as_nchw", "forward_training nhwc f32:f32 mb2ic3ih3iw3 seed=1"},
      {"channel_stride_w", fwd},
      {"index_wrap_4096", "forward_training nchw f32:f32 mb2ic3ih30iw30 seed=1"},
      {"last_channel_unwritten", fwd},
      {"tail_unwritten", fwd},
      {"merge_equal_weights", "merge_statistics nc f32:f32 mb2ic3 shards=1,1000000 seed=1"},
      {"merge_without_between_term",
       "merge_statistics nc f32:f32 mb2ic3 shards=1000,1000000 seed=1 shard_mean=normal:0:10"},
      {"nan_skipped", "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=1 x=normal:0:1,nan@13"},
      // Correct on dense tensors: only a storage shows them.
      {"x_read_with_dy_storage", "backward nhwc f32:f32 mb2ic3ih3iw3 seed=1 x_storage=nchw"},
      {"slice_read_as_dense", "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=1 x_storage=nchw,slice=1/4"},
  };
  return table;
}

// Witness cases by problem text, each built once (several mutants share one).
const test_case& witness_case(const std::string& text) {
  static std::map<std::string, test_case> cache;
  auto it = cache.find(text);
  if (it == cache.end()) it = cache.emplace(text, make_case(parse_problem(text))).first;
  return it->second;
}

class mutant : public ::testing::TestWithParam<std::string> {};

TEST_P(mutant, fails_its_witness_problem_that_the_correct_kernel_passes) {
  auto it = witnesses().find(GetParam());
  ASSERT_NE(it, witnesses().end()) << GetParam() << " has no witness problem";
  const test_case& c = witness_case(it->second);
  auto k = make_mutant(GetParam());
  const kernel_output out = run_kernel(*k, c.prob, c.inputs);
  ASSERT_EQ(out.result.status, kernel_status::ok) << out.result.message;
  const check_result r = compare(c, out.got);
  EXPECT_FALSE(r.pass) << GetParam() << " survives " << it->second;
  std::printf("%-28s killed by '%s': max err/bound %.3g (%s)\n", GetParam().c_str(), it->second.c_str(),
              r.max_normalized, r.worst.empty() ? "-" : r.worst.front().tensor.c_str());
  auto correct = make_control("blocked_two_pass");
  const outcome o = judge(*correct, c);
  EXPECT_EQ(o.v, verdict::pass) << o.report;
}

TEST_P(mutant, runs_on_every_grid_problem_without_error) {
  auto k = make_mutant(GetParam());
  ASSERT_NE(k, nullptr);
  for (const test_case& c : generated_grid()) {
    kernel_output out;
    EXPECT_NO_THROW(out = run_kernel(*k, c.prob, c.inputs)) << to_text(c.prob);
    EXPECT_NE(out.result.status, kernel_status::error) << to_text(c.prob) << ": " << out.result.message;
  }
}

INSTANTIATE_TEST_SUITE_P(catalog, mutant, ::testing::ValuesIn(mutant_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bncheck::mutants
