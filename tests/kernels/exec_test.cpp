// exec: kernels (kernels/exec_kernel.hpp, docs/protocol.md) through a worker
// written from the protocol alone (exec_worker.cpp, our Eigen kernel inside):
// a well-behaved worker passes what the Eigen kernel passes; each
// misbehaviour on forward_training fails that call with what happened, and
// the next call (backward) passes on a restarted worker.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "check/gate.hpp"
#include "check/harness.hpp"
#include "core/error.hpp"
#include "core/shell_quote.hpp"
#include "golden/corpus.hpp"
#include "kernels/registry.hpp"
#include "tests/support/shell.hpp"

namespace bncheck {
namespace {

std::string worker(const std::string& mode) { return std::string("exec:") + BNC_EXEC_WORKER + " " + mode; }

const test_case& training() {
  static const test_case c = make_case(parse_problem("forward_training nhwc f32:f32 mb2ic3ih2iw3 seed=5"));
  return c;
}
const test_case& backward() {
  static const test_case c = make_case(parse_problem("backward nchw f64:f64 mb3ic2ih2iw2 seed=6"));
  return c;
}

TEST(exec_kernel, a_worker_passes_what_its_kernel_passes_in_every_op_and_format) {
  std::unique_ptr<kernel> k = open_kernel(worker("none"));
  EXPECT_EQ(k->name(), worker("none"));
  for (const char* text : {"forward_training nhwc f32:f32 mb2ic3ih2iw3 seed=5", "forward_inference ncdhw f64:f64 mb2ic2id2ih2iw2",
                           "backward nc bf16:f32 mb5ic3", "forward_training nchw f16:f32 mb4ic2ih3iw1 profile=onnx",
                           "merge_statistics nc f32:f32 mb3ic2 shards=1,1000,1000000 shard_mean=normal:0:100",
                           "merge_statistics nc f64:f64 mb2ic3 shards=1,3"}) {
    const outcome o = judge(*k, make_case(parse_problem(text)));
    EXPECT_EQ(o.v, verdict::pass) << text << "\n" << o.report;
  }
}

TEST(exec_kernel, outputs_declared_not_produced_are_not_checked) {
  std::unique_ptr<kernel> k = open_kernel(worker("no_var"));
  // var is compared under the onnx profile (pytorch's compares invstd).
  const outcome o = judge(*k, make_case(parse_problem("forward_training nhwc f32:f32 mb2ic3ih2iw3 profile=onnx seed=5")));
  EXPECT_EQ(o.v, verdict::pass) << o.report;
  EXPECT_EQ(o.not_produced, "var");
}

// The golden cases whose data tensors lie in a storage (storage_*: another
// format, channel slices, inputs and outputs).
std::vector<case_spec> storage_cases() {
  std::vector<case_spec> cases;
  for (case_spec& spec : corpus_specs())
    if (spec.name.rfind("storage_", 0) == 0) cases.push_back(std::move(spec));
  return cases;
}

TEST(exec_kernel, a_worker_that_says_strides_gets_inputs_in_their_storage_and_outputs_land_in_theirs) {
  std::unique_ptr<kernel> k = open_kernel(worker("none"));
  EXPECT_TRUE(k->takes_strides());
  const std::vector<case_spec> cases = storage_cases();
  ASSERT_GE(cases.size(), 6u);
  // The harness fails a kernel that writes an output's padding, and NaN between
  // an input's elements poisons a worker that reads there.
  for (const case_spec& spec : cases) {
    const outcome o = judge(*k, build_case(spec));
    EXPECT_EQ(o.v, verdict::pass) << spec.name << "\n" << o.report;
  }
  for (const char* text : {"backward nhwc f32:f32 mb2ic3ih3iw4 seed=111 x_storage=nchw",
                           "forward_inference nhwc f32:f32 mb2ic3ih2iw3 seed=113 y_storage=nhwc,slice=2/5",
                           "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=112 x_storage=nchw,slice=1/6",
                           "backward ndhwc f16:f32 mb2ic3id2ih1iw2 x_storage=ncdhw,slice=2/7 dy_storage=ndhwc,slice=1/4 dx_storage=ncdhw"}) {
    const outcome o = judge(*k, make_case(parse_problem(text)));
    EXPECT_EQ(o.v, verdict::pass) << text << "\n" << o.report;
  }
}

TEST(exec_kernel, a_worker_that_reads_a_strided_payload_as_dense_fails) {
  std::unique_ptr<kernel> k = open_kernel(worker("ignores_strides"));
  for (const char* text : {"backward nhwc f32:f32 mb2ic3ih3iw4 seed=111 x_storage=nchw",
                           "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=112 x_storage=nchw,slice=1/6"}) {
    const outcome o = judge(*k, make_case(parse_problem(text)));
    EXPECT_EQ(o.v, verdict::fail) << text << "\n" << o.report;
  }
}

TEST(exec_kernel, a_worker_whose_hello_lacks_strides_is_sent_no_storage_and_those_cases_are_skipped) {
  std::unique_ptr<kernel> k = open_kernel(worker("no_strides"));
  EXPECT_FALSE(k->takes_strides());
  for (const case_spec& spec : storage_cases()) {
    const outcome o = judge(*k, build_case(spec));
    EXPECT_EQ(o.v, verdict::skip) << spec.name << "\n" << o.report;
    EXPECT_NE(o.skip_reason.find("takes data tensors dense in the problem's layout only (this problem sets "),
              std::string::npos)
        << o.skip_reason;
    EXPECT_NE(o.skip_reason.find("_storage"), std::string::npos) << o.skip_reason;
  }
  const outcome dense = judge(*k, backward());  // problems without a storage still run
  EXPECT_EQ(dense.v, verdict::pass) << dense.report;
}

struct misbehaviour {
  const char* mode;
  const char* says;  ///< in the case's failure
};

class exec_misbehaviour : public ::testing::TestWithParam<misbehaviour> {};

TEST_P(exec_misbehaviour, fails_that_call_and_the_next_runs_on_a_new_worker) {
  open_options o;
  o.timeout_seconds = 1;
  std::unique_ptr<kernel> k = open_kernel(worker(GetParam().mode), o);
  const auto start = std::chrono::steady_clock::now();
  const outcome bad = judge(*k, training());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(bad.v, verdict::fail);
  EXPECT_NE(bad.report.find(GetParam().says), std::string::npos) << bad.report;
  EXPECT_NE(bad.report.find("REPRO: bncheck run --kernel " + shell_quote(worker(GetParam().mode)) + " --problem"),
            std::string::npos)
      << bad.report;
  const outcome good = judge(*k, backward());
  EXPECT_EQ(good.v, verdict::pass) << good.report;
}

INSTANTIATE_TEST_SUITE_P(
    modes, exec_misbehaviour,
    ::testing::Values(misbehaviour{"crash", "worker killed by signal 11 (SIGSEGV)"},
                      misbehaviour{"abort", "worker killed by signal 6 (SIGABRT)"},
                      misbehaviour{"exit", "worker exited with status 3"},
                      misbehaviour{"hang", "worker did not answer within 1 s; killed"},
                      misbehaviour{"garbage", "worker sent garbage: a frame header of"},
                      misbehaviour{"wrong_dtype", "worker returned y as f64 [2,2,3,3]"},
                      misbehaviour{"wrong_shape", "worker returned y as f32 [36] (144 bytes), expected f32 [2,2,3,3]"},
                      misbehaviour{"unknown_output", "worker returned 'z', which is not an output of forward_training"},
                      misbehaviour{"missing_output", "worker returned no invstd"},
                      misbehaviour{"not_produced_y", "worker declared 'y' not produced"},
                      misbehaviour{"wrong_id", "worker answered out of turn: id"},
                      misbehaviour{"error", "exec_worker failed on purpose"},
                      misbehaviour{"stderr_then_crash", "| exec_worker: about to fail on forward_training"}),
    [](const ::testing::TestParamInfo<misbehaviour>& i) { return std::string(i.param.mode); });

TEST(exec_kernel, unimplemented_is_a_skip_with_the_reason) {
  std::unique_ptr<kernel> k = open_kernel(worker("unimplemented"));
  const outcome o = judge(*k, training());
  EXPECT_EQ(o.v, verdict::skip);
  EXPECT_NE(o.skip_reason.find("exec_worker does no training"), std::string::npos) << o.skip_reason;
}

TEST(exec_kernel, a_worker_that_cannot_start_or_speaks_another_protocol_is_bad_input) {
  const auto message = [](const std::string& name) {
    try {
      open_kernel(name);
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("(no input_error)");
  };
  EXPECT_NE(message("exec:/nonexistent/worker").find("cannot start '/nonexistent/worker'"), std::string::npos);
  EXPECT_NE(message(worker("protocol2")).find("speaks protocol 2; this bncheck speaks 1"), std::string::npos);
  EXPECT_NE(message(worker("refuse_hello")).find("refused the hello: this worker speaks no protocol at all"),
            std::string::npos);
  EXPECT_NE(message("exec:").find("no command"), std::string::npos);
  EXPECT_NE(message("exec:'unterminated").find("unterminated"), std::string::npos);
  EXPECT_NE(message("exec:true").find("did not answer the hello: worker exited with status 0"), std::string::npos)
      << message("exec:true");
}

// Through the command: the run goes on past a crashing worker, the REPRO
// line quotes the kernel so that a shell gives it back whole, and a protocol
// mismatch is exit status 2 with one line.
TEST(exec_command, a_crashing_worker_fails_its_case_and_the_run_goes_on) {
  const std::string kernel = "'exec:" + std::string(BNC_EXEC_WORKER) + " crash'";
  const auto r = testing::shell(std::string(BNCHECK_EXE) + " run --kernel " + kernel +
                                " --problem 'forward_training nchw f32:f32 mb2ic2ih2iw2' --problem 'backward nchw "
                                "f32:f32 mb2ic2ih2iw2' 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("1 passed, 1 failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("REPRO: bncheck run --kernel " + kernel + " --problem 'forward_training"), std::string::npos)
      << r.output;
  const auto bad = testing::shell(std::string(BNCHECK_EXE) + " run --kernel 'exec:" + BNC_EXEC_WORKER +
                                  " protocol2' --no-properties 2>&1");
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("speaks protocol 2"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace bncheck
