// The C interface through the loader: our Eigen kernel as a plugin passes the
// golden corpus bit for bit like the built-in; the example vendor plugin
// passes what it implements and is skipped, with its reason, on the rest;
// version negotiation and broken plugins give one-line load errors; the
// DLPack descriptors carry every layout both ways.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "abi/convert.hpp"
#include "abi/loader.hpp"
#include "check/gate.hpp"
#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"
#include "golden/store.hpp"
#include "kernels/registry.hpp"
#include "tests/support/corpus.hpp"

namespace bncheck {
namespace {

std::vector<test_case> golden_cases() {
  std::vector<test_case> cases;
  for (const auto& [name, c] : testing::golden_corpus()) cases.push_back(c);
  return cases;
}

std::string load_error(const std::string& path) {
  try {
    abi::load_plugin(path);
  } catch (const input_error& e) {
    return e.what();
  }
  return "";
}

TEST(abi_loader, eigen_plugin_passes_the_golden_corpus_bit_for_bit_like_the_builtin) {
  auto plugin = abi::load_plugin(BNC_EIGEN_PLUGIN);
  auto builtin = make_kernel("eigen");
  EXPECT_EQ(plugin->name(), BNC_EIGEN_PLUGIN);
  EXPECT_NE(plugin->description().find("eigen"), std::string::npos);
  int checked = 0;
  for (const test_case& c : golden_cases()) {
    const outcome o = judge(*plugin, c);
    EXPECT_EQ(o.v, verdict::pass) << c.name << "\n" << o.report;
    const kernel_output a = run_kernel(*plugin, c.prob, c.inputs);
    const kernel_output b = run_kernel(*builtin, c.prob, c.inputs);
    ASSERT_EQ(a.result.status, b.result.status) << c.name;
    for (const auto& [name, t] : b.got) {
      ASSERT_EQ(a.got.at(name).values.size(), t.values.size());
      for (std::size_t i = 0; i < t.values.size(); ++i) {
        const double x = a.got.at(name).values[i], y = t.values[i];
        EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << c.name << " " << name << "[" << i << "]";
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 60);
}

TEST(abi_loader, example_plugin_passes_f32_and_f64_and_is_skipped_with_its_reason_on_f16_bf16_and_merges) {
  auto plugin = abi::load_plugin(BNC_EXAMPLE_PLUGIN);
  int passed = 0, skipped = 0;
  for (const test_case& c : golden_cases()) {
    const outcome o = judge(*plugin, c);
    const bool narrow = c.prob.data_type == dtype::f16 || c.prob.data_type == dtype::bf16;
    if (c.prob.op == op_kind::merge_statistics) {  // the example has no merge
      EXPECT_EQ(o.v, verdict::skip) << c.name;
      EXPECT_NE(o.report.find("not implemented"), std::string::npos) << o.report;
    } else if (narrow) {
      EXPECT_EQ(o.v, verdict::skip) << c.name;
      EXPECT_NE(o.report.find("only float32 and float64"), std::string::npos) << o.report;
      ++skipped;
    } else {
      EXPECT_EQ(o.v, verdict::pass) << c.name << "\n" << o.report;
      ++passed;
    }
  }
  EXPECT_GT(passed, 40);
  EXPECT_GT(skipped, 3);
}

TEST(abi_loader, a_plugin_for_another_major_version_is_refused_by_name) {
  const std::string e = load_error(BNC_FUTURE_PLUGIN);
  EXPECT_NE(e.find("does not speak the bncheck kernel interface major version 1"), std::string::npos) << e;
}

TEST(abi_loader, broken_plugins_give_one_line_load_errors) {
  EXPECT_NE(load_error(BNC_SHORT_TABLE_PLUGIN).find("shorter than version 1.0"), std::string::npos);
  EXPECT_NE(load_error(BNC_NO_GETTER_PLUGIN).find("does not export bnc_get_kernel_api"), std::string::npos);
  const std::string missing = load_error("/nonexistent/libnothing.so");
  EXPECT_NE(missing.find("cannot load plugin '/nonexistent/libnothing.so'"), std::string::npos) << missing;
  for (const char* path : {BNC_SHORT_TABLE_PLUGIN, BNC_NO_GETTER_PLUGIN, "/nonexistent/libnothing.so"})
    EXPECT_EQ(load_error(path).find('\n'), std::string::npos);
}

TEST(abi_loader, a_failing_create_fails_every_case_with_the_plugins_message) {
  auto plugin = abi::load_plugin(BNC_CREATE_FAILS_PLUGIN);
  const test_case c = make_case(parse_problem("forward_training nc f32:f32 mb4ic2 seed=1"));
  for (int i = 0; i < 2; ++i) {
    const outcome o = judge(*plugin, c);
    EXPECT_EQ(o.v, verdict::fail);
    EXPECT_NE(o.report.find("no licence for this machine"), std::string::npos) << o.report;
    EXPECT_NE(o.report.find("REPRO: bncheck run --kernel " + std::string(BNC_CREATE_FAILS_PLUGIN)),
              std::string::npos);
  }
}

TEST(abi_loader, an_unknown_not_produced_bit_fails_the_case) {
  auto plugin = abi::load_plugin(BNC_UNKNOWN_OUTPUT_BIT_PLUGIN);
  const outcome o = judge(*plugin, make_case(parse_problem("forward_training nc f32:f32 mb4ic2 seed=1")));
  EXPECT_EQ(o.v, verdict::fail);
  EXPECT_NE(o.report.find("unknown bits 512 in not_produced"), std::string::npos) << o.report;
}

TEST(abi_convert, not_produced_bits_come_back_as_output_names) {
  const problem p = parse_problem("forward_training nchw f32:f32 mb2ic3ih4iw5");
  std::vector<std::vector<unsigned char>> store;
  const kernel_io io = bind_io(p.op, [&](const std::string&) {
    store.emplace_back(4096);
    return static_cast<void*>(store.back().data());
  });
  abi::call_args call(p, io);
  ASSERT_TRUE(BNC_HAS_FIELD(&call.args(), bnc_batch_norm_args, not_produced));
  ASSERT_NE(call.args().not_produced, nullptr);
  EXPECT_EQ(*call.args().not_produced, 0u);
  EXPECT_TRUE(call.not_produced().empty());
  *call.args().not_produced |= BNC_OUTPUT_INVSTD | BNC_OUTPUT_RUNNING_VAR;
  EXPECT_EQ(call.not_produced(), (std::vector<std::string>{"invstd", "running_var"}));
  for (const char* name : {"mean", "var", "invstd", "running_mean", "running_var"})
    EXPECT_NE(abi::output_bit(name), 0u) << name;
  EXPECT_EQ(abi::output_bit("y"), 0u);
  *call.args().not_produced |= 1u << 20;
  EXPECT_THROW(call.not_produced(), std::invalid_argument);
}

TEST(abi_loader, unimplemented_is_a_skip_with_the_plugins_message) {
  auto example = abi::load_plugin(BNC_EXAMPLE_PLUGIN);
  const outcome o = judge(*example, make_case(parse_problem("forward_inference nhwc f16:f32 mb2ic3ih2iw2 seed=4")));
  EXPECT_EQ(o.v, verdict::skip);
  EXPECT_NE(o.report.find("does not implement this problem: example: only float32 and float64"), std::string::npos)
      << o.report;
}

TEST(abi_loader, plugin_paths_are_told_from_kernel_names) {
  EXPECT_TRUE(abi::is_plugin_path("./libfoo.so"));
  EXPECT_TRUE(abi::is_plugin_path("libfoo.so"));
  EXPECT_TRUE(abi::is_plugin_path("/opt/acme/lib/libacme_bn.so.2"));
  EXPECT_FALSE(abi::is_plugin_path("eigen"));
  EXPECT_FALSE(abi::is_plugin_path("naive_variance"));
}

// Descriptors: the strides table of bncheck_kernel.h, and decode_args as the
// exact inverse of call_args for every layout and op.
TEST(abi_convert, nhwc_and_ndhwc_strides_follow_the_header_table) {
  problem p = parse_problem("forward_inference nhwc f32:f64 mb2ic3ih4iw5");
  std::vector<float> x(120), y(120);
  std::vector<double> g(3), b(3), rm(3), rv(3);
  kernel_io io;
  io.x = x.data(), io.y = y.data(), io.gamma = g.data(), io.beta = b.data();
  io.running_mean = rm.data(), io.running_var = rv.data();
  abi::call_args call(p, io);
  const DLTensor* t = call.args().x;
  ASSERT_EQ(t->ndim, 4);
  EXPECT_EQ(std::vector<int64_t>(t->shape, t->shape + 4), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(std::vector<int64_t>(t->strides, t->strides + 4), (std::vector<int64_t>{60, 1, 15, 3}));
  EXPECT_EQ(call.args().gamma->dtype.bits, 64);
  EXPECT_EQ(call.args().dy, nullptr);
  p = parse_problem("forward_inference ndhwc f32:f32 mb2ic3id2ih4iw5");
  abi::call_args call5(p, io);
  t = call5.args().x;
  EXPECT_EQ(std::vector<int64_t>(t->shape, t->shape + 5), (std::vector<int64_t>{2, 3, 2, 4, 5}));
  EXPECT_EQ(std::vector<int64_t>(t->strides, t->strides + 5), (std::vector<int64_t>{120, 1, 60, 15, 3}));
  p = parse_problem("forward_inference ncdhw f32:f32 mb2ic3id2ih4iw5");
  abi::call_args call5c(p, io);
  t = call5c.args().x;
  EXPECT_EQ(std::vector<int64_t>(t->strides, t->strides + 5), (std::vector<int64_t>{120, 40, 20, 5, 1}));
}

TEST(abi_convert, decode_args_inverts_call_args_for_every_layout_and_op) {
  for (const char* text :
       {"forward_training nc f64:f64 mb5ic3 eps=0.5 momentum=0.25 profile=onnx",
        "forward_inference nchw f16:f32 mb2ic3ih4iw5 profile=cudnn",
        "backward nhwc bf16:f32 mb2ic3ih1iw5", "backward ncdhw f32:f64 mb1ic2id3ih1iw2",
        "forward_training ndhwc f32:f32 mb2ic4id2ih2iw3 momentum=0.9"}) {
    const problem p = parse_problem(text);
    std::map<std::string, int> tags;
    const kernel_io io = bind_io(p.op, [&](const std::string& name) {
      return reinterpret_cast<void*>(static_cast<std::uintptr_t>(4096 * (1 + tags.size() + tags[name]++)));
    });
    abi::call_args call(p, io);
    const abi::decoded_call back = abi::decode_args(call.args());
    problem expected = p;
    expected.seed = 0;
    EXPECT_EQ(back.prob, expected) << text;
    EXPECT_EQ(back.io.x, io.x);
    EXPECT_EQ(back.io.dy, io.dy);
    EXPECT_EQ(back.io.y, io.y);
    EXPECT_EQ(back.io.dx, io.dx);
    EXPECT_EQ(back.io.mean, io.mean);
    EXPECT_EQ(back.io.invstd, io.invstd);
    EXPECT_EQ(back.io.running_var, io.running_var);
    EXPECT_EQ(back.io.dbeta, io.dbeta);
  }
}

TEST(abi_convert, a_tensor_in_its_own_storage_carries_its_strides_and_byte_offset_both_ways) {
  // x: channels 1..3 of a 6-channel NCHW tensor; dy NCHW; dx dense NHWC.
  const problem p = parse_problem("backward nhwc f32:f32 mb2ic3ih4iw5 x_storage=nchw,slice=1/6 dy_storage=nchw");
  std::vector<float> x(240), dy(120), dx(120);
  std::vector<float> g(3), m(3), v(3), s(3), dg(3), db(3);
  kernel_io io;
  io.x = x.data() + 20, io.dy = dy.data(), io.dx = dx.data(), io.gamma = g.data();
  io.mean = m.data(), io.var = v.data(), io.invstd = s.data(), io.dgamma = dg.data(), io.dbeta = db.data();
  abi::call_args call(p, io);
  const DLTensor* t = call.args().x;
  EXPECT_EQ(std::vector<int64_t>(t->strides, t->strides + 4), (std::vector<int64_t>{120, 20, 5, 1}));
  EXPECT_EQ(t->data, x.data());  // the wider tensor
  EXPECT_EQ(t->byte_offset, 20 * sizeof(float));
  t = call.args().dy;
  EXPECT_EQ(std::vector<int64_t>(t->strides, t->strides + 4), (std::vector<int64_t>{60, 20, 5, 1}));
  EXPECT_EQ(t->byte_offset, 0u);
  t = call.args().dx;
  EXPECT_EQ(std::vector<int64_t>(t->strides, t->strides + 4), (std::vector<int64_t>{60, 1, 15, 3}));
  // Decoded, the slice starts at the pointer (first channel 0 of a 6-channel tensor): the same elements.
  const abi::decoded_call back = abi::decode_args(call.args());
  EXPECT_EQ(back.io.x, io.x);
  EXPECT_EQ(back.prob.x_storage, (storage{layout::nchw, 6, 0}));
  EXPECT_EQ(back.prob.dy_storage, (storage{layout::nchw, 0, 0}));
  EXPECT_EQ(back.prob.dx_storage, storage{});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t e = 0; e < 20; ++e)
        EXPECT_EQ(placement_of(back.prob, "x").at(i, c, e), placement_of(p, "x").at(i, c, e));
}

TEST(abi_convert, strides_no_storage_describes_are_refused_as_unsupported) {
  const problem p = parse_problem("forward_inference nchw f32:f32 mb2ic3ih4iw5");
  std::vector<float> x(120), y(120);
  std::vector<float> g(3), b(3), rm(3), rv(3);
  kernel_io io;
  io.x = x.data(), io.y = y.data(), io.gamma = g.data(), io.beta = b.data();
  io.running_mean = rm.data(), io.running_var = rv.data();
  abi::call_args call(p, io);
  bnc_batch_norm_args a = call.args();
  DLTensor odd = *a.x;
  const int64_t transposed[] = {60, 20, 1, 4};  // h and w swapped
  odd.strides = const_cast<int64_t*>(transposed);
  a.x = &odd;
  EXPECT_THROW(abi::decode_args(a), abi::unsupported_call);
}

TEST(abi_loader, a_plugin_without_the_strides_capability_is_given_dense_tensors_only) {
  // A 1.0 table with the capability set past its struct_size: not read.
  auto plugin = abi::load_plugin(BNC_OLD_TABLE_PLUGIN);
  EXPECT_FALSE(plugin->takes_strides());
  EXPECT_FALSE(abi::load_plugin(BNC_UNKNOWN_OUTPUT_BIT_PLUGIN)->takes_strides());  // 1.3, capabilities 0
  const test_case c = make_case(parse_problem("backward nhwc f32:f32 mb2ic3ih3iw4 seed=111 x_storage=nchw"));
  const outcome o = judge(*plugin, c);
  EXPECT_EQ(o.v, verdict::skip) << o.report;
  EXPECT_NE(o.report.find("takes data tensors dense in the problem's layout only"), std::string::npos) << o.report;
  EXPECT_TRUE(abi::load_plugin(BNC_EXAMPLE_PLUGIN)->takes_strides());
  EXPECT_TRUE(abi::load_plugin(BNC_EIGEN_PLUGIN)->takes_strides());
}

TEST(abi_convert, merge_statistics_carries_its_shard_tensors_both_ways) {
  const problem p = parse_problem("merge_statistics nc f32:f32 mb3ic2 shards=1,1000,1000000 eps=0.5");
  double counts[3] = {1, 1000, 1000000};
  float means[6] = {}, m2s[6] = {}, out[3][2] = {};
  const kernel_io io = bind_io(p.op, [&](const std::string& name) -> void* {
    if (name == "shard_count") return counts;
    if (name == "shard_mean") return means;
    if (name == "shard_m2") return m2s;
    return name == "mean" ? out[0] : name == "var" ? out[1] : out[2];
  });
  abi::call_args call(p, io);
  const bnc_batch_norm_args& a = call.args();
  EXPECT_EQ(a.op, BNC_OP_MERGE_STATISTICS);
  EXPECT_EQ(a.x, nullptr);
  EXPECT_EQ(a.gamma, nullptr);
  ASSERT_NE(a.shard_mean, nullptr);
  EXPECT_EQ(a.shard_mean->ndim, 2);
  EXPECT_EQ(a.shard_mean->shape[0], 3);
  EXPECT_EQ(a.shard_mean->shape[1], 2);
  EXPECT_EQ(a.shard_mean->strides[0], 2);
  EXPECT_EQ(a.shard_count->dtype.bits, 64);
  const abi::decoded_call back = abi::decode_args(a);
  problem expected = p;
  expected.seed = 0;
  EXPECT_EQ(back.prob, expected);  // the counts come back from shard_count's values
  EXPECT_EQ(back.io.shard_count, io.shard_count);
  EXPECT_EQ(back.io.shard_m2, io.shard_m2);
  EXPECT_EQ(back.io.var, io.var);
  // A caller that predates 1.2 cannot have meant MERGE_STATISTICS.
  bnc_batch_norm_args old = a;
  old.struct_size = BNC_BATCH_NORM_ARGS_SIZE_1_1;
  EXPECT_THROW(abi::decode_args(old), std::invalid_argument);
  // A count that is not a positive integer breaks the contract.
  counts[1] = 2.5;
  EXPECT_THROW(abi::decode_args(a), std::invalid_argument);
}

TEST(abi_loader, a_plugin_without_merge_statistics_skips_it_with_its_reason) {
  auto plugin = abi::load_plugin(BNC_EXAMPLE_PLUGIN);
  const test_case c = make_case(parse_problem("merge_statistics nc f64:f64 mb2ic2 shards=1,1000000"));
  const outcome o = judge(*plugin, c);
  EXPECT_EQ(o.v, verdict::skip) << o.report;
  EXPECT_NE(o.report.find("not implemented"), std::string::npos) << o.report;
}

TEST(abi_convert, decode_args_refuses_what_breaks_the_contract) {
  const problem p = parse_problem("forward_training nchw f32:f32 mb2ic3ih4iw5");
  const kernel_io io = bind_io(p.op, [](const std::string&) { return reinterpret_cast<void*>(4096); });
  abi::call_args call(p, io);
  bnc_batch_norm_args a = call.args();
  a.y = nullptr;
  EXPECT_THROW(abi::decode_args(a), std::invalid_argument);
  a = call.args();
  a.layout = 99;
  EXPECT_THROW(abi::decode_args(a), abi::unsupported_call);
  a = call.args();
  a.struct_size = BNC_STRUCT_SIZE(bnc_batch_norm_args, momentum);
  EXPECT_THROW(abi::decode_args(a), std::invalid_argument);
  DLTensor strided = *call.args().y;
  int64_t odd_strides[4] = {60, 1, 3, 15};  // h and w swapped: no storage (a slice {120, 1, 30, 6} is one)
  strided.strides = odd_strides;
  a = call.args();
  a.y = &strided;
  EXPECT_THROW(abi::decode_args(a), abi::unsupported_call);
}

}  // namespace
}  // namespace bncheck
