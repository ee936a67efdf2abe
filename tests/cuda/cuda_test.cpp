// Our CUDA kernel: its host emulation ("cuda-host", the device's arithmetic
// executed serially) on the golden corpus, a conformance sweep with tiles and
// partial channel groups, the property suite, and layout independence; on a
// device, "cuda" and "cudnn" on the corpus (cuDNN's known deviations failing
// as recorded), "cuda" bit for bit equal to its emulation, and run-to-run
// determinism. Without a device those skip, saying why ("no CUDA device: ...").
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "check/deviations.hpp"
#include "check/gate.hpp"
#include "check/harness.hpp"
#include "core/dtype.hpp"
#include "core/kernel.hpp"
#include "golden/store.hpp"
#include "impl/cuda/cuda_kernel.hpp"
#include "impl/cuda/fused.hpp"
#include "kernels/registry.hpp"
#include "properties/runner.hpp"
#include "tests/support/corpus.hpp"
#include "tests/support/problem_sweep.hpp"

namespace bncheck {
namespace {

using testing::golden_case_names;
using testing::golden_corpus;

// Empty when the device kernels can run here; else why not.
std::string no_device() {
#if defined(BNCHECK_HAVE_CUDA)
  return cuda::device_unavailable();
#else
  return "the cuda kernel is not built: nvcc was not found at configure time";
#endif
}

// The device kernel on schedule s, and what it launches for p (only called
// after no_device() said there is one, so the cuda kernel is built).
std::unique_ptr<kernel> device_kernel(cuda::schedule s) {
#if defined(BNCHECK_HAVE_CUDA)
  return cuda::make_cuda_kernel(s);
#else
  (void)s;
  return nullptr;
#endif
}

std::string device_schedule(const problem& p, cuda::schedule s) {
#if defined(BNCHECK_HAVE_CUDA)
  return cuda::schedule_on_device(p, s);
#else
  (void)p, (void)s;
  return "the cuda kernel is not built";
#endif
}

class cuda_host_golden : public ::testing::TestWithParam<std::string> {};

TEST_P(cuda_host_golden, passes) {
  auto k = make_kernel("cuda-host");
  const test_case& c = golden_corpus().at(GetParam());
  const outcome o = judge(*k, c);
  if (c.prob.op == op_kind::merge_statistics) {  // no device kernel, so nothing to emulate (impl/cuda/call.hpp)
    EXPECT_EQ(o.v, verdict::skip) << o.report;
    return;
  }
  EXPECT_EQ(o.v, verdict::pass) << o.report;
}

INSTANTIATE_TEST_SUITE_P(corpus, cuda_host_golden, ::testing::ValuesIn(golden_case_names()),
                         [](const auto& info) { return info.param; });

// Sizes that exercise the decomposition: several tiles of 8192 per channel
// (M = 10800, 3 tiles with a partial last one), channel-last groups of 32
// with a partial group (C = 33), runs shorter than 32 (M < 8192).
std::vector<testing::sweep_sizes> sizes_for(layout lay) {
  switch (spatial_rank(lay)) {
    case 0: return {{300, 3, 1, 1, 1}, {9000, 2, 1, 1, 1}};
    case 2: return {{3, 33, 1, 4, 5}, {3, 2, 1, 60, 60}};
    default: return {{2, 3, 3, 5, 7}};
  }
}

std::vector<problem> sweep() {
  uint64_t seed = 600;
  return testing::problem_sweep(seed, sizes_for);
}

std::string problem_name(const ::testing::TestParamInfo<problem>& info) {
  std::string s = to_text(info.param);
  std::string out;
  for (char ch : s) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

class cuda_host_conformance : public ::testing::TestWithParam<problem> {};

TEST_P(cuda_host_conformance, matches_the_reference_within_tolerance) {
  auto k = make_kernel("cuda-host");
  const test_case c = make_case(GetParam());
  const outcome o = judge(*k, c);
  EXPECT_EQ(o.v, verdict::pass) << o.report;
}

INSTANTIATE_TEST_SUITE_P(sweep, cuda_host_conformance, ::testing::ValuesIn(sweep()), problem_name);

TEST(cuda_host_properties, every_property_holds) {
  auto k = make_kernel("cuda-host");
  properties::property_config cfg;
  cfg.cases = 20;  // the full gate (300 per property) runs in bncheck run; docs/cuda.md has its figures
  const auto results = properties::run_properties(*k, cfg);
  ASSERT_FALSE(results.empty());
  for (const auto& r : results) {
    EXPECT_TRUE(r.passed()) << r.name << "\n" << r.failure << "\n" << r.reproduce;
    if (r.name == "merge_agreement") continue;  // no merge on the device, none emulated (impl/cuda/call.hpp)
    EXPECT_LT(r.skipped, r.cases) << r.name << ": every case skipped";
  }
}

// The same logical data in nchw and nhwc: the decomposition is one tree over
// logical indices, so the statistics must agree bit for bit, and y too.
TEST(cuda_host_layouts, channel_first_and_channel_last_agree_bit_for_bit) {
  auto k = make_kernel("cuda-host");
  for (dtype dt : {dtype::f32, dtype::bf16, dtype::f64}) {
    problem p;
    p.data_type = dt;
    p.param_type = dt == dtype::f64 ? dtype::f64 : dtype::f32;
    p.n = 3, p.c = 35, p.h = 50, p.w = 61;  // M = 9150: two tiles, a partial channel group
    p.seed = 77;
    const test_case c = make_case(p);
    problem q = p;
    q.lay = layout::nhwc;
    tensor_map inputs = c.inputs;
    const int64_t S = p.h * p.w;
    for (const char* name : {"x"}) {
      tensor t = c.inputs.at(name);
      for (int64_t i = 0; i < p.n; ++i)
        for (int64_t ch = 0; ch < p.c; ++ch)
          for (int64_t s = 0; s < S; ++s) t.values[(i * S + s) * p.c + ch] = c.inputs.at(name).values[(i * p.c + ch) * S + s];
      t.shape = data_shape(q);
      inputs[name] = t;
    }
    const kernel_output a = run_kernel(*k, p, c.inputs);
    const kernel_output b = run_kernel(*k, q, inputs);
    ASSERT_EQ(a.result.status, kernel_status::ok) << a.result.message;
    ASSERT_EQ(b.result.status, kernel_status::ok) << b.result.message;
    for (const char* name : {"mean", "var", "invstd", "running_mean", "running_var"})
      EXPECT_EQ(a.got.at(name).values, b.got.at(name).values) << name << " " << to_string(dt);
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t ch = 0; ch < p.c; ++ch)
        for (int64_t s = 0; s < S; ++s)
          ASSERT_EQ(a.got.at("y").values[(i * p.c + ch) * S + s], b.got.at("y").values[(i * S + s) * p.c + ch]);
  }
}

// The fused schedule (impl/cuda/fused.hpp) cuts the leaf blocks among
// persistent blocks and keeps what fits in shared memory; the cutting must
// not change a bit. Emulated devices that force each regime: one block
// owning every leaf block, part of them kept, none kept, and a device whose
// occupancy admits no grid (the launches then run, as on such a device).
struct cutting {
  const char* name;
  cuda::emulated_device d;
};

std::vector<cutting> cuttings() {
  cuda::emulated_device one_block, part, none, no_grid, h200;
  one_block.sms = 1, one_block.max_blocks_per_sm = 1;
  part.sms = 3, part.smem_per_sm = part.smem_per_block = 64 * 1024;
  none.sms = 2, none.smem_per_sm = none.smem_per_block = 8 * 1024;
  no_grid.max_blocks_per_sm = 0;
  return {{"one block", one_block}, {"part kept", part}, {"none kept", none}, {"no grid", no_grid}, {"H200", h200}};
}

TEST(cuda_host_schedules, every_cutting_of_the_fused_schedule_gives_the_launches_bits) {
  cuda::emulated_device launches_device;
  launches_device.sched = cuda::schedule::launches;
  auto launches = cuda::make_cuda_host_kernel(launches_device);
  std::map<std::string, std::set<std::string>> regimes;  // cutting -> regimes reached
  for (const char* text :
       {"forward_training nchw f32:f32 mb3ic35ih50iw61", "forward_training nhwc f32:f32 mb3ic35ih50iw61",
        "backward nchw f32:f32 mb3ic35ih50iw61", "backward nhwc bf16:f32 mb3ic35ih50iw61",
        "forward_training nc f64:f64 mb20000ic3", "backward nhwc f64:f64 mb2ic40ih60iw70",
        "forward_training nchw f16:f32 mb40ic2ih30iw31", "backward nc f32:f32 mb5ic7"}) {
    const problem p = parse_problem(text);
    const test_case c = make_case(p);
    const kernel_output want = run_kernel(*launches, p, c.inputs);
    ASSERT_EQ(want.result.status, kernel_status::ok) << want.result.message;
    for (const cutting& cut : cuttings()) {
      auto k = cuda::make_cuda_host_kernel(cut.d);
      const kernel_output got = run_kernel(*k, p, c.inputs);
      ASSERT_EQ(got.result.status, kernel_status::ok) << cut.name << ": " << got.result.message;
      for (const auto& [name, t] : want.got)
        EXPECT_EQ(0, std::memcmp(t.values.data(), got.got.at(name).values.data(), t.values.size() * sizeof(double)))
            << name << " differs, " << cut.name << ": " << text;
      // The regime the emulated device reached (the plan cuda-host used).
      const cuda::geometry g{p.c, spatial_size(p), reduction_size(p), channel_last(p.lay)};
      const cuda::fused_plan plan =
          cuda::emulated_plan(g, p.op == op_kind::backward ? 2 : 1, size_of(p.data_type), cut.d);
      const cuda::kept_share share = cuda::kept_share_of(plan, g);
      const char* regime =
          plan.grid == 0 ? "no grid" : share.kept == 0 ? "none" : share.kept < share.all ? "part" : "all";
      regimes[cut.name].insert(regime);
      if (share.part_runs > 0) regimes[cut.name].insert("some runs");
    }
  }
  // Each cutting reached the regime it is there for.
  EXPECT_TRUE(regimes["one block"].count("part")) << "one block never kept only part";
  EXPECT_TRUE(regimes["part kept"].count("part"));
  EXPECT_TRUE(regimes["part kept"].count("some runs")) << "no channel-last leaf block was kept in part";
  EXPECT_EQ(regimes["none kept"], std::set<std::string>{"none"});
  EXPECT_EQ(regimes["no grid"], std::set<std::string>{"no grid"});
  EXPECT_TRUE(regimes["H200"].count("all"));
}

// Float data near float's top: a variance beyond float (1e58 and up) with
// finite invstd and y. Float arithmetic made M2 = inf, invstd = 0, y = beta
// (PyTorch PR #178123's bug); M2 and sum(dy (x - mu)) now take the double
// path where float overflows (docs/cuda.md, "The edges of float's range").
// Two tiles per channel, so runs, block trees and the merge launch all see it;
// nchw and nhwc must still agree bit for bit.
TEST(cuda_host_range, a_variance_beyond_float_is_computed_in_double) {
  auto k = make_kernel("cuda-host");
  for (const char* text : {"forward_training nchw f32:f32 mb2ic3ih2iw2 x=normal:1e+30:1e+29",
                           "forward_training nchw f32:f64 mb3ic5ih50iw61 x=normal:2e+38:1e+37",
                           "forward_training nhwc bf16:f32 mb3ic5ih50iw61 x=normal:1e+30:1e+29",
                           "backward nchw f32:f64 mb3ic5ih50iw61 x=normal:2e+38:1e+37 dy=normal:1000:1000",
                           "backward nc f32:f32 mb64ic2 x=normal:1e+30:1e+29 dy=normal:1e+9:1e+9"}) {
    const test_case c = make_case(parse_problem(text));
    const outcome o = judge(*k, c);
    EXPECT_EQ(o.v, verdict::pass) << text << "\n" << o.report;
  }
  problem p = parse_problem("forward_training nchw f32:f64 mb3ic5ih50iw61 x=normal:2e+38:1e+37");
  const test_case c = make_case(p);
  problem q = p;
  q.lay = layout::nhwc;
  tensor x = c.inputs.at("x");
  const int64_t S = p.h * p.w;
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t ch = 0; ch < p.c; ++ch)
      for (int64_t s = 0; s < S; ++s) x.values[(i * S + s) * p.c + ch] = c.inputs.at("x").values[(i * p.c + ch) * S + s];
  x.shape = data_shape(q);
  tensor_map inputs = c.inputs;
  inputs["x"] = x;
  const kernel_output a = run_kernel(*k, p, c.inputs), b = run_kernel(*k, q, inputs);
  ASSERT_EQ(a.result.status, kernel_status::ok);
  ASSERT_EQ(b.result.status, kernel_status::ok);
  for (const char* name : {"mean", "var", "invstd", "running_var"})
    EXPECT_EQ(a.got.at(name).values, b.got.at(name).values) << name;
  EXPECT_GT(a.got.at("var").values[0], 1e39) << "the case must reach past float's range";
}

// --- On a device ----------------------------------------------------------

class cuda_device_golden : public ::testing::TestWithParam<std::string> {};

TEST_P(cuda_device_golden, cuda_passes_and_equals_its_emulation_bit_for_bit) {
  if (std::string why = no_device(); !why.empty()) GTEST_SKIP() << why;
  auto k = make_kernel("cuda");
  auto host = make_kernel("cuda-host");
  const test_case& c = golden_corpus().at(GetParam());
  const outcome o = judge(*k, c);
  if (c.prob.op == op_kind::merge_statistics) {  // no device kernel for the merge (impl/cuda/call.hpp)
    EXPECT_EQ(o.v, verdict::skip) << o.report;
    return;
  }
  EXPECT_EQ(o.v, verdict::pass) << o.report;
  const kernel_output b = run_kernel(*host, c.prob, c.inputs);
  // Both schedules: the default (fused where the device can) and the launches.
  for (cuda::schedule sched : {cuda::schedule::fused, cuda::schedule::launches}) {
    auto dk = device_kernel(sched);
    const kernel_output a = run_kernel(*dk, c.prob, c.inputs);
    const std::string how = device_schedule(c.prob, sched);
    ASSERT_EQ(a.result.status, kernel_status::ok) << how << ": " << a.result.message;
    for (const auto& [name, t] : b.got) {
      const auto& d = a.got.at(name).values;
      ASSERT_EQ(d.size(), t.values.size());
      EXPECT_EQ(0, std::memcmp(d.data(), t.values.data(), d.size() * sizeof(double))) << name << ", " << how;
    }
  }
}

// On a device that launches cooperative grids (every Hopper), training and
// backward run fused, so the device tests above judge that schedule; a
// silent fallback to the launches would leave it untested.
TEST(cuda_device, training_and_backward_run_fused) {
  if (std::string why = no_device(); !why.empty()) GTEST_SKIP() << why;
  for (const char* text :
       {"forward_training nchw f32:f32 mb32ic64ih56iw56", "backward nhwc f32:f32 mb32ic256ih28iw28",
        "forward_training nhwc bf16:f32 mb256ic256ih28iw28", "backward nchw f64:f64 mb3ic35ih50iw61"}) {
    const std::string how = device_schedule(parse_problem(text), cuda::schedule::fused);
    EXPECT_EQ(how.rfind("fused: ", 0), 0u) << text << ": " << how;
  }
}

// cuDNN passes every case it runs except those its known-deviations file
// lists, which must fail as recorded: the file is applied exactly as
// `bncheck run --deviations` applies it (a listed case that passes is stale
// and fails, a failure on another tensor is not waived), so the test and the
// gate read one record.
TEST_P(cuda_device_golden, cudnn_passes_or_fails_as_recorded) {
  if (std::string why = no_device(); !why.empty()) GTEST_SKIP() << why;
  auto k = make_kernel("cudnn");
  if (!k) GTEST_SKIP() << "the cudnn adapter is not built: cudnn.h or libcudnn was not found at configure time";
  const deviations known = read_deviations((testing::source_root() / "adapters" / "cudnn" / "deviations").string());
  std::vector<outcome> o = {judge(*k, golden_corpus().at(GetParam()))};
  apply_deviations(known, o);
  if (o[0].v == verdict::skip) GTEST_SKIP() << o[0].report;
  EXPECT_TRUE(o[0].v == verdict::pass || o[0].v == verdict::known) << o[0].report;
}

INSTANTIATE_TEST_SUITE_P(corpus, cuda_device_golden, ::testing::ValuesIn(golden_case_names()),
                         [](const auto& info) { return info.param; });

TEST(cuda_device, same_input_gives_the_same_bits_on_every_run) {
  if (std::string why = no_device(); !why.empty()) GTEST_SKIP() << why;
  for (cuda::schedule sched : {cuda::schedule::fused, cuda::schedule::launches})
    for (op_kind op : {op_kind::forward_training, op_kind::backward})
      for (layout lay : {layout::nchw, layout::nhwc}) {
        auto k = device_kernel(sched);
        problem p;
        p.op = op;
        p.lay = lay;
        p.n = 16, p.c = 64, p.h = 56, p.w = 56;  // 4 tiles per channel, 2 channel groups
        p.seed = 5;
        const test_case c = make_case(p);
        const kernel_output first = run_kernel(*k, p, c.inputs);
        ASSERT_EQ(first.result.status, kernel_status::ok) << first.result.message;
        for (int run = 0; run < 3; ++run) {
          const kernel_output again = run_kernel(*k, p, c.inputs);
          for (const auto& [name, t] : first.got)
            EXPECT_EQ(0,
                      std::memcmp(t.values.data(), again.got.at(name).values.data(), t.values.size() * sizeof(double)))
                << name << " differs on run " << run + 2 << ": " << to_text(p);
        }
      }
}

TEST(cuda_device, no_device_is_reported_as_unimplemented_with_the_reason) {
  const std::string why = no_device();
  if (why.empty()) GTEST_SKIP() << "a CUDA device is present";
  auto k = make_kernel("cuda");
  if (!k) GTEST_SKIP() << why;
  problem p;
  const kernel_output out = run_kernel(*k, p, make_case(p).inputs);
  EXPECT_EQ(out.result.status, kernel_status::unimplemented);
  EXPECT_EQ(out.result.message.rfind("no CUDA device: ", 0), 0u) << out.result.message;
}

}  // namespace
}  // namespace bncheck
