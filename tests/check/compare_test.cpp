// The comparison passes correctly rounded answers and catches planted faults:
// unwritten elements, a constant channel that is not exactly beta, the
// simplified gradient, eps outside the square root; the report has its shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "check/failure_report.hpp"
#include "check/gate.hpp"
#include "check/harness.hpp"
#include "check/tolerance.hpp"
#include "report/terminal.hpp"
#include "core/dtype.hpp"
#include "core/tensor.hpp"
#include "tests/check/oracle_kernel.hpp"

namespace bncheck {
namespace {

using testing::oracle_kernel;

check_result check(kernel& k, const test_case& c) {
  const kernel_output out = run_kernel(k, c.prob, c.inputs);
  EXPECT_EQ(out.result.status, kernel_status::ok) << out.result.message;
  return compare(c, out.got);
}

problem small(op_kind op, layout lay, dtype dt, profile prof = profile::pytorch) {
  problem p;
  p.op = op;
  p.lay = lay;
  p.data_type = dt;
  p.param_type = dt == dtype::f64 ? dtype::f64 : dtype::f32;
  p.prof = prof;
  p.n = 3, p.c = 4;
  if (spatial_rank(lay) >= 2) p.h = 3, p.w = 2;
  if (spatial_rank(lay) == 3) p.d = 2;
  p.seed = 11;
  return p;
}

TEST(compare, passes_the_correctly_rounded_answer_for_every_op_layout_dtype_profile) {
  oracle_kernel k;
  for (auto op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (auto lay : {layout::nc, layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc})
      for (auto dt : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
        for (auto prof : {profile::onnx, profile::pytorch, profile::cudnn}) {
          const test_case c = make_case(small(op, lay, dt, prof));
          const check_result r = check(k, c);
          EXPECT_TRUE(r.pass) << failure_report(c, k.name(), r);
          EXPECT_LE(r.max_normalized, 1.0);
        }
}

// docs/tolerances.md 3.1: an exact value beyond the output format's range
// rounds to infinity, so infinity of its sign is the right answer there
// (issue 13: x ~ 1e30 in f32 gives a running variance ~ 1e57, which f32
// cannot hold); infinity of the other sign, the largest finite value, and
// infinity where the exact value fits all still fail.
TEST(compare, infinity_is_right_where_the_exact_value_is_beyond_the_format) {
  const test_case c = make_case(parse_problem("forward_training nchw f32:f32 mb2ic3ih2iw2 x=normal:1e+30:1e+29"));
  oracle_kernel k;
  const kernel_output out = run_kernel(k, c.prob, c.inputs);
  ASSERT_EQ(out.result.status, kernel_status::ok);
  ASSERT_TRUE(std::isinf(out.got.at("running_var").values[0])) << "the case must reach past f32's range";
  ASSERT_TRUE(std::isfinite(out.got.at("mean").values[0]));
  const check_result right = compare(c, out.got);
  EXPECT_TRUE(right.pass) << failure_report(c, k.name(), right);
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& [tensor, value] : std::vector<std::pair<std::string, double>>{
           {"running_var", -inf}, {"running_var", max_finite(dtype::f32)}, {"mean", inf}}) {
    tensor_map got = out.got;
    got.at(tensor).values[0] = value;
    const check_result r = compare(c, got);
    EXPECT_FALSE(r.pass) << tensor << " = " << value;
    ASSERT_FALSE(r.worst.empty());
    EXPECT_EQ(r.worst.front().tensor, tensor);
  }
}

// docs/tolerances.md 3: the floor of one rounding in f64 arithmetic is half
// the smallest subnormal, 2^-1075. Computed in double that is a tie between
// 0 and 2^-1074 and rounded to 0, so f64 bounds had no floor at all; the
// f64 subnormal region found it (eigen's dx 2^-1073 where the exact value is
// 0: four roundings of subnormal terms, each within 2^-1075).
TEST(compare, f64_arithmetic_has_a_subnormal_floor) {
  problem p = parse_problem("backward nc f64:f32 mb2ic1");
  tensor_map in = generate_inputs(p);
  in.at("x").values = {4096, 4076};
  in.at("dy").values = {0, 7 * std::ldexp(1.0, -1074)};
  in.at("gamma").values = {4};
  const test_case c = make_case(p, in);
  const tensor_map b = tolerance_bounds(c.prob, c.inputs, c.expected);
  ASSERT_EQ(c.expected.at("dx").values[0], 0.0);
  // Four elementwise roundings' floors, 4 eta (|gamma| s + 1) with s = 0.1, at least.
  EXPECT_GE(b.at("dx").values[0], 4 * std::ldexp(1.0, -1075) * (4 * 0.1 + 1)) << b.at("dx").values[0] / std::ldexp(1.0, -1074);
  tensor_map got = c.expected;
  got.at("dx").values[0] = -2 * std::ldexp(1.0, -1074);
  const check_result r = compare(c, got);
  EXPECT_TRUE(r.pass) << failure_report(c, "planted", r);
}

// docs/tolerances.md 9: where the exact value reads a non-finite input it is
// undefined, and the kernel must return a non-finite value, any one (NaN
// from shifting by the first value, +inf from a plain sum); a finite value
// there fails. Elsewhere nothing changes: an expected finite value met by
// NaN still fails.
TEST(compare, an_undefined_output_needs_a_non_finite_value_and_nothing_else_changes) {
  const test_case c =
      make_case(parse_problem("forward_training nchw f32:f32 mb2ic3ih2iw2 seed=5 x=normal:0:1,inf@5"));  // channel 1
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  ASSERT_TRUE(std::isnan(c.expected.at("mean").values[1]));
  ASSERT_TRUE(std::isfinite(c.expected.at("mean").values[0]));
  oracle_kernel k;
  const kernel_output out = run_kernel(k, c.prob, c.inputs);
  ASSERT_EQ(out.result.status, kernel_status::ok);
  tensor_map got = c.expected;  // NaN where undefined
  EXPECT_TRUE(compare(c, got).pass);
  for (double v : {inf, -inf, nan}) {  // any non-finite value is right where the exact one is undefined
    got.at("mean").values[1] = v;
    got.at("y").values[5] = v;
    const check_result r = compare(c, got);
    EXPECT_TRUE(r.pass) << failure_report(c, "planted", r);
  }
  for (const auto& [name, index] : std::vector<std::pair<std::string, std::size_t>>{
           {"mean", 1}, {"invstd", 1}, {"running_var", 1}, {"y", 4}}) {  // y[0,1,0,0] is channel 1
    tensor_map wrong = c.expected;
    wrong.at(name).values[index] = 0.5;
    const check_result r = compare(c, wrong);
    EXPECT_FALSE(r.pass) << name;
    ASSERT_FALSE(r.worst.empty());
    EXPECT_EQ(r.worst.front().tensor, name);
    EXPECT_EQ(r.worst.front().normalized, inf);
  }
  for (const auto& [name, index] : std::vector<std::pair<std::string, std::size_t>>{{"mean", 0}, {"y", 0}, {"y", 8}}) {
    tensor_map wrong = c.expected;  // channels 0 and 2 are finite: NaN there still fails
    wrong.at(name).values[index] = nan;
    EXPECT_FALSE(compare(c, wrong).pass) << name << "[" << index << "]";
  }
}

TEST(compare, catches_an_unwritten_tail) {
  oracle_kernel k;
  k.unwritten_tail = 1;
  const test_case c = make_case(small(op_kind::forward_training, layout::nchw, dtype::f32));
  const check_result r = check(k, c);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.failed, 1);
  ASSERT_FALSE(r.worst.empty());
  EXPECT_EQ(r.worst.front().tensor, "y");
  EXPECT_EQ(r.worst.front().index, element_count(c.prob) - 1);
  EXPECT_TRUE(std::isinf(r.worst.front().normalized));
}

TEST(compare, catches_an_output_never_written) {
  oracle_kernel k;
  k.skip_outputs = {"running_var"};
  const test_case c = make_case(small(op_kind::forward_training, layout::nhwc, dtype::f32));
  const check_result r = check(k, c);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.failed, c.prob.c);
}

TEST(compare, requires_exactly_beta_on_a_constant_channel) {
  problem p = small(op_kind::forward_training, layout::nchw, dtype::f32);
  p.x = {fill_kind::constant, 0.1, 0};
  const test_case c = make_case(p);
  oracle_kernel exact;
  EXPECT_TRUE(check(exact, c).pass);
  // One ulp off beta in a single element: what a mean that does not
  // reproduce the constant gives.
  oracle_kernel off([](const problem&, const tensor_map&, tensor_map& out) {
    double& v = out.at("y").values[0];
    v = std::nextafter(static_cast<float>(v), 10.0f);
  });
  const check_result r = check(off, c);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.failed, 1);
}

