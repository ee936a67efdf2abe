// compute() against the textbook formulas evaluated naively (two-pass
// statistics, no algebraic rewriting) in Boost's cpp_bin_float at 300
// decimal digits (~1000 bits): a second backend and a second derivation.
// Each reference output must be the double nearest to the textbook value.
#include <gtest/gtest.h>

#include <bit>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <string>

#include "core/tensor.hpp"
#include "reference/reference.hpp"

namespace bncheck::reference {
namespace {

using wide = boost::multiprecision::number<boost::multiprecision::cpp_bin_float<300>>;

// ref is the double nearest to v, ties to even (checked in wide arithmetic).
::testing::AssertionResult nearest(const wide& v, double ref) {
  if (!std::isfinite(ref)) return ::testing::AssertionFailure() << "reference gave " << ref;
  const wide d0 = abs(v - wide(ref));
  for (double n : {std::nextafter(ref, INFINITY), std::nextafter(ref, -INFINITY)}) {
    const wide dn = abs(v - wide(n));
    if (dn < d0 || (dn == d0 && (std::bit_cast<uint64_t>(ref) & 1)))
      return ::testing::AssertionFailure() << hex_float(n) << " is nearer to the textbook value than "
                                           << hex_float(ref);
  }
  return ::testing::AssertionSuccess();
}

struct textbook {
  std::vector<wide> y, dx, mean, var, invstd, rm, rv, dgamma, dbeta;
};

textbook evaluate(const problem& p, const tensor_map& in) {
  textbook t;
  const int64_t m = reduction_size(p), spatial = spatial_size(p);
  const auto at = [&](const char* name, int64_t i) { return wide(in.at(name).values[static_cast<std::size_t>(i)]); };
  t.y.resize(static_cast<std::size_t>(element_count(p)));
  t.dx.resize(t.y.size());
  const wide eps(p.eps), mom(p.momentum);
  for (int64_t ch = 0; ch < p.c; ++ch) {
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < spatial; ++s) idx.push_back(offset(p, i, ch, s));
    wide mu = 0, var = 0;
    for (int64_t k : idx) mu += at("x", k);
    mu /= m;
    for (int64_t k : idx) var += (at("x", k) - mu) * (at("x", k) - mu);
    var /= m;
    const wide s = 1 / sqrt(var + eps), gamma = at("gamma", ch);
    t.mean.push_back(mu);
    t.var.push_back(var);
    t.invstd.push_back(s);
    if (p.op == op_kind::forward_inference) {
      const wide si = 1 / sqrt(at("running_var", ch) + eps);
      for (int64_t k : idx) t.y[k] = gamma * (at("x", k) - at("running_mean", ch)) * si + at("beta", ch);
    } else if (p.op == op_kind::forward_training) {
      for (int64_t k : idx) t.y[k] = gamma * (at("x", k) - mu) * s + at("beta", ch);
      const wide old_m = at("running_mean", ch), old_v = at("running_var", ch);
      if (p.prof == profile::onnx) {
        t.rm.push_back(mom * old_m + (1 - mom) * mu);
        t.rv.push_back(mom * old_v + (1 - mom) * var);
      } else {
        t.rm.push_back((1 - mom) * old_m + mom * mu);
        t.rv.push_back((1 - mom) * old_v + mom * var * m / (m - 1));
      }
    } else {
      wide db = 0, dg = 0;
      for (int64_t k : idx) {
        db += at("dy", k);
        dg += at("dy", k) * (at("x", k) - mu) * s;
      }
      for (int64_t k : idx) t.dx[k] = gamma * s * (at("dy", k) - db / m - (at("x", k) - mu) * s * dg / m);
      t.dgamma.push_back(dg);
      t.dbeta.push_back(db);
    }
  }
  return t;
}

void expect_all_nearest(const std::vector<wide>& want, const std::vector<double>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(nearest(want[i], got[i])) << what << " element " << i;
}

const char* const problems[] = {
    "nchw f32:f32 mb2ic3ih3iw3 seed=1",
    "nhwc f16:f32 mb3ic2ih2iw3 seed=2 x=normal:100:3 profile=cudnn",
    "nc f32:f32 mb64ic2 profile=onnx momentum=0.9 seed=34 x=normal:1000000:1",
    "nchw f64:f64 mb4ic2ih4iw4 seed=35 x=normal:1:0.0001",
    "ncdhw bf16:f32 mb2ic2id2ih2iw2 seed=5 eps=0.001",
    "ndhwc f32:f64 mb2ic3id2ih1iw2 seed=6 gamma=uniform:-2:-0.5",
    "nc f64:f64 mb3ic4 seed=7 x=uniform:-1e-300:1e-300 eps=0",
    "nchw f64:f64 mb2ic2ih2iw2 seed=8 x=uniform:-1e-310:1e-310 eps=1e-300",  // subnormal x
    "nc f16:f32 mb1ic3 seed=9 profile=onnx",                                   // m = 1
    "nhwc f32:f32 mb3ic2ih5iw5 seed=10 x=uniform:1e30:1.0001e30 profile=cudnn momentum=0.75",
};

TEST(reference_textbook, every_output_is_the_nearest_double_to_the_textbook_value) {
  for (const char* text : problems) {
    for (const char* op : {"forward_training ", "forward_inference ", "backward "}) {
      const problem p = parse_problem(std::string(op) + text);
      const tensor_map in = generate_inputs(p);
      rounding_stats stats;
      const tensor_map out = compute(p, in, &stats);
      const textbook t = evaluate(p, in);
      const std::string what = to_text(p);
      if (p.op == op_kind::backward) {
        expect_all_nearest(t.dx, out.at("dx").values, what + " dx");
        expect_all_nearest(t.dgamma, out.at("dgamma").values, what + " dgamma");
        expect_all_nearest(t.dbeta, out.at("dbeta").values, what + " dbeta");
      } else {
        expect_all_nearest(t.y, out.at("y").values, what + " y");
      }
      if (p.op != op_kind::forward_inference) {
        expect_all_nearest(t.mean, out.at("mean").values, what + " mean");
        expect_all_nearest(t.var, out.at("var").values, what + " var");
        expect_all_nearest(t.invstd, out.at("invstd").values, what + " invstd");
      }
      if (p.op == op_kind::forward_training) {
        expect_all_nearest(t.rm, out.at("running_mean").values, what + " running_mean");
        expect_all_nearest(t.rv, out.at("running_var").values, what + " running_var");
      }
      EXPECT_GT(stats.values, 0) << what;
    }
  }
}

}  // namespace
}  // namespace bncheck::reference
