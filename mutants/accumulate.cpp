// Reductions of the plain kernel: sums in three orders (with optional f16
// partial sums) and the mean and variance of a channel by two-pass, Welford,
// Chan's merge, or the faulty one-pass and via-unbiased formulas.
#include <algorithm>
#include <cstddef>

#include "core/dtype.hpp"
#include "mutants/plain_parts.hpp"

namespace bncheck::mutants::plain {
namespace {

template <class W>
W add(W a, W b, bool half) {
  const W s = a + b;
  return half ? static_cast<W>(round_to(dtype::f16, s)) : s;
}

template <class W>
W sequential(const W* t, std::size_t n, bool half) {
  W s = 0;
  for (std::size_t i = 0; i < n; ++i) s = add(s, t[i], half);
  return s;
}

// Recursive halving: depth ceil(log2 n), the sum Higham's bound gamma_L covers.
template <class W>
W halving(const W* t, std::size_t n, bool half) {
  if (n == 0) return 0;
  if (n == 1) return add(W(0), t[0], half);
  const std::size_t h = n / 2;
  return add(halving(t, h, half), halving(t + h, n - h, half), half);
}

// Welford's update, one value at a time. A constant run keeps d == 0, so
// mean stays exactly the value and M2 exactly 0.
template <class W>
partial<W> welford(const W* x, std::size_t n) {
  partial<W> r;
  for (std::size_t i = 0; i < n; ++i) {
    r.n += 1;
    const W d = x[i] - r.mean;
    r.mean += d / r.n;
    r.m2 += d * (x[i] - r.mean);
  }
  return r;
}

template <class W>
partial<W> merge_halving(const partial<W>* parts, std::size_t n) {
  if (n == 0) return {};
  if (n == 1) return parts[0];
  const std::size_t h = n / 2;
  return merge(merge_halving(parts, h), merge_halving(parts + h, n - h));
}

template <class W>
partial<W> welford_blocked(const std::vector<W>& xs, std::size_t block) {
  std::vector<partial<W>> parts;
  for (std::size_t b = 0; b < xs.size(); b += block)
    parts.push_back(welford(xs.data() + b, std::min(block, xs.size() - b)));
  return merge_halving(parts.data(), parts.size());
}

// Two-pass: the mean of x - k (k the first value, or 0 without the shift),
// then the sum of squared deviations. With the shift a constant channel sums
// exact zeros: mean == k and var == 0 exactly, whatever the order.
template <class W>
stats<W> two_pass(const std::vector<W>& xs, W count, const faults& f, accumulation a) {
  const W k = f.shift_first && !xs.empty() ? xs.front() : W(0);
  std::vector<W> t(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) t[i] = xs[i] - k;
  const W mean = k + sum(t, a) / count;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const W d = xs[i] - mean;
    t[i] = d * d;
  }
  return {mean, sum(t, a) / count};
}

// The textbook single pass: E[x^2] - E[x]^2, relative error u*(S/sigma)^2.
template <class W>
stats<W> one_pass(const std::vector<W>& xs, W count, accumulation a) {
  std::vector<W> sq(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) sq[i] = xs[i] * xs[i];
  const W mean = sum(xs, a) / count;
  return {mean, sum(sq, a) / count - mean * mean};
}

}  // namespace

accumulation accumulation_for(const problem& p, const faults& f) {
  return {f.order, static_cast<std::size_t>(f.block), f.arith == precision::f16_sums && p.data_type == dtype::f16};
}

template <class W>
W sum(const std::vector<W>& terms, accumulation a) {
  switch (a.order) {
    case sum_order::sequential: return sequential(terms.data(), terms.size(), a.half);
    case sum_order::pairwise: return halving(terms.data(), terms.size(), a.half);
    case sum_order::blocked: break;
  }
  std::vector<W> blocks;
  for (std::size_t b = 0; b < terms.size(); b += a.block)
    blocks.push_back(sequential(terms.data() + b, std::min(a.block, terms.size() - b), a.half));
  return halving(blocks.data(), blocks.size(), a.half);
}

template <class W>
stats<W> moments(const std::vector<W>& xs, W count, const faults& f, accumulation a) {
  switch (f.moments) {
    case moments_algo::two_pass: return two_pass(xs, count, f, a);
    case moments_algo::one_pass: return one_pass(xs, count, a);
    case moments_algo::via_unbiased: {
      // var = (M2/(M-1)) * ((M-1)/M): 0/0 * 0 for a single value.
      const stats<W> s = two_pass(xs, count, f, a);
      return {s.mean, unbiased(s.var, count) * ((count - 1) / count)};
    }
    case moments_algo::welford_blocked:
    case moments_algo::welford_sequential: {
      const partial<W> r = f.moments == moments_algo::welford_blocked
                               ? welford_blocked(xs, static_cast<std::size_t>(f.block))
                               : welford(xs.data(), xs.size());
      return {r.mean, r.m2 / count};
    }
  }
  return {};
}

template float sum<float>(const std::vector<float>&, accumulation);
template double sum<double>(const std::vector<double>&, accumulation);
template stats<float> moments<float>(const std::vector<float>&, float, const faults&, accumulation);
template stats<double> moments<double>(const std::vector<double>&, double, const faults&, accumulation);

}  // namespace bncheck::mutants::plain