TEST(compare, catches_the_simplified_gradient_that_drops_the_mean_and_variance_terms) {
  // dx = dy * gamma * invstd, as some course notes derive it.
  oracle_kernel simplified([](const problem& p, const tensor_map& in, tensor_map& out) {
    const tensor_map ref = reference::compute(p, in);
    std::vector<double>& dx = out.at("dx").values;
    for (int64_t c = 0; c < p.c; ++c)
      for (int64_t i = 0; i < p.n; ++i)
        for (int64_t s = 0; s < spatial_size(p); ++s) {
          const auto o = static_cast<std::size_t>(offset(p, i, c, s));
          dx[o] = round_to(p.data_type, in.at("dy").values[o] * in.at("gamma").values[c] *
                                            ref.at("invstd").values[c]);
        }
  });
  for (auto dt : {dtype::f64, dtype::f32, dtype::f16}) {
    const test_case c = make_case(small(op_kind::backward, layout::nchw, dt));
    const check_result r = check(simplified, c);
    EXPECT_FALSE(r.pass) << to_string(dt);
    EXPECT_GT(r.max_normalized, 10.0) << to_string(dt);
  }
}

TEST(compare, catches_eps_outside_the_square_root_in_f64) {
  // y = gamma * (x - mu) / (sigma + eps) + beta.
  oracle_kernel outside([](const problem& p, const tensor_map& in, tensor_map& out) {
    const tensor_map ref = reference::compute(p, in);
    for (int64_t c = 0; c < p.c; ++c) {
      const double sigma = std::sqrt(ref.at("var").values[c]);
      for (int64_t i = 0; i < p.n; ++i)
        for (int64_t s = 0; s < spatial_size(p); ++s) {
          const auto o = static_cast<std::size_t>(offset(p, i, c, s));
          out.at("y").values[o] = in.at("gamma").values[c] * (in.at("x").values[o] - ref.at("mean").values[c]) /
                                      (sigma + p.eps) + in.at("beta").values[c];
        }
    }
  });
  const test_case c = make_case(small(op_kind::forward_training, layout::nc, dtype::f64));
  EXPECT_FALSE(check(outside, c).pass);
}

