// kernels/registry.hpp: every kind of kernel opens by the name a REPRO line
// gives, unknown names fail with the choices, and plugins are isolated unless
// told otherwise.
#include <gtest/gtest.h>

#include <string>

#include "check/gate.hpp"
#include "check/harness.hpp"
#include "core/error.hpp"
#include "kernels/registry.hpp"

namespace bncheck {
namespace {

TEST(registry, every_listed_name_makes_a_kernel_of_that_name) {
  for (const std::string& name : kernel_names()) {
    std::unique_ptr<kernel> k = make_kernel(name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_EQ(k->name(), name);
  }
  EXPECT_EQ(make_kernel("no_such_kernel"), nullptr);
}

TEST(registry, mutants_and_controls_open_by_name_and_unknown_names_list_the_choices) {
  EXPECT_EQ(kernel_by_name("naive_variance")->name(), "naive_variance");
  try {
    kernel_by_name("no_such_kernel");
    FAIL() << "no input_error";
  } catch (const input_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown kernel 'no_such_kernel'"), std::string::npos) << what;
    EXPECT_NE(what.find("eigen"), std::string::npos) << what;
    EXPECT_NE(what.find("plugin path"), std::string::npos) << what;
  }
}

TEST(registry, plugins_are_isolated_unless_told_otherwise_built_in_kernels_only_when_told) {
  const open_options automatic, always{open_options::isolation::always}, never{open_options::isolation::never};
  EXPECT_TRUE(isolated(BNC_EXAMPLE_PLUGIN, automatic));
  EXPECT_FALSE(isolated(BNC_EXAMPLE_PLUGIN, never));
  EXPECT_FALSE(isolated("eigen", automatic));
  EXPECT_TRUE(isolated("eigen", always));
}

// The opened plugin, isolated or not, computes the same passing result, and
// keeps the path as its name so that REPRO lines reopen it.
TEST(registry, open_kernel_runs_a_plugin_in_a_child_or_in_this_process) {
  const test_case c = make_case(parse_problem("forward_training nchw f32:f32 mb2ic3ih4iw4 seed=1"));
  for (const auto mode : {open_options::isolation::automatic, open_options::isolation::never}) {
    std::unique_ptr<kernel> k = open_kernel(BNC_EXAMPLE_PLUGIN, {mode});
    EXPECT_EQ(k->name(), BNC_EXAMPLE_PLUGIN);
    const outcome o = judge(*k, c);
    EXPECT_EQ(o.v, verdict::pass) << o.report;
  }
}

TEST(registry, a_plugin_that_does_not_load_is_bad_input) {
  EXPECT_THROW(open_kernel("/nonexistent/libnothing.so"), input_error);
  EXPECT_THROW(open_kernel("no_such_kernel"), input_error);
}

}  // namespace
}  // namespace bncheck
