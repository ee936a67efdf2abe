// Batch mean and M2 of each channel: two passes over each chunk (shifted sum,
// then sums of deviations and their squares), chunks merged pairwise. Never
// E[x^2] - E[x]^2, which cancels catastrophically when |mean| >> spread.
#include <algorithm>
#include <array>
#include <vector>

#include "impl/eigen/chunks.hpp"
#include "impl/eigen/routines.hpp"

namespace bncheck::eigen {
namespace {

// Moments of one chunk of len decoded values: two passes over an L1 buffer.
moments<double> chunk_stats(const double* buf, int64_t len) {
  // Pass 1: shifted by the chunk's first value, so a constant chunk sums to 0.
  const double k = buf[0];
  const double m = k + combine_lanes(lane_sum_shifted(buf, len, k)) / static_cast<double>(len);
  // Pass 2: deviations from m and their squares.
  lane_sums dev = lane_sums::Zero();
  lane_sums sq = lane_sums::Zero();
  int64_t i = 0;
  for (; i + lanes <= len; i += lanes) {
    const lane_sums d = Eigen::Map<const lane_sums>(buf + i) - m;
    dev += d;
    sq += d * d;
  }
  for (int l = 0; l < len - i; ++l) {  // tail: fewer than lanes values
    const double d = buf[i + l] - m;
    dev(l) += d;
    sq(l) += d * d;
  }
  return chunk_moments(static_cast<double>(len), m, combine_lanes(dev), combine_lanes(sq));
}

template <class T>
void moments_channel_first(const problem& p, const T* x, channel_range r, double* mean,
                           double* m2) {
  std::vector<pairwise_tree<moments<double>>> trees(static_cast<std::size_t>(r.end - r.begin));
  auto on_chunk = [&](int64_t c, const std::array<const double*, 1>& b, int64_t len) {
    trees[static_cast<std::size_t>(c - r.begin)].push(chunk_stats(b[0], len));
  };
  for_each_chunk_channel_first<1>(p, std::array<const T*, 1>{x}, r, on_chunk);
  for (int64_t c = r.begin; c < r.end; ++c) {
    const moments<double> all = trees[static_cast<std::size_t>(c - r.begin)].finish();
    mean[c] = all.mean;
    m2[c] = all.m2;
  }
}

// The channels of r of a channel-last tensor together: each chunk is a block
// of columns (one column = the channels at one position), read in place and
// accumulated column by column into per-channel lane vectors. Row c performs
// exactly the operations chunk_stats performs for channel c.
template <class T>
void moments_channel_last(const problem& p, const T* x, channel_range r, double* mean_out,
                          double* m2_out) {
  const int64_t M = reduction_size(p);
  const int64_t rows = r.end - r.begin;
  Eigen::ArrayXd scratch(rows), k(rows), m(rows), d(rows);
  Eigen::ArrayXXd shifted(rows, lanes), dev(rows, lanes), sq(rows, lanes);
  const column_reader<T> column{x, p.c, r.begin, rows, scratch.data()};
  pairwise_tree<moments<Eigen::ArrayXd>> tree;
  for (int64_t j0 = 0; j0 < M; j0 += chunk_length) {
    const int64_t len = std::min(chunk_length, M - j0);
    k = column(j0);
    shifted.setZero();
    for (int64_t j = 0; j < len; ++j) shifted.col(j % lanes) += column(j0 + j) - k;
    m = k + combine_lanes(shifted) / static_cast<double>(len);
    dev.setZero();
    sq.setZero();
    for (int64_t j = 0; j < len; ++j) {
      d = column(j0 + j) - m;
      dev.col(j % lanes) += d;
      sq.col(j % lanes) += d * d;
    }
    tree.push(chunk_moments(static_cast<double>(len), m, combine_lanes(dev), combine_lanes(sq)));
  }
  const moments<Eigen::ArrayXd> all = tree.finish();
  Eigen::Map<Eigen::ArrayXd>(mean_out + r.begin, rows) = all.mean;
  Eigen::Map<Eigen::ArrayXd>(m2_out + r.begin, rows) = all.m2;
}

}  // namespace

template <class T>
void batch_moments(const problem& p, const T* x, channel_range r, double* mean, double* m2) {
  if (channel_last(p.lay))
    moments_channel_last(p, x, r, mean, m2);
  else
    moments_channel_first(p, x, r, mean, m2);
}

template void batch_moments<double>(const problem&, const double*, channel_range, double*, double*);
template void batch_moments<float>(const problem&, const float*, channel_range, double*, double*);
template void batch_moments<f16>(const problem&, const f16*, channel_range, double*, double*);
template void batch_moments<bf16>(const problem&, const bf16*, channel_range, double*, double*);

}  // namespace bncheck::eigen