TEST(compare, report_has_header_worst_elements_statistics_and_a_repro_line) {
  oracle_kernel k([](const problem&, const tensor_map&, tensor_map& out) {
    for (double& v : out.at("y").values) v = v * 1.001 + 1e-3;
  }, "scaled");
  problem p = small(op_kind::forward_training, layout::nhwc, dtype::f32);
  p.n = 8;
  const test_case c = make_case(p);
  const check_result r = check(k, c);
  ASSERT_FALSE(r.pass);
  const std::string report = failure_report(c, k.name(), r);
  EXPECT_NE(report.find("problem: " + to_text(p)), std::string::npos) << report;
  EXPECT_NE(report.find("kernel: scaled"), std::string::npos) << report;
  EXPECT_NE(report.find("seed: 11"), std::string::npos) << report;
  EXPECT_NE(report.find("stats: "), std::string::npos) << report;
  // At most ten element lines, each with a position and hex floats.
  const std::regex element_line(R"(\n    y\[\d+,\d+,\d+,\d+\] +-?0x[0-9a-f.]+p[-+]\d+ +-?0x)");
  const auto lines = std::distance(std::sregex_iterator(report.begin(), report.end(), element_line),
                                   std::sregex_iterator());
  EXPECT_EQ(lines, 10) << report;
  // The repro line carries a problem text that parses back to the same problem.
  const std::string prefix = "REPRO: bncheck run --kernel scaled --problem '";
  const auto at = report.find(prefix);
  ASSERT_NE(at, std::string::npos) << report;
  const auto start = at + prefix.size();
  const std::string text = report.substr(start, report.find('\'', start) - start);
  EXPECT_EQ(parse_problem(text), p);
}

