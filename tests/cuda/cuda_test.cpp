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
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "check/deviations.hpp"
#include "check/gate.hpp"
#include "check/harness.hpp"
#include "core/kernel.hpp"
#include "golden/store.hpp"
#include "impl/cuda/cuda_kernel.hpp"
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
  const kernel_output a = run_kernel(*k, c.prob, c.inputs);
  const kernel_output b = run_kernel(*host, c.prob, c.inputs);
  ASSERT_EQ(a.result.status, kernel_status::ok) << a.result.message;
  for (const auto& [name, t] : b.got) {
    const auto& d = a.got.at(name).values;
    ASSERT_EQ(d.size(), t.values.size());
    EXPECT_EQ(0, std::memcmp(d.data(), t.values.data(), d.size() * sizeof(double))) << name;
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
  auto k = make_kernel("cuda");
  for (op_kind op : {op_kind::forward_training, op_kind::backward})
    for (layout lay : {layout::nchw, layout::nhwc}) {
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
          EXPECT_EQ(0, std::memcmp(t.values.data(), again.got.at(name).values.data(), t.values.size() * sizeof(double)))
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
