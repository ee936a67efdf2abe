// The generators: every case is a valid problem with exact, finite inputs;
// the hard regions, batches of one, eps = 0 and long reductions are reached;
// the case-level shrinks stay valid and keep the values.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "check/harness.hpp"
#include "core/dtype.hpp"
#include "properties/gen.hpp"

namespace bncheck::properties {
namespace {

problem_space small_space() {
  problem_space s;
  s.max_elements = 256;
  return s;
}

// Runs body on maxSuccess generated cases (fixed seed) and fails the test if
// the RapidCheck run does not succeed.
template <class Body>
void for_cases(int count, Body body) {
  rc::detail::TestParams params;
  params.seed = 7;
  params.maxSuccess = count;
  rc::detail::TestMetadata meta;
  meta.id = "sample";
  const auto result = rc::detail::checkTestable(body, meta, params);
  std::ostringstream why;
  rc::detail::printResultMessage(result, why);
  ASSERT_TRUE(result.template is<rc::detail::SuccessResult>()) << why.str();
}

RC_GTEST_PROP(gen_prop, cases_are_valid_with_exact_finite_inputs, ()) {
  const generated_case g = *gen_case(small_space());
  validate(g.prob);
  // Exactly the inputs generate_inputs would give (the saved statistics of backward come later).
  std::size_t count = 0;
  for (const std::string& name : input_names(g.prob)) {
    if (name == "mean" || name == "var" || name == "invstd") continue;
    ++count;
    const tensor& got = g.inputs.at(name);
    RC_ASSERT(got.type == type_of(g.prob, name));
    RC_ASSERT(got.shape == shape_of(g.prob, name));
    for (double v : got.values) RC_ASSERT(std::isfinite(v) && representable(got.type, v));
  }
  RC_ASSERT(count == g.inputs.size());
  RC_ASSERT(g.regions.size() == static_cast<std::size_t>(g.prob.c));
  problem p = g.prob;
  for (const char* name : {"x", "gamma"}) RC_ASSERT(fill_of(p, name).kind == fill_kind::file || from_fills(p));
  if (g.prob.op == op_kind::forward_inference)
    for (double v : g.inputs.at("running_var").values) RC_ASSERT(v >= 0);
}

RC_GTEST_PROP(gen_prop, case_shrinks_stay_valid_and_keep_the_values, ()) {
  problem_space s = small_space();
  s.max_elements = 64;
  const generated_case g = *gen_case(s);
  const auto shrinks = shrink_case(g, s);
  auto it = shrinks;
  while (auto next = it.next()) {
    const generated_case& h = *next;
    validate(h.prob);
    RC_ASSERT(h.prob.n >= s.min_batch);
    // Every channel of h holds values of some channel of g, as a multiset or a subset.
    std::multiset<double> all(g.inputs.at("x").values.begin(), g.inputs.at("x").values.end());
    for (double v : h.inputs.at("x").values) RC_ASSERT(all.count(v) > 0);
    for (const auto& [name, t] : h.inputs) RC_ASSERT(t.shape == shape_of(h.prob, name));
  }
}

TEST(gen_test, hard_regions_and_edge_sizes_are_reached) {
  std::map<std::string, int> seen;
  problem_space s = small_space();
  s.max_reduction = int64_t{1} << 18;
  for_cases(600, [&] {
    const generated_case g = *gen_case(s);
    for (region r : g.regions) ++seen[std::string(to_string(r)) + "_" + std::string(to_string(g.prob.data_type))];
    if (g.prob.lay == layout::nc && g.prob.n == 1) ++seen["batch_of_one"];
    if (g.prob.eps == 0) ++seen["eps_0"];
    if (g.prob.eps > 0 && g.prob.eps < 1e-10) ++seen["eps_tiny"];
    if (g.prob.eps == 1e-5) ++seen["eps_1e-5"];
    if (from_fills(g.prob)) ++seen["long_reduction"];
    if (g.prob.op == op_kind::backward) ++seen["backward"];
  });
  for (const char* key : {"ordinary_f32", "offset_f32", "tiny_f64", "constant_f16", "exact_f32", "subnormal_f16",
                          "subnormal_bf16", "near_overflow_f16", "near_overflow_bf16", "batch_of_one", "eps_0",
                          "eps_tiny", "eps_1e-5", "long_reduction", "backward"})
    EXPECT_GT(seen[key], 0) << key << " never generated";
}

TEST(gen_test, offsets_reach_a_million_spreads) {
  double worst = 0;
  problem_space s = small_space();
  s.regions = {region::offset};
  s.data_types = {dtype::f64};
  for_cases(300, [&] {
    const generated_case g = *gen_case(s);
    const std::vector<double>& x = g.inputs.at("x").values;
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    if (*hi > *lo) worst = std::max(worst, std::fabs(x[0]) / (*hi - *lo));
  });
  EXPECT_GT(worst, 1e6);
}

TEST(gen_test, shrinking_reaches_a_small_counterexample) {
  // A made-up bug: values of x that differ while one exceeds 1000 in magnitude.
  problem_space s = small_space();
  rc::detail::TestParams params;
  params.seed = 3;
  params.maxSuccess = 200;
  rc::detail::TestMetadata meta;
  meta.id = "shrink";
  generated_case last;
  const auto result = rc::detail::checkTestable(
      [&] {
        const generated_case g = *gen_case(s);
        const std::vector<double>& x = g.inputs.at("x").values;
        const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
        if (*hi > *lo && std::max(std::fabs(*lo), std::fabs(*hi)) > 1000) {
          last = g;
          RC_FAIL("spread at a large magnitude");
        }
      },
      meta, params);
  ASSERT_TRUE(result.template is<rc::detail::FailureResult>());
  // RapidCheck's last failing evaluation is the shrunk case.
  EXPECT_LE(element_count(last.prob), 2) << to_text(last.prob);
}

}  // namespace
}  // namespace bncheck::properties