TEST(compare, repro_line_never_offers_a_problem_text_that_cannot_regenerate_the_inputs) {
  test_case c = make_case(small(op_kind::forward_training, layout::nc, dtype::f32));
  EXPECT_NE(repro_line(c, "k").find("--problem '"), std::string::npos);
  c.prob.x = {fill_kind::file, 0, 0};
  EXPECT_EQ(repro_line(c, "k").find("--problem"), std::string::npos) << repro_line(c, "k");
  c.name = "seeds_example_fwd";
  EXPECT_NE(repro_line(c, "k").find("--case seeds_example_fwd"), std::string::npos);
}

TEST(gate, counts_skips_and_failures_and_never_passes_silently) {
  struct refuses : kernel {
    std::string name() const override { return "refuses"; }
    kernel_result run(const problem&, const kernel_io&) override {
      return {kernel_status::unimplemented, "no such layout"};
    }
  } skipper;
  struct breaks : kernel {
    std::string name() const override { return "breaks"; }
    kernel_result run(const problem&, const kernel_io&) override { return {kernel_status::error, "boom"}; }
  } failer;
  const test_case c = make_case(small(op_kind::forward_training, layout::nchw, dtype::f32));
  EXPECT_EQ(judge(skipper, c).v, verdict::skip);
  const outcome f = judge(failer, c);
  EXPECT_EQ(f.v, verdict::fail);
  EXPECT_NE(f.report.find("boom"), std::string::npos);
  EXPECT_NE(f.report.find("REPRO:"), std::string::npos);
}

// The oracle, leaving some outputs unwritten and declaring them not produced.
struct declares : kernel {
  oracle_kernel inner;
  std::vector<std::string> omitted;
  std::string name() const override { return "declares"; }
  kernel_result run(const problem& p, const kernel_io& io) override {
    inner.skip_outputs = omitted;
    kernel_result r = inner.run(p, io);
    r.not_produced = omitted;
    return r;
  }
};

TEST(gate, an_output_declared_not_produced_is_not_compared_and_is_reported) {
  declares k;
  k.omitted = {"var", "running_var"};
  const test_case c = make_case(small(op_kind::forward_training, layout::nchw, dtype::f32, profile::onnx));
  const kernel_output out = run_kernel(k, c.prob, c.inputs);
  ASSERT_EQ(out.result.status, kernel_status::ok);
  EXPECT_EQ(out.got.count("var"), 0u);
  EXPECT_EQ(out.got.count("running_var"), 0u);
  const check_result r = compare(c, out.got, out.result.not_produced);
  EXPECT_TRUE(r.pass) << failure_report(c, k.name(), r);
  EXPECT_EQ(r.not_produced, "var, running_var");
  // Left unwritten (NaN) and not declared, the same outputs fail.
  EXPECT_FALSE(compare(c, out.got).pass);
  const outcome o = judge(k, c);
  EXPECT_EQ(o.v, verdict::pass) << o.report;
  EXPECT_EQ(o.not_produced, "var, running_var");
  std::ostringstream table;
  report::print_table({o, o}, "declares", table);
  EXPECT_NE(table.str().find("not checked in 2 cases: var, running_var"), std::string::npos) << table.str();
  // A failure report names them too.
  check_result failing = r;
  failing.pass = false;
  EXPECT_NE(failure_report(c, k.name(), failing).find("not produced"), std::string::npos);
}

TEST(gate, a_required_output_declared_not_produced_fails_the_case) {
  declares k;
  k.omitted = {"y"};
  const test_case fwd = make_case(small(op_kind::forward_training, layout::nchw, dtype::f32));
  const outcome o = judge(k, fwd);
  EXPECT_EQ(o.v, verdict::fail);
  EXPECT_NE(o.report.find("'y' not produced"), std::string::npos) << o.report;
  // Statistics are optional only where the op writes them: backward reads them.
  k.omitted = {"var"};
  const test_case bwd = make_case(small(op_kind::backward, layout::nchw, dtype::f32));
  EXPECT_EQ(judge(k, bwd).v, verdict::fail);
  k.omitted = {"no_such_tensor"};
  EXPECT_EQ(judge(k, fwd).v, verdict::fail);
}

}  // namespace
}  // namespace bncheck

