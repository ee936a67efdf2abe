// The cases of the golden corpus. Each one pins a behaviour a kernel must
// get right; sizes stay small except the one long reduction, which dominates
// the corpus's size (2^18 elements).
#include "golden/corpus.hpp"

#include <set>
#include <stdexcept>

#include "core/dtype.hpp"
#include "core/error.hpp"

namespace bncheck {
namespace {

case_spec generated(std::string name, std::string description, std::string_view text) {
  return {std::move(name), std::move(description), parse_problem(text), {}};
}

case_spec literal(std::string name, std::string description, std::string_view text, tensor_map inputs) {
  return {std::move(name), std::move(description), parse_problem(text), std::move(inputs)};
}

tensor values(const problem& p, const std::string& name, std::vector<double> v) {
  tensor t{type_of(p, name), shape_of(p, name), std::move(v)};
  for (double& x : t.values) x = round_to(t.type, x);
  return t;
}

// Literal inputs given as text problem + values (rounded once to the tensor's format).
case_spec table(std::string name, std::string description, std::string_view text,
                std::vector<std::pair<std::string, std::vector<double>>> inputs) {
  case_spec s = literal(std::move(name), std::move(description), text, {});
  for (auto& [n, v] : inputs) s.literal_inputs.emplace(n, values(s.prob, n, std::move(v)));
  return s;
}

// The same data as a generated case in another layout: the data tensors
// (x, and dy for backward) are the generated ones, permuted; per-channel
// inputs are generated from the same seed, so they are equal too.
case_spec same_data(const case_spec& base, std::string name, std::string description, layout to) {
  problem p = base.prob;
  p.lay = to;
  const tensor_map from = generate_inputs(base.prob);
  case_spec s{std::move(name), std::move(description), p, {}};
  for (const char* n : {"x", "dy"}) {
    if (!from.count(n)) continue;
    fill_of(s.prob, n) = {fill_kind::file, 0, 0};
    s.literal_inputs.emplace(n, relayout(base.prob, from.at(n), s.prob));
  }
  return s;
}

// x of a generated problem with channel ch replaced by the constant v.
case_spec constant_channel(std::string name, std::string description, std::string_view text, int64_t ch,
                           double v) {
  case_spec s = generated(std::move(name), std::move(description), text);
  problem gen = s.prob;
  tensor x = generate_inputs(gen).at("x");
  for (int64_t i = 0; i < s.prob.n; ++i)
    for (int64_t k = 0; k < spatial_size(s.prob); ++k) x.values[offset(s.prob, i, ch, k)] = round_to(x.type, v);
  s.prob.x = {fill_kind::file, 0, 0};
  s.literal_inputs.emplace("x", std::move(x));
  return s;
}

const std::vector<double> seeds_x = {0.5, 1.0, 1.5, 2.0, 2.5, 3.0};
const std::vector<double> gpa_iq_x = {8.9, 100, 6.2, 25, 8.3, 2, 9.2, 70};
const std::vector<double> two_rows_x = {1, 2, 10, 11};

}  // namespace

tensor relayout(const problem& from, const tensor& data, const problem& to) {
  tensor out{data.type, data_shape(to), std::vector<double>(data.values.size())};
  const int64_t spatial = spatial_size(from);
  for (int64_t i = 0; i < from.n; ++i)
    for (int64_t ch = 0; ch < from.c; ++ch)
      for (int64_t k = 0; k < spatial; ++k)
        out.values[offset(to, i, ch, k)] = data.values[offset(from, i, ch, k)];
  return out;
}

tensor_map fill_inputs(const problem& p, const tensor_map& literal) {
  problem gen = p;
  std::vector<std::string> from_file;
  // (fill, the tensor it makes): shard_var's tensor is the shards' M2.
  const std::pair<const char*, const char*> filled[] = {
      {"x", "x"},
      {"dy", "dy"},
      {"gamma", "gamma"},
      {"beta", "beta"},
      {"running_mean", "running_mean"},
      {"running_var", "running_var"},
      {"shard_mean", "shard_mean"},
      {"shard_var", "shard_m2"}};
  for (const auto& [fill, n] : filled) {
    fill_spec& f = fill_of(gen, fill);
    if (f.kind == fill_kind::file) {
      from_file.push_back(n);
      f = {fill_kind::constant, 0, 0};  // placeholder: each tensor has its own stream
    }
  }
  tensor_map out = generate_inputs(gen);
  for (const auto& n : from_file) {
    if (!out.count(n)) continue;  // the op does not take this input
    const auto it = literal.find(n);
    if (it == literal.end()) throw input_error("input '" + n + "' has fill 'file' but no values: " + to_text(p));
    const tensor& t = it->second;
    if (t.type != type_of(p, n) || t.shape != shape_of(p, n))
      throw input_error("literal input '" + n + "' has the wrong format or shape for: " + to_text(p));
    for (double v : t.values)
      if (!representable(t.type, v))
        throw input_error("literal input '" + n + "' holds " + hex_float(v) + ", not a " +
                          std::string(to_string(t.type)) + " value");
    out[n] = t;
  }
  return out;
}

test_case build_case(const case_spec& spec, reference::rounding_stats* stats) {
  test_case c = spec.literal_inputs.empty() ? make_case(spec.prob, stats)
                                            : make_case(spec.prob, fill_inputs(spec.prob, spec.literal_inputs), stats);
  c.name = spec.name;
  return c;
}

std::vector<case_spec> corpus_specs() {
  std::vector<case_spec> s;
  const auto add = [&](case_spec c) { s.push_back(std::move(c)); };

  // The seeds' worked example (001): x1 = [0.5, 1, 1.5], x2 = [2, 2.5, 3], eps = 1e-8,
  // gamma = 1, beta = 0. The notes get the variance wrong: each feature's two
  // values are mean -+ 0.75, so var = 0.5625 (not 0.3125) and
  // y = -+0.75 / sqrt(0.5625 + 1e-8) = -+0.99999999 (not -+0.707). Momentum 0.9 in
  // the onnx convention of seed 000 (running = a*running + (1-a)*batch).
  const char* seeds_fwd = "forward_training nc f64:f64 mb2ic3 eps=1e-08 momentum=0.9 profile=onnx seed=1 "
                          "x=file gamma=const:1 beta=const:0";
  add(table("seeds_example_fwd", "seeds 001 worked example: var is 0.5625 and y = -+0.99999999 (the notes' 0.3125 and +-0.707 are slips)",
            seeds_fwd, {{"x", seeds_x}}));
  add(table("seeds_example_fwd_pytorch", "seeds worked example under the pytorch profile (saves invstd)",
            "forward_training nc f64:f64 mb2ic3 eps=1e-08 profile=pytorch seed=1 x=file gamma=const:1 "
            "beta=const:0",
            {{"x", seeds_x}}));
  add(table("seeds_example_fwd_f32", "seeds worked example in f32 (its inputs are exact in f32)",
            "forward_training nc f32:f32 mb2ic3 eps=1e-08 momentum=0.9 profile=onnx seed=1 x=file "
            "gamma=const:1 beta=const:0",
            {{"x", seeds_x}}));
  add(table("seeds_example_bwd", "seeds worked example, backward with generated dy",
            "backward nc f64:f64 mb2ic3 eps=1e-08 profile=onnx seed=1 x=file gamma=const:1", {{"x", seeds_x}}));
  add(table("seeds_example_inference",
            "seeds worked example in inference with running stats equal to the batch stats: y equals the "
            "training y",
            "forward_inference nc f64:f64 mb2ic3 eps=1e-08 profile=onnx seed=1 x=file gamma=const:1 "
            "beta=const:0 running_mean=file running_var=file",
            {{"x", seeds_x}, {"running_mean", {1.25, 1.75, 2.25}}, {"running_var", {0.5625, 0.5625, 0.5625}}}));

  // The seeds' GPA/IQ tables (003): rows are samples, columns features.
  add(table("seeds_gpa_iq_fwd", "seeds 003 GPA/IQ table (4 rows), features on very different scales",
            "forward_training nc f64:f64 mb4ic2 eps=1e-05 profile=pytorch seed=2 x=file gamma=const:1 beta=const:0",
            {{"x", gpa_iq_x}}));
  add(table("seeds_gpa_iq_fwd_f32", "seeds GPA/IQ table in f32 (8.9, 6.2, 8.3, 9.2 rounded to f32)",
            "forward_training nc f32:f32 mb4ic2 eps=1e-05 profile=cudnn seed=2 x=file gamma=const:1 beta=const:0",
            {{"x", gpa_iq_x}}));
  add(table("seeds_gpa_iq_bwd", "seeds GPA/IQ table, backward",
            "backward nc f64:f64 mb4ic2 eps=1e-05 profile=pytorch seed=2 x=file", {{"x", gpa_iq_x}}));
  add(table("seeds_two_rows_fwd", "seeds 003 two-row table [1,2],[10,11]: y = +-1/sqrt(1+eps/20.25)",
            "forward_training nc f64:f64 mb2ic2 eps=1e-05 profile=onnx momentum=0.9 seed=3 x=file gamma=const:1 "
            "beta=const:0",
            {{"x", two_rows_x}}));
  add(table("seeds_two_rows_bwd", "seeds two-row table, backward: M = 2",
            "backward nc f32:f32 mb2ic2 eps=1e-05 profile=onnx seed=3 x=file", {{"x", two_rows_x}}));

  // The same logical data in channel-first and channel-last layouts.
  const case_spec pair_fwd = generated("layout_pair_fwd_f32_nchw", "same data as layout_pair_fwd_f32_nhwc, channel-first",
                                       "forward_training nchw f32:f32 mb2ic3ih4iw5 seed=11");
  add(pair_fwd);
  add(same_data(pair_fwd, "layout_pair_fwd_f32_nhwc", "same data as layout_pair_fwd_f32_nchw, channel-last", layout::nhwc));
  const case_spec pair_bwd = generated("layout_pair_bwd_f32_nchw", "same x and dy as layout_pair_bwd_f32_nhwc",
                                       "backward nchw f32:f32 mb2ic3ih3iw2 seed=12");
  add(pair_bwd);
  add(same_data(pair_bwd, "layout_pair_bwd_f32_nhwc", "same x and dy as layout_pair_bwd_f32_nchw", layout::nhwc));
  const case_spec pair_3d = generated("layout_pair_fwd_f64_ncdhw", "3-D channel-first, same data as the ndhwc case",
                                      "forward_training ncdhw f64:f64 mb2ic3id2ih3iw2 profile=onnx momentum=0.9 seed=13");
  add(pair_3d);
  add(same_data(pair_3d, "layout_pair_fwd_f64_ndhwc", "3-D channel-last, same data as the ncdhw case", layout::ndhwc));
  const case_spec pair_3d_bwd = generated("layout_pair_bwd_f32_ncdhw", "3-D backward, same data as the ndhwc case",
                                          "backward ncdhw f32:f32 mb2ic2id3ih2iw2 seed=14");
  add(pair_3d_bwd);
  add(same_data(pair_3d_bwd, "layout_pair_bwd_f32_ndhwc", "3-D backward channel-last, same data as ncdhw", layout::ndhwc));
  add(generated("inference_f32_ndhwc", "3-D channel-last inference",
                "forward_inference ndhwc f32:f32 mb2ic3id2ih2iw3 seed=15"));

  // Batch of one: M = 1, the variance is exactly 0, so y = beta exactly.
  add(generated("batch_one_fwd_f32_nc_onnx", "one sample: variance 0, y must equal beta exactly",
                "forward_training nc f32:f32 mb1ic4 profile=onnx momentum=0.9 seed=21"));
  add(generated("batch_one_fwd_f64_nc_pytorch",
                "one sample under pytorch: the unbiased running variance divides by M-1 = 0 (NaN expected)",
                "forward_training nc f64:f64 mb1ic4 profile=pytorch seed=21"));
  add(generated("batch_one_bwd_f32_nc", "one sample backward: x-hat = 0 so dx = 0 exactly",
                "backward nc f32:f32 mb1ic4 seed=21"));

  // Constant data: zero variance; eps alone keeps invstd finite.
  add(constant_channel("constant_channel_fwd_f32_nchw", "channel 1 is constant 2.5: its y equals its beta",
                       "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=22", 1, 2.5));
  add(constant_channel("constant_channel_bwd_f32_nhwc", "channel 0 constant in backward: its dx is 0",
                       "backward nhwc f32:f32 mb2ic3ih3iw3 seed=23", 0, -1.75));
  add(generated("constant_input_fwd_f64_nc", "all inputs constant 3: every channel has variance 0",
                "forward_training nc f64:f64 mb5ic3 profile=cudnn seed=24 x=const:3"));

  // Mean offset 1e4 with unit spread: one-pass sum-of-squares variance cancels catastrophically.
  add(generated("offset_1e4_f32_nchw", "x = 1e4 + N(0,1) in f32: naive E[x^2]-E[x]^2 loses every digit",
                "forward_training nchw f32:f32 mb4ic3ih5iw5 seed=31 x=normal:10000:1"));
  add(generated("offset_1e4_f64_nchw", "x = 1e4 + N(0,1) in f64",
                "forward_training nchw f64:f64 mb4ic3ih5iw5 seed=31 x=normal:10000:1"));
  add(generated("offset_1e4_bwd_f32_nhwc", "offset data in backward: x - mean must be formed accurately",
                "backward nhwc f32:f32 mb4ic3ih4iw4 seed=32 x=normal:10000:1"));
  add(generated("offset_1e4_inference_f32_nchw", "inference with running mean near 1e4",
                "forward_inference nchw f32:f32 mb2ic3ih3iw3 seed=33 x=normal:10000:1 "
                "running_mean=normal:10000:0.5"));
  add(generated("offset_1e6_f32_nc", "x = 1e6 + N(0,1) in f32: the spread is 16 ulps of the mean",
                "forward_training nc f32:f32 mb64ic2 profile=onnx momentum=0.9 seed=34 x=normal:1000000:1"));
  // Tiny relative spread: 1 + 1e-4 N(0,1).
  add(generated("tiny_spread_f32_nchw", "x = 1 + 1e-4 N(0,1): 13 of f32's 24 bits are shared by all x",
                "forward_training nchw f32:f32 mb4ic2ih4iw4 seed=35 x=normal:1:0.0001"));
  add(generated("tiny_spread_f64_nchw", "x = 1 + 1e-4 N(0,1) in f64",
                "forward_training nchw f64:f64 mb4ic2ih4iw4 seed=35 x=normal:1:0.0001"));
  add(generated("tiny_spread_bwd_f32_nchw", "tiny spread in backward, where eps matters against var ~ 1e-8",
                "backward nchw f32:f32 mb4ic2ih4iw4 seed=36 x=normal:1:0.0001"));

  // The long reduction: one channel, M = 2^18 (this case is most of the corpus's bytes).
  add(generated("long_reduction_f32_nchw", "one channel, M = 2^18 = 262144: accumulation error of long sums",
                "forward_training nchw f32:f32 mb4ic1ih256iw256 seed=41 x=normal:3:2"));
  add(generated("long_constant_dy_bwd_f32_nchw",
                "M = 4096 with dy = 0.1 everywhere: dbeta's roundings all have one sign, so a long sequential "
                "float sum errs by ~M*u",
                "backward nchw f32:f32 mb1ic1ih64iw64 seed=1 dy=const:0.1"));

  // gamma = 0 and negative gamma.
  add(generated("gamma_zero_fwd_f32_nchw", "gamma = 0: y equals beta exactly",
                "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=51 gamma=const:0"));
  add(generated("gamma_zero_bwd_f32_nchw", "gamma = 0: dx = 0 exactly, dgamma and dbeta are not",
                "backward nchw f32:f32 mb2ic3ih3iw3 seed=52 gamma=const:0"));
  add(generated("gamma_negative_fwd_f32_nhwc", "negative gamma flips y",
                "forward_training nhwc f32:f32 mb2ic3ih3iw3 seed=53 gamma=uniform:-2:-0.5"));
  add(generated("gamma_negative_bwd_f64_nc", "negative gamma in backward",
                "backward nc f64:f64 mb8ic3 seed=54 gamma=uniform:-2:-0.5"));

  // Large and zero eps: eps is inside the square root and must not be dropped or moved.
  add(generated("eps_1_fwd_f32_nchw", "eps = 1 (comparable to the variance): y shrinks visibly",
                "forward_training nchw f32:f32 mb2ic3ih3iw3 eps=1 seed=61"));
  add(generated("eps_100_fwd_f64_nc", "eps = 100 dominates the variance",
                "forward_training nc f64:f64 mb6ic3 eps=100 profile=onnx momentum=0.9 seed=62"));
  add(generated("eps_100_bwd_f32_nc", "eps = 100 in backward", "backward nc f32:f32 mb6ic3 eps=100 seed=63"));
  add(generated("eps_100_inference_f32_nc", "eps = 100 in inference",
                "forward_inference nc f32:f32 mb6ic3 eps=100 seed=64"));
  add(generated("eps_0_fwd_f64_nc", "eps = 0: invstd is exactly 1/sqrt(var)",
                "forward_training nc f64:f64 mb6ic3 eps=0 seed=65"));
  add(generated("eps_0_constant_channel_fwd_f64_nc",
                "eps = 0 on constant channels: invstd is +inf and y = 0*inf is NaN, which must not be hidden",
                "forward_training nc f64:f64 mb5ic3 eps=0 seed=66 x=const:3"));

  // Low-precision data with f32 parameters.
  add(generated("f16_fwd_nchw", "f16 data, f32 parameters", "forward_training nchw f16:f32 mb2ic4ih3iw3 seed=71"));
  add(generated("f16_bwd_nhwc", "f16 data backward", "backward nhwc f16:f32 mb2ic4ih3iw3 seed=72"));
  add(generated("f16_inference_nchw", "f16 data inference", "forward_inference nchw f16:f32 mb2ic4ih3iw3 seed=73"));
  add(generated("f16_offset_fwd_nchw", "f16 data around 100 with spread 1: few bits of spread",
                "forward_training nchw f16:f32 mb2ic2ih4iw4 seed=75 x=normal:100:1"));
  add(generated("bf16_fwd_nhwc", "bf16 data (stored as <f4), f32 parameters",
                "forward_training nhwc bf16:f32 mb2ic4ih3iw3 seed=76"));
  add(generated("bf16_bwd_nchw", "bf16 data backward", "backward nchw bf16:f32 mb2ic4ih3iw3 seed=77"));
  add(generated("bf16_inference_nhwc", "bf16 data inference", "forward_inference nhwc bf16:f32 mb2ic4ih3iw3 seed=78"));

  // Odd (prime) sizes: no power-of-two tiling works out evenly.
  add(generated("odd_sizes_fwd_f32_nchw", "mb3 ic5 ih7 iw3", "forward_training nchw f32:f32 mb3ic5ih7iw3 seed=81"));
  add(generated("odd_sizes_bwd_f32_nhwc", "mb3 ic5 ih7 iw3 backward", "backward nhwc f32:f32 mb3ic5ih7iw3 seed=82"));
  add(generated("odd_sizes_fwd_f64_ndhwc", "3-D prime sizes channel-last",
                "forward_training ndhwc f64:f64 mb3ic5id3ih2iw7 profile=onnx momentum=0.9 seed=83"));
  add(generated("odd_sizes_bwd_f64_ncdhw", "3-D prime sizes channel-first backward",
                "backward ncdhw f64:f64 mb3ic5id3ih2iw7 seed=84"));

  // Every op under every profile (momentum in each profile's usual form).
  const char* profiles[][2] = {{"onnx", "0.9"}, {"pytorch", "0.1"}, {"cudnn", "0.25"}};
  for (const auto& [prof, momentum] : profiles) {
    const std::string tail = std::string(" f32:f32 mb3ic3ih2iw2 momentum=") + momentum + " profile=" + prof + " seed=91";
    add(generated(std::string("profile_") + prof + "_fwd", std::string("forward_training under ") + prof,
                  "forward_training nchw" + tail));
    add(generated(std::string("profile_") + prof + "_inference", std::string("forward_inference under ") + prof,
                  "forward_inference nchw" + tail));
    add(generated(std::string("profile_") + prof + "_bwd", std::string("backward under ") + prof,
                  "backward nchw" + tail));
  }
  add(generated("momentum_one_pytorch_nc", "pytorch momentum 1: the running stats become the batch stats",
                "forward_training nc f64:f64 mb5ic3 momentum=1 profile=pytorch seed=92"));
  add(generated("momentum_zero_onnx_nc", "onnx momentum 0: the running stats become the batch stats",
                "forward_training nc f64:f64 mb5ic3 momentum=0 profile=onnx seed=93"));

  // Shapes that break launch and reduction schedules (issue 12): more than 64
  // channels, not a power of two, with odd reductions (NVIDIA apex #1768:
  // C = 65 wrong); a batch of one at every spatial position (M = 1 per channel
  // in nc, odd M otherwise).
  add(generated("wide_channels_fwd_f32_nhwc",
                "C = 65 channel-last, M = 3*5*7 = 105: a channel grid in groups of 64 leaves channel 64 out",
                "forward_training nhwc f32:f32 mb3ic65ih5iw7 seed=101"));
  add(generated("wide_channels_bwd_f32_nchw", "C = 129 channel-first backward, M = 9: two full groups of 64 and one over",
                "backward nchw f32:f32 mb1ic129ih3iw3 seed=102"));
  add(generated("wide_channels_inference_f32_nhwc", "C = 67 channel-last inference, M = 3",
                "forward_inference nhwc f32:f32 mb3ic67ih1iw1 seed=103"));
  // f32 data near float's top (PyTorch PR #178123: f32 Welford overflowed at
  // |x| ~ 1e30, zeros on CPU, NaN on CUDA): the variance, ~1e58, is beyond
  // float, so a float kernel must compute it wider; y and invstd are ordinary.
  add(generated("near_overflow_fwd_f32_nchw",
                "x = 1e30 + 1e29 N(0,1) in f32: the variance 1e58 overflows float; invstd ~1e-29 and y must be right",
                "forward_training nchw f32:f32 mb2ic3ih2iw2 seed=104 x=normal:1e+30:1e+29"));
  add(generated("near_overflow_fwd_f32_nc_onnx",
                "x = 1e30 + 1e29 N(0,1) under onnx: the saved and running variance are beyond f32, so +inf; y finite",
                "forward_training nc f32:f32 mb6ic2 profile=onnx momentum=0.9 seed=105 x=normal:1e+30:1e+29"));
  add(generated("near_overflow_bwd_f32_f64_nhwc",
                "x = 1e30 + 1e29 N(0,1), f32 data with f64 statistics in backward: sum(dy (x - mean)) ~1e30 M",
                "backward nhwc f32:f64 mb2ic3ih2iw2 seed=106 x=normal:1e+30:1e+29"));
  // Shards merged into one batch (SyncBatchNorm): sizes orders of magnitude
  // apart, where equal weights (PyTorch #22192) or a dropped between-shard
  // term go wrong.
  add(table("merge_worked_example_f64", "shards of 1 and 3 values: means 0 and 4, M2 0 and 6 give N = 4, mean 3, "
            "M2 = 6 + 1*3^2 + 3*1^2 = 18, var 4.5, invstd 1/sqrt(4.5 + eps)",
            "merge_statistics nc f64:f64 mb2ic1 shards=1,3 eps=1e-05 seed=100 shard_mean=file shard_var=file",
            {{"shard_mean", {0, 4}}, {"shard_m2", {0, 6}}}));
  add(generated("merge_1_and_1e6_f64", "a shard of one value (M2 = 0) beside one of 10^6",
                "merge_statistics nc f64:f64 mb2ic4 shards=1,1000000 seed=101"));
  add(generated("merge_1_and_1e6_f32", "a shard of one value beside one of 10^6, f32 statistics",
                "merge_statistics nc f32:f32 mb2ic4 shards=1,1000000 seed=102"));
  add(generated("merge_1_1e3_1e6_f32", "three shards of 1, 1000 and 10^6 values, means spread 100",
                "merge_statistics nc f32:f32 mb3ic4 shards=1,1000,1000000 seed=103 shard_mean=normal:0:100"));
  add(generated("merge_1_1e3_1e6_far_f64", "three shards, means 10^4 apart against variances near 1",
                "merge_statistics nc f64:f64 mb3ic3 shards=1,1000,1000000 seed=104 shard_mean=normal:0:10000"));
  add(generated("merge_offset_f32", "shard means at 10^4 + N(0,1): the merged mean's offset must not leak into var",
                "merge_statistics nc f32:f32 mb4ic3 shards=3,30,300,3000 seed=105 shard_mean=normal:10000:1"));
  add(generated("merge_eight_shards_f32", "eight shards from 1 to 10^6 values",
                "merge_statistics nc f32:f32 mb8ic3 shards=1,7,50,300,2000,10000,100000,1000000 seed=106"));
  add(generated("merge_one_shard_f64", "one shard: the merge is the shard's own mean and M2/n",
                "merge_statistics nc f64:f64 mb1ic3 shards=5 seed=107"));
  // Non-finite inputs (issue 12, item 1): the outputs a NaN or an infinity
  // reaches are undefined and must come out non-finite; every other channel
  // (every other element, in inference) is judged as usual (docs/reference.md,
  // "Non-finite inputs"; docs/tolerances.md 9).
  add(generated("nonfinite_nan_x_fwd_f32_nchw",
                "a NaN in channel 1 of x: that channel's statistics, running statistics and y are undefined; "
                "channels 0 and 2 are exact as ever",
                "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=101 x=normal:0:1,nan@13"));
  add(generated("nonfinite_inf_x_fwd_f32_nhwc",
                "+inf in channel 1 and -inf in channel 0 of x (channel-last): both channels undefined, channel 2 not",
                "forward_training nhwc f32:f32 mb2ic3ih3iw3 seed=102 x=normal:0:1,inf@4,-inf@27"));
  add(generated("nonfinite_nan_dy_bwd_f32_nchw",
                "a NaN in channel 2 of dy: that channel's dgamma, dbeta and dx are undefined, the others exact",
                "backward nchw f32:f32 mb2ic3ih3iw3 seed=103 dy=normal:0:1,nan@20"));
  add(generated("nonfinite_params_inference_f32_nchw",
                "inference with gamma NaN in channel 0, running_var NaN in channel 2 and one x = +inf in channel 1: "
                "y of channels 0 and 2 and that one element undefined",
                "forward_inference nchw f32:f32 mb2ic3ih3iw3 seed=104 x=normal:0:1,inf@10 "
                "gamma=uniform:0.5:2,nan@0 running_var=uniform:0.5:2,nan@2"));
  add(generated("nonfinite_params_fwd_f64_nc",
                "beta +inf in channel 1 and running_mean -inf in channel 2: y of channel 1 and the updated "
                "running_mean of channel 2 undefined, the statistics exact",
                "forward_training nc f64:f64 mb4ic3 seed=105 beta=uniform:-1:1,inf@1 running_mean=normal:0:1,-inf@2"));

  // Bug class 2: data tensors that are not dense in the problem's layout.
  // Each lies in its own format, or is a channel slice of a wider tensor
  // (the other channels padding: NaN in inputs, never written in outputs).
  // PyTorch #64039: backward with dy channels-last and x contiguous read x
  // as channels-last; #133520 and #175189: sliced or permuted inputs taken
  // as contiguous.
  add(generated("storage_x_nchw_bwd_f32_nhwc",
                "backward with dy and dx channel-last and x channel-first (PyTorch #64039's call)",
                "backward nhwc f32:f32 mb2ic3ih3iw4 seed=111 x_storage=nchw"));
  add(generated("storage_x_slice_fwd_f32_nchw", "x is channels 1..3 of a 6-channel channel-first tensor (a slice of a concat)",
                "forward_training nchw f32:f32 mb2ic3ih3iw3 seed=112 x_storage=nchw,slice=1/6"));
  add(generated("storage_y_slice_inference_f32_nhwc",
                "y is written into channels 2..4 of a 5-channel channel-last tensor (concat in place)",
                "forward_inference nhwc f32:f32 mb2ic3ih2iw3 seed=113 y_storage=nhwc,slice=2/5"));
  add(generated("storage_mixed_bwd_f64_ncdhw",
                "3-D backward, every tensor elsewhere: x channel-last slice 1/3, dy channel-first slice 0/4, dx channel-last",
                "backward ncdhw f64:f64 mb2ic2id2ih2iw3 seed=114 x_storage=ndhwc,slice=1/3 dy_storage=ncdhw,slice=0/4 "
                "dx_storage=ndhwc"));
  add(generated("storage_slices_bwd_f32_nc", "nc backward with dy and dx rows of wider matrices",
                "backward nc f32:f32 mb5ic3 seed=115 dy_storage=nc,slice=2/5 dx_storage=nc,slice=1/4"));
  add(generated("storage_y_nchw_fwd_bf16_nhwc", "bf16 training, x channel-last, y channel-first",
                "forward_training nhwc bf16:f32 mb2ic3ih2iw2 seed=116 y_storage=nchw"));

  std::set<std::string> names;
  for (const auto& c : s)
    if (!names.insert(c.name).second) throw std::logic_error("duplicate golden case name " + c.name);
  return s;
}

}  // namespace bncheck
