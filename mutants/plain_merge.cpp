// merge_statistics in the plain kernel: each channel's shard statistics
// (count, mean, M2) merged in W arithmetic by the algorithm f.merge names,
// each result rounded once to the parameter format.
#include <cmath>
#include <vector>

#include "core/dtype.hpp"
#include "mutants/plain_parts.hpp"

namespace bncheck::mutants::plain {
namespace {

// The sum form: the weighted sum of the means, then the within-shard M2s
// plus the between-shard term around that mean (a two-pass merge).
template <class W>
partial<W> weighted_sum(const std::vector<W>& n, const std::vector<W>& mu, const std::vector<W>& m2,
                       accumulation acc, bool between) {
  const std::size_t S = n.size();
  std::vector<W> terms(S);
  partial<W> r;
  r.n = sum(n, acc);
  for (std::size_t i = 0; i < S; ++i) terms[i] = n[i] * mu[i];
  r.mean = sum(terms, acc) / r.n;
  if (between) {
    std::vector<W> all(m2);
    for (std::size_t i = 0; i < S; ++i) {
      const W d = mu[i] - r.mean;
      all.push_back(n[i] * (d * d));
    }
    r.m2 = sum(all, acc);
  } else {
    r.m2 = sum(m2, acc);
  }
  return r;
}

// Chan's update (plain_parts.hpp: merge), one shard after another, as
// SyncBatchNorm's gather loops over the devices.
template <class W>
partial<W> chan(const std::vector<W>& n, const std::vector<W>& mu, const std::vector<W>& m2) {
  partial<W> r{n[0], mu[0], m2[0]};
  for (std::size_t i = 1; i < n.size(); ++i) r = merge(r, partial<W>{n[i], mu[i], m2[i]});
  return r;
}

// PyTorch #22192: every shard weighted alike, whatever its size. Reported as
// (mean of the means, mean of the variances times N so that m2/N is it).
template <class W>
partial<W> equal_weights(const std::vector<W>& n, const std::vector<W>& mu, const std::vector<W>& m2,
                        accumulation acc) {
  const std::size_t S = n.size();
  std::vector<W> var(S);
  for (std::size_t i = 0; i < S; ++i) var[i] = m2[i] / n[i];
  partial<W> r;
  r.n = sum(n, acc);
  r.mean = sum(mu, acc) / static_cast<W>(S);
  r.m2 = sum(var, acc) / static_cast<W>(S) * r.n;
  return r;
}

}  // namespace

template <class W>
void merge_statistics(const problem& p, const kernel_io& io, const faults& f) {
  const view v(p, f, io);
  const accumulation acc = accumulation_for(p, f);
  const auto* counts = static_cast<const double*>(io.shard_count);
  const auto S = static_cast<std::size_t>(p.n);
  std::vector<W> n(S), mu(S), m2(S);
  for (std::size_t i = 0; i < S; ++i) n[i] = static_cast<W>(counts[i]);
  for (int64_t c = 0; c < v.channels(); ++c) {
    for (std::size_t i = 0; i < S; ++i) {
      mu[i] = static_cast<W>(v.param(io.shard_mean, static_cast<int64_t>(i) * p.c + c));
      m2[i] = static_cast<W>(v.param(io.shard_m2, static_cast<int64_t>(i) * p.c + c));
    }
    partial<W> r;
    switch (f.merge) {
      case merge_algo::weighted_sum: r = weighted_sum(n, mu, m2, acc, true); break;
      case merge_algo::chan: r = chan(n, mu, m2); break;
      case merge_algo::equal_weights: r = equal_weights(n, mu, m2, acc); break;
      case merge_algo::without_between: r = weighted_sum(n, mu, m2, acc, false); break;
    }
    const W var = r.m2 / r.n;
    v.put_param(io.mean, c, static_cast<double>(r.mean));
    v.put_param(io.var, c, static_cast<double>(var));
    v.put_param(io.invstd, c, static_cast<double>(W(1) / std::sqrt(var + static_cast<W>(p.eps))));
  }
}

template void merge_statistics<float>(const problem&, const kernel_io&, const faults&);
template void merge_statistics<double>(const problem&, const kernel_io&, const faults&);

}  // namespace bncheck::mutants::plain
