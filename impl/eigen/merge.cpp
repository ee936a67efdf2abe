// merge_statistics for the Eigen kernel: the shards' statistics of each
// channel merged by Chan's pairwise update over a balanced tree (what
// SyncBatchNorm's gather does), in double, rounded once to the parameter format.
#include "impl/eigen/merge.hpp"

#include <cmath>
#include <vector>

namespace bncheck::eigen {
namespace {

struct moments {
  double count = 0, mean = 0, m2 = 0;
};

// Chan, Golub & LeVeque's pairwise update: the merged mean moves from a's
// towards b's by b's share of the count; M2 gains the between-shard term
// delta^2 n_a n_b / n.
moments combine(const moments& a, const moments& b) {
  const double n = a.count + b.count;
  const double delta = b.mean - a.mean;
  moments m;
  m.count = n;
  m.mean = a.mean + delta * (b.count / n);
  m.m2 = a.m2 + b.m2 + delta * delta * (a.count * (b.count / n));
  return m;
}

// The shards [begin, end) merged as a balanced tree: depth ceil(log2 S).
moments merge_range(const std::vector<moments>& s, std::size_t begin, std::size_t end) {
  if (end - begin == 1) return s[begin];
  const std::size_t mid = begin + (end - begin + 1) / 2;
  return combine(merge_range(s, begin, mid), merge_range(s, mid, end));
}

double load_param(const problem& p, const void* base, int64_t i) {
  if (p.param_type == dtype::f64) return static_cast<const double*>(base)[i];
  return static_cast<const float*>(base)[i];
}

void store_param(const problem& p, void* base, int64_t i, double v) {
  if (p.param_type == dtype::f64) static_cast<double*>(base)[i] = v;
  else static_cast<float*>(base)[i] = static_cast<float>(v);
}

}  // namespace

void merge_statistics(const problem& p, const kernel_io& io) {
  const auto* counts = static_cast<const double*>(io.shard_count);
  std::vector<moments> shards(static_cast<std::size_t>(p.n));
  for (int64_t c = 0; c < p.c; ++c) {
    for (int64_t i = 0; i < p.n; ++i)
      shards[static_cast<std::size_t>(i)] = {counts[i], load_param(p, io.shard_mean, i * p.c + c),
                                             load_param(p, io.shard_m2, i * p.c + c)};
    const moments m = merge_range(shards, 0, shards.size());
    const double var = m.m2 / m.count;
    store_param(p, io.mean, c, m.mean);
    store_param(p, io.var, c, var);
    store_param(p, io.invstd, c, 1.0 / std::sqrt(var + p.eps));
  }
}

}  // namespace bncheck::eigen
