// The property runner: it finds a broken kernel and shrinks the counterexample
// to a handful of elements, its reproduce string replays exactly that case,
// it stops at the first failure when asked, filters, and reports its inputs'
// mistakes as input errors. The regression writer round-trips.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>

#include "check/gate.hpp"
#include "core/dtype.hpp"
#include "core/error.hpp"
#include "golden/store.hpp"
#include "golden/verify.hpp"
#include "kernels/registry.hpp"
#include "properties/regression.hpp"
#include "properties/runner.hpp"
#include "mutants/catalog.hpp"

namespace bncheck::properties {
namespace {

namespace fs = std::filesystem;

property_config quick(std::vector<std::string> names, int cases = 100) {
  property_config c;
  c.cases = cases;
  c.properties = std::move(names);
  c.lim.max_reduction = 0;
  return c;
}

class scratch {
 public:
  scratch() : path_(fs::temp_directory_path() / ("bncheck_prop_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~scratch() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(runner_test, finds_naive_variance_with_a_shrunk_counterexample_of_a_few_elements) {
  const auto k = mutants::make_mutant("naive_variance");
  ASSERT_TRUE(k);
  const auto results = run_properties(*k, quick({"agreement"}));
  ASSERT_EQ(results.size(), 1u);
  const property_result& r = results[0];
  EXPECT_FALSE(r.passed());
  ASSERT_TRUE(r.shrunk.has_value());
  EXPECT_LE(r.elements, 24) << r.failure;
  EXPECT_TRUE(r.shrunk_fails_judge);
  EXPECT_FALSE(r.reproduce.empty());
  const std::string text = failure_text(r, k->name(), default_seed);
  EXPECT_NE(text.find("REPRO: bncheck run --kernel naive_variance --property agreement --reproduce "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("seed: " + std::to_string(default_seed)), std::string::npos) << text;
  EXPECT_NE(text.find("RC_PARAMS=\"reproduce="), std::string::npos) << text;
}

TEST(runner_test, every_property_catches_naive_variance_or_passes_without_error) {
  const auto k = mutants::make_mutant("naive_variance");
  int caught = 0;
  for (const property_result& r : run_properties(*k, quick({}, 60))) {
    if (r.passed()) continue;
    ++caught;
    EXPECT_EQ(r.failure.find("Exception"), std::string::npos) << r.name << ": " << r.failure;
    EXPECT_LE(r.elements, 36) << r.name << ": " << r.failure;
  }
  EXPECT_GE(caught, 5);
}

TEST(runner_test, the_reproduce_string_replays_the_shrunk_case) {
  const auto k = mutants::make_mutant("naive_variance");
  const property_result first = run_properties(*k, quick({"shift_invariance"}))[0];
  ASSERT_FALSE(first.passed());
  property_config again = quick({});
  again.reproduce = "RC_PARAMS=\"reproduce=" + first.reproduce + "\"";
  const auto replay = run_properties(*k, again);
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay[0].name, "shift_invariance");
  EXPECT_FALSE(replay[0].passed());
  EXPECT_EQ(replay[0].cases, 1);
  ASSERT_TRUE(replay[0].shrunk && first.shrunk);
  EXPECT_EQ(to_text(replay[0].shrunk->prob), to_text(first.shrunk->prob));
  EXPECT_EQ(replay[0].shrunk->inputs.at("x").values, first.shrunk->inputs.at("x").values);
}

TEST(runner_test, stops_at_the_first_failing_property_when_asked) {
  const auto k = mutants::make_mutant("naive_variance");
  property_config c = quick({}, 40);
  c.stop_at_first_failure = true;
  std::vector<std::string> seen;
  c.on_result = [&](const property_result& r) { seen.push_back(r.name); };
  const auto results = run_properties(*k, c);
  ASSERT_FALSE(results.empty());
  EXPECT_FALSE(results.back().passed());
  for (std::size_t i = 0; i + 1 < results.size(); ++i) EXPECT_TRUE(results[i].passed());
  EXPECT_EQ(seen.size(), results.size());
}

TEST(runner_test, filters_by_name_and_strictness_and_rejects_unknown_names) {
  const auto k = make_kernel("eigen");
  const auto two = run_properties(*k, quick({"layout_agreement", "running_statistics"}, 5));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].name, "layout_agreement");  // catalog order
  EXPECT_TRUE(two[0].passed() && two[1].passed());
  EXPECT_EQ(two[0].cases, 5);
  property_config lenient = quick({}, 2);
  lenient.include_strict = false;
  for (const property_result& r : run_properties(*k, lenient)) EXPECT_NE(r.name, "exact_statistics");
  EXPECT_THROW(run_properties(*k, quick({"no_such_property"})), input_error);
  property_config bad = quick({});
  bad.reproduce = "not base64 at all!";
  EXPECT_THROW(run_properties(*k, bad), input_error);
}

// eigen, but forward_training's first running mean gains 1 where y's buffer
// held a finite value before the call (f32). Every direct comparison passes,
// since the harness hands NaN-filled outputs; only a run with other buffer
// contents shows the dependence.
class reads_y_buffer : public kernel {
 public:
  std::string name() const override { return "reads_y_buffer"; }
  kernel_result run(const problem& p, const kernel_io& io) override {
    double before = std::numeric_limits<double>::quiet_NaN();
    if (p.op == op_kind::forward_training && p.data_type == dtype::f32 && p.param_type == dtype::f32)
      before = *static_cast<const float*>(io.y);
    const kernel_result r = inner_->run(p, io);
    if (p.op == op_kind::forward_training && p.param_type == dtype::f32 && std::isfinite(before))
      static_cast<float*>(io.running_mean)[0] += 1.0f;
    return r;
  }