namespace bncheck {
namespace {

TEST(compare, histogram_bins_are_decades_of_err_over_bound_with_the_bound_starting_a_bin) {
  EXPECT_EQ(histogram_bin(0), 0);
  EXPECT_EQ(histogram_bin(1e-9), 1);
  EXPECT_EQ(histogram_bin(1e-6), 2);
  EXPECT_EQ(histogram_bin(0.5), histogram_first_over_bound - 1);
  EXPECT_EQ(histogram_bin(1.0), histogram_first_over_bound);  // at the bound: the first bin of failures
  EXPECT_EQ(histogram_bin(9.9), histogram_first_over_bound);
  EXPECT_EQ(histogram_bin(10), histogram_first_over_bound + 1);
  EXPECT_EQ(histogram_bin(1e4), histogram_bins - 1);
  EXPECT_EQ(histogram_bin(std::numeric_limits<double>::infinity()), histogram_bins - 1);
  EXPECT_EQ(histogram_bin_label(histogram_first_over_bound), "1");
}

// y of channel 1 (NCHW) off by a lot, everything else exact: the per-output
// histogram, the per-channel maxima and the worst positions say so.
TEST(compare, keeps_per_output_histograms_per_channel_maxima_and_positions) {
  oracle_kernel k([](const problem& p, const tensor_map&, tensor_map& out) {
    std::vector<double>& y = out.at("y").values;
    for (std::size_t i = 0; i < y.size(); ++i)
      if ((static_cast<int64_t>(i) / spatial_size(p)) % p.c == 1) y[i] += 1.0;
  }, "channel_one");
  const test_case c = make_case(small(op_kind::forward_training, layout::nchw, dtype::f32));
  const check_result r = check(k, c);
  ASSERT_FALSE(r.pass);
  ASSERT_EQ(r.outputs.size(), output_names(c.prob).size());
  const auto y = std::find_if(r.outputs.begin(), r.outputs.end(), [](const output_errors& e) { return e.tensor == "y"; });
  ASSERT_NE(y, r.outputs.end());
  const int64_t per_channel = c.prob.n * spatial_size(c.prob);
  EXPECT_EQ(y->checked, element_count(c.prob));
  EXPECT_EQ(y->failed, per_channel);
  ASSERT_EQ(y->histogram.size(), static_cast<std::size_t>(histogram_bins));
  int64_t over = 0, total = 0;
  for (int b = 0; b < histogram_bins; ++b) {
    total += y->histogram[b];
    if (b >= histogram_first_over_bound) over += y->histogram[b];
  }
  EXPECT_EQ(total, y->checked);
  EXPECT_EQ(over, per_channel);
  ASSERT_EQ(y->channel_max.size(), static_cast<std::size_t>(c.prob.c));
  for (int64_t ch = 0; ch < c.prob.c; ++ch) {
    if (ch == 1) EXPECT_GT(y->channel_max[ch], 1.0);
    else EXPECT_LE(y->channel_max[ch], 1.0) << ch;
  }
  for (const output_errors& e : r.outputs)
    if (e.tensor != "y") {
      EXPECT_EQ(e.failed, 0) << e.tensor;
    }
  for (const element_error& e : r.worst) EXPECT_TRUE(std::regex_match(e.position, std::regex(R"(y\[\d+,1,\d+,\d+\])"))) << e.position;
}

TEST(gate, a_failure_carries_its_comparison_and_the_repro_command_without_prefix) {
  oracle_kernel k([](const problem&, const tensor_map&, tensor_map& out) {
    for (double& v : out.at("y").values) v = v * 1.001 + 1e-3;
  }, "scaled");
  const test_case c = make_case(small(op_kind::forward_training, layout::nhwc, dtype::f32));
  const outcome o = judge(k, c);
  ASSERT_EQ(o.v, verdict::fail);
  ASSERT_TRUE(o.check.has_value());
  EXPECT_GT(o.check->failed, 0);
  EXPECT_EQ(o.worst_tensor, "y");
  ASSERT_EQ(o.repro.size(), 1u);
  EXPECT_EQ(o.repro[0], "bncheck run --kernel scaled --problem '" + to_text(c.prob) + "'");
  EXPECT_NE(o.report.find("REPRO: " + o.repro[0] + "\n"), std::string::npos) << o.report;
  oracle_kernel exact([](const problem&, const tensor_map&, tensor_map&) {}, "exact");
  const outcome pass = judge(exact, c);
  EXPECT_EQ(pass.v, verdict::pass) << pass.report;
  EXPECT_TRUE(pass.repro.empty());
  EXPECT_TRUE(pass.check.has_value());
}

}  // namespace
}  // namespace bncheck
