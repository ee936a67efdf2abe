// Property: merging shard statistics (merge_statistics, SyncBatchNorm's
// gather) agrees with the reference within the tolerance model, on shards
// whose sizes differ by orders of magnitude (docs/properties.md, "merge_agreement").
#include <cmath>

#include "check/compare.hpp"
#include "check/failure_report.hpp"
#include "core/dtype.hpp"
#include "properties/support.hpp"

namespace bncheck::properties {
namespace {

// A shard's size: mantissa 1..9 times 10^0..10^6, shrinking toward 1.
int64_t draw_count() {
  const int mantissa = *in_range(1, 9, 1);
  const int decade = *in_range(0, 6, 0);
  int64_t n = mantissa;
  for (int k = 0; k < decade; ++k) n *= 10;
  return n;
}

// m * 2^e with |m| < 2^10: exact in f32, shrinking toward 0.
double draw_value(int lo_exp, int hi_exp) {
  const int m = *in_range(-1023, 1023, 0);
  return std::ldexp(static_cast<double>(m), *in_range(lo_exp, hi_exp, 0));
}

generated_case draw_merge() {
  generated_case g;
  problem& p = g.prob;
  p.op = op_kind::merge_statistics;
  p.lay = layout::nc;
  p.param_type = p.data_type = *pick_of<dtype>({dtype::f32, dtype::f64});
  p.n = *in_range<int64_t>(1, 8, 1);
  p.c = *in_range<int64_t>(1, 3, 1);
  p.eps = *pick_of<double>({1e-5, 1e-3, 0.0});
  p.seed = *rc::gen::noShrink(in_range<uint64_t>(0, 0xffffffffu, 0));
  p.shard_mean = p.shard_var = {fill_kind::file, 0, 0};
  for (int64_t i = 0; i < p.n; ++i) p.shards.push_back(draw_count());
  // Each channel's shard means sit around a center: 0, or up to 2^20 off
  // (the offset region of the data generators), spread m * 2^-10..2^4.
  tensor count{dtype::f64, shape_of(p, "shard_count"), {}};
  for (int64_t k : p.shards) count.values.push_back(static_cast<double>(k));
  tensor mean{p.param_type, shape_of(p, "shard_mean"), std::vector<double>(static_cast<std::size_t>(p.n * p.c))};
  tensor m2{p.param_type, shape_of(p, "shard_m2"), mean.values};
  for (int64_t c = 0; c < p.c; ++c) {
    const double center = *pick<double>({{3, 0.0}, {1, 0x1p10}, {1, -0x1p20}});
    for (int64_t i = 0; i < p.n; ++i) {
      const auto at = static_cast<std::size_t>(i * p.c + c);
      mean.values[at] = round_to(p.param_type, center + draw_value(-10, 4));
      const double v = std::fabs(draw_value(-20, 4));  // the shard's unbiased variance
      m2.values[at] = round_to(p.param_type, static_cast<double>(p.shards[static_cast<std::size_t>(i)] - 1) * v);
    }
  }
  validate(p);
  g.inputs.emplace("shard_count", std::move(count));
  g.inputs.emplace("shard_mean", std::move(mean));
  g.inputs.emplace("shard_m2", std::move(m2));
  return g;
}

}  // namespace

void merge_agreement(kernel& k, case_log& log, const limits&) {
  const generated_case g = draw_merge();
  const test_case c = build(g, log);
  const auto got = run(k, c, log);
  if (!got) return;
  const check_result r = compare(c, *got, absent_outputs(c.prob, *got));
  if (!r.pass) fail(failure_report(c, k.name(), r));
}

}  // namespace bncheck::properties