 private:
  std::unique_ptr<kernel> inner_ = make_kernel("eigen");
};

TEST(runner_test, independence_catches_outputs_that_depend_on_the_output_buffers) {
  reads_y_buffer k;
  for (const property_result& r : run_properties(k, quick({"agreement", "running_statistics"}, 200)))
    EXPECT_TRUE(r.passed()) << r.report;
  const property_result r = run_properties(k, quick({"independence"}, 200))[0];
  ASSERT_FALSE(r.passed());
  EXPECT_NE(r.report.find("run 3 running_mean[0]"), std::string::npos) << r.report;
  EXPECT_TRUE(run_properties(*make_kernel("eigen"), quick({"independence"}, 200))[0].passed());
}

TEST(runner_test, property_seeds_differ_per_property_and_follow_the_run_seed) {
  EXPECT_NE(property_seed(1, "agreement"), property_seed(1, "normalization"));
  EXPECT_NE(property_seed(1, "agreement"), property_seed(2, "agreement"));
  EXPECT_EQ(property_seed(5, "agreement"), property_seed(5, "agreement"));
}

TEST(regression_test, a_saved_case_reads_back_verifies_and_gets_the_same_verdict) {
  const auto k = mutants::make_mutant("naive_variance");
  const property_result r = run_properties(*k, quick({"agreement"}))[0];
  ASSERT_TRUE(r.shrunk);
  scratch dir;
  const std::string name = save_regression(r, k->name(), default_seed, dir.path());
  EXPECT_EQ(name.rfind("agreement_naive_variance_", 0), 0u) << name;
  EXPECT_EQ(name.size(), std::string("agreement_naive_variance_").size() + 8);
  EXPECT_EQ(save_regression(r, k->name(), default_seed, dir.path()), name);  // same content, same folder
  EXPECT_EQ(list_cases(dir.path()), std::vector<std::string>{name});
  const test_case back = read_case(dir.path() / name);
  EXPECT_EQ(to_text(back.prob), to_text(r.shrunk->prob));
  EXPECT_EQ(judge(*k, back).v, verdict::fail);
  EXPECT_EQ(judge(*k, *r.shrunk).v, verdict::fail);
  EXPECT_EQ(judge(*make_kernel("eigen"), back).v, verdict::pass);
  const case_verdict v = verify_case(dir.path() / name);
  EXPECT_TRUE(v.ok) << v.error;
  EXPECT_EQ(regression_repro("naive_variance", dir.path(), name),
            "REPRO: bncheck run --kernel naive_variance --golden " + dir.path().string() + " --case " + name);
}

}  // namespace
}  // namespace bncheck::properties
