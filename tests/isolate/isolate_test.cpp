// Isolation end to end: each misbehaving plugin (tests/isolate/
// misbehaving_plugin.c) fails the forward_training cases with a report that
// says what it did and a REPRO line, while the cases after it run and pass;
// a well-behaved kernel gives the same bits isolated as in process.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "abi/loader.hpp"
#include "core/dtype.hpp"
#include "golden/store.hpp"
#include "isolate/isolate.hpp"
#include "kernels/registry.hpp"

namespace bncheck {
namespace {

// forward_training cases misbehave; the others get the example's correct kernel.
const char* const sequence[] = {
    "forward_training nchw f32:f32 mb2ic3ih2iw2 seed=1",
    "backward nhwc f32:f32 mb2ic3ih2iw2 seed=2",
    "forward_inference nc f64:f64 mb4ic3 seed=3",
    "forward_training nhwc f64:f32 mb3ic2ih2iw2 seed=4",
};

struct run {
  std::vector<outcome> outcomes;
  double seconds = 0;
};

run judge_sequence(const std::string& plugin, const isolation_options& options) {
  auto k = abi::load_plugin(plugin);
  run r;
  const auto start = std::chrono::steady_clock::now();
  for (const char* text : sequence) r.outcomes.push_back(judge_isolated(*k, make_case(parse_problem(text)), options));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// The misbehaving cases fail with `reason` and their REPRO line; the run goes
// on and the correct cases after each failure pass.
void expect_reported(const run& r, const std::string& plugin, const std::string& reason) {
  ASSERT_EQ(r.outcomes.size(), 4u);
  for (int i : {0, 3}) {
    const outcome& o = r.outcomes[i];
    EXPECT_EQ(o.v, verdict::fail) << o.report;
    EXPECT_NE(o.report.find(reason), std::string::npos) << "expected '" << reason << "' in\n" << o.report;
    EXPECT_NE(o.report.find("REPRO: bncheck run --kernel " + plugin + " --problem '" + o.problem_text + "'"),
              std::string::npos)
        << o.report;
  }
  for (int i : {1, 2}) EXPECT_EQ(r.outcomes[i].v, verdict::pass) << r.outcomes[i].report;
  // Every child was reaped.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(isolation, a_segfault_is_the_cases_failure_and_names_the_address) {
  expect_reported(judge_sequence(BNC_CRASH_PLUGIN, {}), BNC_CRASH_PLUGIN,
                  "the kernel crashed: signal 11 (Segmentation fault), writing address 0x10, outside every "
                  "buffer bncheck gave the kernel (a null pointer?)");
}

TEST(isolation, an_abort_is_the_cases_failure) {
  expect_reported(judge_sequence(BNC_ABORT_PLUGIN, {}), BNC_ABORT_PLUGIN,
                  "the kernel crashed: signal 6 (Aborted)");
}

TEST(isolation, a_hang_is_killed_at_the_timeout_and_the_run_goes_on) {
  isolation_options o;
  o.timeout_seconds = 0.25;
  const run r = judge_sequence(BNC_HANG_PLUGIN, o);
  expect_reported(r, BNC_HANG_PLUGIN, "the kernel did not return within 0.25 s and was killed");
  EXPECT_LT(r.seconds, 5.0);
}

TEST(isolation, a_write_past_the_end_of_an_output_hits_its_guard_page) {
  const run r = judge_sequence(BNC_OVERRUN_PLUGIN, {});
  expect_reported(r, BNC_OVERRUN_PLUGIN, "signal 11 (Segmentation fault), writing past the end of output y: element ");
  EXPECT_NE(r.outcomes[0].report.find("element 24 where y holds 24 elements of 4 bytes (the guard page after it)"),
            std::string::npos);
}

TEST(isolation, a_write_before_the_start_of_an_output_breaks_its_canary) {
  expect_reported(judge_sequence(BNC_UNDERRUN_PLUGIN, {}), BNC_UNDERRUN_PLUGIN,
                  "the kernel wrote 1 byte before the start of output y");
}

TEST(isolation, a_write_into_an_input_faults_on_the_read_only_mapping) {
  expect_reported(judge_sequence(BNC_WRITE_INPUT_PLUGIN, {}), BNC_WRITE_INPUT_PLUGIN,
                  "signal 11 (Segmentation fault), writing input x, element 0 (inputs are read-only)");
}

TEST(isolation, a_write_into_an_input_is_found_by_comparison_when_inputs_are_writable) {
  isolation_options o;
  o.protect_inputs = false;
  const run r = judge_sequence(BNC_WRITE_INPUT_PLUGIN, o);
  expect_reported(r, BNC_WRITE_INPUT_PLUGIN, "the kernel wrote its input x: 1 of 24 elements changed, the first at flat index 0");
  EXPECT_NE(r.outcomes[3].report.find("wrote its input x: 1 of 24 elements changed"), std::string::npos);
}

TEST(isolation, unwritten_outputs_keep_the_nan_poison_through_the_child) {
  const run r = judge_sequence(BNC_LAZY_PLUGIN, {});
  // y (24), mean and invstd (3 each) are NaN; the running statistics were not updated.
  expect_reported(r, BNC_LAZY_PLUGIN, " NaN), max err/bound inf (y)");
  EXPECT_NE(r.outcomes[0].report.find("over bound (30 NaN)"), std::string::npos);
  auto k = abi::load_plugin(BNC_LAZY_PLUGIN);
  const outcome in_process = judge(*k, make_case(parse_problem(sequence[0])));
  EXPECT_EQ(in_process.report, r.outcomes[0].report.substr(0, in_process.report.size()));
}

TEST(isolation, exit_in_the_kernel_is_the_cases_failure) {
  expect_reported(judge_sequence(BNC_EXIT_PLUGIN, {}), BNC_EXIT_PLUGIN,
                  "the kernel process exited with status 3 during the call");
}

TEST(isolation, unimplemented_passes_through_as_a_skip) {
  auto k = abi::load_plugin(BNC_CRASH_PLUGIN);  // correct, via the example, on backward f16: unimplemented
  const outcome o =
      judge_isolated(*k, make_case(parse_problem("backward nchw f16:f32 mb2ic2ih2iw2 seed=5")), {});
  EXPECT_EQ(o.v, verdict::skip) << o.report;
  EXPECT_NE(o.report.find("example: only float32 and float64"), std::string::npos) << o.report;
}

class throwing_kernel final : public kernel {
 public:
  std::string name() const override { return "throwing"; }
  kernel_result run(const problem&, const kernel_io&) override { throw std::runtime_error("out of widgets"); }
};

TEST(isolation, an_exception_out_of_a_cpp_kernel_is_the_cases_failure) {
  throwing_kernel k;
  const outcome o = judge_isolated(k, make_case(parse_problem(sequence[1])), {});
  EXPECT_EQ(o.v, verdict::fail);
  EXPECT_NE(o.report.find("an exception escaped the kernel: out of widgets"), std::string::npos) << o.report;
}

TEST(isolation, a_correct_kernel_gives_the_same_bits_isolated_on_the_golden_corpus) {
  const auto dir = std::filesystem::path(BNCHECK_SOURCE_DIR) / "golden" / "cases";
  auto k = make_kernel("eigen");
  int cases = 0;
  for (const auto& name : list_cases(dir)) {
    const test_case c = read_case(dir / name);
    const kernel_output a = run_isolated(*k, c.prob, c.inputs, {});
    const kernel_output b = run_kernel(*k, c.prob, c.inputs);
    ASSERT_EQ(a.result.status, kernel_status::ok) << name << ": " << a.result.message;
    for (const auto& [out, t] : b.got)
      for (std::size_t i = 0; i < t.values.size(); ++i) {
        const double x = a.got.at(out).values[i], y = t.values[i];
        EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << name << " " << out << "[" << i << "]";
      }
    EXPECT_EQ(judge_isolated(*k, c, {}).v, verdict::pass) << name;
    ++cases;
  }
  EXPECT_GE(cases, 60);
}

}  // namespace
}  // namespace bncheck
