// The committed corpus, case by case (each test names its case), and what the
// corpus as a whole must cover: the seeds' examples, every op x profile,
// every layout and format, the hard numerical regions.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <set>

#include "core/dtype.hpp"
#include "golden/corpus.hpp"
#include "golden/npy.hpp"
#include "golden/store.hpp"
#include "tests/golden/temp_dir.hpp"

namespace bncheck {
namespace {

std::vector<std::string> committed_names() {
  try {
    return list_cases(committed_corpus());
  } catch (const std::exception&) {
    return {};  // reported by corpus.committed_cases_match_the_definition
  }
}

const test_case& committed(const std::string& name) {
  static std::map<std::string, test_case> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_case(committed_corpus() / name)).first;
  return it->second;
}

void expect_bits_equal(const tensor& got, const tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  for (std::size_t k = 0; k < want.values.size(); ++k)
    ASSERT_EQ(hex_float(got.values[k]), hex_float(want.values[k])) << what << " element " << k;
}

class golden_case : public ::testing::TestWithParam<std::string> {};

TEST_P(golden_case, reads_back_and_its_expected_outputs_equal_a_fresh_reference_computation) {
  const test_case& c = committed(GetParam());
  const tensor_map fresh = reference::compute(c.prob, c.inputs);
  for (const auto& name : output_names(c.prob)) expect_bits_equal(c.expected.at(name), fresh.at(name), name);
  if (c.prob.op != op_kind::backward) return;
  // The saved statistics are the batch statistics, rounded once to the parameter format.
  for (const char* name : {"mean", "var", "invstd"}) {
    for (std::size_t k = 0; k < fresh.at(name).values.size(); ++k) {
      EXPECT_EQ(c.inputs.at(name).values[k], round_to(c.prob.param_type, fresh.at(name).values[k])) << name;
    }
  }
}

TEST_P(golden_case, is_defined_in_the_corpus_and_unchanged_from_its_definition) {
  const test_case& c = committed(GetParam());
  bool found = false;
  for (const auto& s : corpus_specs())
    if (s.name == c.name) {
      found = true;
      EXPECT_EQ(s.prob, c.prob);
      EXPECT_EQ(read_case_description(committed_corpus() / c.name), s.description);
    }
  EXPECT_TRUE(found) << c.name << " is committed but not in corpus_specs()";
}

INSTANTIATE_TEST_SUITE_P(corpus, golden_case, ::testing::ValuesIn(committed_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(golden_case);

TEST(corpus, committed_cases_match_the_definition) {
  std::vector<std::string> defined;
  for (const auto& s : corpus_specs()) defined.push_back(s.name);
  std::sort(defined.begin(), defined.end());
  EXPECT_EQ(committed_names(), defined) << "run bncheck_golden_regen";
  // A corpus a person can read case by case; the gate's time (under 60 s on
  // two cores, most of it the long reduction) is the real limit.
  EXPECT_GE(defined.size(), 40u);
  EXPECT_LE(defined.size(), 100u);
}

TEST(corpus, covers_every_op_profile_layout_and_format) {
  std::set<std::pair<op_kind, profile>> op_profile;
  std::set<layout> layouts;
  std::set<dtype> data_types;
  bool long_reduction = false;
  std::set<dtype> merge_formats;
  bool merge_one_beside_a_million = false;
  for (const auto& s : corpus_specs()) {
    if (s.prob.op == op_kind::merge_statistics) {  // no profile: its outputs do not depend on one
      merge_formats.insert(s.prob.param_type);
      const auto& k = s.prob.shards;
      merge_one_beside_a_million = merge_one_beside_a_million ||
                                   (std::count(k.begin(), k.end(), 1) > 0 && std::count(k.begin(), k.end(), 1000000) > 0);
      continue;
    }
    op_profile.insert({s.prob.op, s.prob.prof});
    layouts.insert(s.prob.lay);
    data_types.insert(s.prob.data_type);
    long_reduction = long_reduction || (reduction_size(s.prob) >= (int64_t{1} << 18) && s.prob.c == 1 &&
                                        s.prob.data_type == dtype::f32 && s.prob.op == op_kind::forward_training);
  }
  EXPECT_EQ(op_profile.size(), 9u);
  EXPECT_EQ(layouts.size(), 5u);
  EXPECT_EQ(data_types.size(), 4u);
  EXPECT_TRUE(long_reduction);
  EXPECT_EQ(merge_formats.size(), 2u);
  EXPECT_TRUE(merge_one_beside_a_million);
}

TEST(corpus, merge_worked_example_has_mean_3_and_var_4_5) {
  // Shards {a} and {b, c, d} with means 0 and 4, M2 0 and 6: N = 4, mean = 12/4 = 3,
  // M2 = 6 + 1*(0 - 3)^2 + 3*(4 - 3)^2 = 18, var = 18/4 = 4.5.
  const test_case& c = committed("merge_worked_example_f64");
  EXPECT_EQ(c.expected.at("mean").values, (std::vector<double>{3.0}));
  EXPECT_EQ(c.expected.at("var").values, (std::vector<double>{4.5}));
  EXPECT_NEAR(c.expected.at("invstd").values[0], 1 / std::sqrt(4.5 + 1e-5), 1e-16);
}

TEST(corpus, seeds_example_has_variance_0_5625_not_the_notes_0_3125) {
  // Each feature holds mean -+ 0.75: var = 0.75^2 = 0.5625 and y = -+0.75 / sqrt(0.5625 + 1e-8),
  // about -+0.99999999. The seed notes say var = 0.3125 and y = +-0.707: a slip a kernel must not copy.
  const test_case& c = committed("seeds_example_fwd");
  const double want = 0.75 / std::sqrt(0.5625 + 1e-8);
  for (std::size_t k = 0; k < 6; ++k) EXPECT_NEAR(c.expected.at("y").values[k], k < 3 ? -want : want, 1e-15) << k;
  EXPECT_NEAR(want, 1.0, 1e-8);
  EXPECT_EQ(c.expected.at("mean").values, (std::vector<double>{1.25, 1.75, 2.25}));
  const test_case& pt = committed("seeds_example_fwd_pytorch");
  for (double v : pt.expected.at("invstd").values) EXPECT_NEAR(v, 1.0 / std::sqrt(0.5625 + 1e-8), 1e-15);
  expect_bits_equal(committed("seeds_example_inference").expected.at("y"), c.expected.at("y"),
                    "inference with running stats equal to the batch stats");
}

TEST(corpus, seeds_two_row_table_normalizes_to_plus_minus_one_over_sqrt_of_1_plus_eps_over_var) {
  const tensor& y = committed("seeds_two_rows_fwd").expected.at("y");
  const double want = 1.0 / std::sqrt(1.0 + 1e-5 / 20.25);
  for (std::size_t k = 0; k < 4; ++k) EXPECT_NEAR(y.values[k], k < 2 ? -want : want, 1e-15) << k;
}

TEST(corpus, layout_pairs_hold_the_same_data_and_results_permuted) {
  const std::pair<const char*, const char*> pairs[] = {{"layout_pair_fwd_f32_nchw", "layout_pair_fwd_f32_nhwc"},
                                                       {"layout_pair_bwd_f32_nchw", "layout_pair_bwd_f32_nhwc"},
                                                       {"layout_pair_fwd_f64_ncdhw", "layout_pair_fwd_f64_ndhwc"},
                                                       {"layout_pair_bwd_f32_ncdhw", "layout_pair_bwd_f32_ndhwc"}};
  for (const auto& [first, last] : pairs) {
    const test_case& a = committed(first);
    const test_case& b = committed(last);
    for (const auto& [name, t] : a.inputs) {
      const bool data = t.shape.size() > 1;
      expect_bits_equal(b.inputs.at(name), data ? relayout(a.prob, t, b.prob) : t, std::string(last) + " " + name);
    }
    for (const auto& [name, t] : a.expected) {
      const bool data = t.shape.size() > 1;
      expect_bits_equal(b.expected.at(name), data ? relayout(a.prob, t, b.prob) : t, std::string(last) + " " + name);
    }
  }
}

TEST(corpus, zero_variance_and_zero_gamma_give_exactly_beta) {
  for (const char* name : {"batch_one_fwd_f32_nc_onnx", "batch_one_fwd_f64_nc_pytorch", "gamma_zero_fwd_f32_nchw"}) {
    const test_case& c = committed(name);
    const tensor& y = c.expected.at("y");
    for (int64_t i = 0; i < c.prob.n; ++i)
      for (int64_t ch = 0; ch < c.prob.c; ++ch)
        for (int64_t s = 0; s < spatial_size(c.prob); ++s)
          EXPECT_EQ(y.values[offset(c.prob, i, ch, s)], c.inputs.at("beta").values[ch]) << name;
  }
  const test_case& c = committed("constant_channel_fwd_f32_nchw");
  for (int64_t i = 0; i < c.prob.n; ++i)
    for (int64_t s = 0; s < spatial_size(c.prob); ++s)
      EXPECT_EQ(c.expected.at("y").values[offset(c.prob, i, 1, s)], c.inputs.at("beta").values[1]);
  for (const char* name : {"batch_one_bwd_f32_nc", "gamma_zero_bwd_f32_nchw"})
    for (double v : committed(name).expected.at("dx").values) EXPECT_EQ(v, 0.0) << name;
  EXPECT_TRUE(std::isnan(committed("batch_one_fwd_f64_nc_pytorch").expected.at("running_var").values[0]))
      << "the unbiased running variance of one sample is undefined";
}

}  // namespace
}  // namespace bncheck
