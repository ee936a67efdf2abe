// Every control, a correct algorithm other than the Eigen kernel's, passes
// what the Eigen kernel passes: every committed golden case and the generated
// grid (every op, layout, data format and profile; a batch of one; odd sizes).
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "check/gate.hpp"
#include "mutants/catalog.hpp"
#include "tests/mutants/test_cases.hpp"

namespace bncheck::mutants {
namespace {

std::vector<std::string> control_names() {
  std::vector<std::string> out;
  for (const entry& e : control_catalog()) out.push_back(e.name);
  return out;
}

// Judges k on every case: each must pass (a skip is a failure too, controls
// implement everything). Prints the worst err/bound and where it is, over all
// cases and over f32/f64 data, where the final rounding of f16/bf16 outputs
// does not dominate and the arithmetic's own error shows.
void expect_all_pass(kernel& k, const std::vector<test_case>& cases, const char* what) {
  outcome worst, worst_wide;
  for (const test_case& c : cases) {
    const outcome o = judge(k, c);
    EXPECT_EQ(o.v, verdict::pass) << o.report;
    if (o.max_normalized >= worst.max_normalized) worst = o;
    const bool wide = c.prob.data_type == dtype::f32 || c.prob.data_type == dtype::f64;
    if (wide && o.max_normalized >= worst_wide.max_normalized) worst_wide = o;
  }
  std::printf("control %-18s %-14s max err/bound %.3g (%s in %s); f32/f64 data %.3g (%s in %s)\n",
              k.name().c_str(), what, worst.max_normalized, worst.worst_tensor.c_str(), worst.name.c_str(),
              worst_wide.max_normalized, worst_wide.worst_tensor.c_str(), worst_wide.name.c_str());
  std::fflush(stdout);
}

TEST(control_catalog, has_at_least_four_described_controls_with_unique_names) {
  const std::vector<entry> all = control_catalog();
  EXPECT_GE(all.size(), 4u);
  std::set<std::string> names;
  for (const entry& e : all) {
    EXPECT_TRUE(names.insert(e.name).second) << "duplicate " << e.name;
    EXPECT_FALSE(e.description.empty()) << e.name;
    auto k = make_control(e.name);
    ASSERT_NE(k, nullptr) << e.name;
    EXPECT_EQ(k->name(), e.name);
  }
  EXPECT_EQ(make_control("no_such_control"), nullptr);
}

class control : public ::testing::TestWithParam<std::string> {};

TEST_P(control, passes_every_golden_case) {
  auto k = make_control(GetParam());
  ASSERT_NE(k, nullptr);
  expect_all_pass(*k, golden_corpus(), "golden corpus");
}

TEST_P(control, passes_the_generated_grid) {
  auto k = make_control(GetParam());
  ASSERT_NE(k, nullptr);
  expect_all_pass(*k, generated_grid(), "grid");
}

INSTANTIATE_TEST_SUITE_P(catalog, control, ::testing::ValuesIn(control_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bncheck::mutants
