// Where the values of a chunk (reduction.hpp) lie in memory, and reading them
// as doubles: channel-first chunks are assembled into per-channel buffers
// while the tensor is streamed in memory order; channel-last chunks are read
// in place one column (all channels of one position) at a time.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/problem.hpp"
#include "impl/eigen/elements.hpp"
#include "impl/eigen/reduction.hpp"
#include "impl/eigen/routines.hpp"

namespace bncheck::eigen {

/// Streams channels r of K channel-first tensors of the same shape in memory
/// order (sample by sample, and within a sample channel by channel, so the
/// hardware prefetcher sees long contiguous runs) and assembles each
/// channel's values, decoded to doubles, into chunks in logical order
/// j = i*S + s. Calls on_chunk(c, bufs, len) once per chunk, in logical order
/// for each channel; bufs[k] holds the chunk's len values of tensor k. A chunk
/// may straddle samples: each channel keeps its partial chunk in its own
/// buffer (K * min(M, chunk_length) doubles per channel) until it is full.
template <std::size_t K, class T, class F>
void for_each_chunk_channel_first(const problem& p, const std::array<const T*, K>& tensors,
                                  channel_range r, F&& on_chunk) {
  const int64_t S = spatial_size(p);
  const int64_t channels = r.end - r.begin;
  const auto stride = static_cast<std::size_t>(std::min(chunk_length, reduction_size(p)));
  std::vector<double> storage(static_cast<std::size_t>(channels) * K * stride);
  std::vector<int64_t> fill(static_cast<std::size_t>(channels), 0);
  std::array<const double*, K> bufs;
  auto buffer = [&](int64_t ch, std::size_t k) {
    return storage.data() + (static_cast<std::size_t>(ch) * K + k) * stride;
  };
  auto emit = [&](int64_t ch, int64_t len) {
    for (std::size_t k = 0; k < K; ++k) bufs[k] = buffer(ch, k);
    on_chunk(r.begin + ch, bufs, len);
  };
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t ch = 0; ch < channels; ++ch) {
      const int64_t base = (i * p.c + r.begin + ch) * S;
      int64_t& f = fill[static_cast<std::size_t>(ch)];
      for (int64_t s = 0; s < S;) {
        const int64_t run = std::min(S - s, chunk_length - f);
        for (std::size_t k = 0; k < K; ++k) decode(tensors[k] + base + s, run, buffer(ch, k) + f);
        f += run;
        s += run;
        if (f == chunk_length) {
          emit(ch, chunk_length);
          f = 0;
        }
      }
    }
  for (int64_t ch = 0; ch < channels; ++ch)
    if (fill[static_cast<std::size_t>(ch)] > 0) emit(ch, fill[static_cast<std::size_t>(ch)]);
}

/// Lane sums of (b[k] - shift) over k < n, value k into lane k % lanes.
inline lane_sums lane_sum_shifted(const double* b, int64_t n, double shift) {
  lane_sums s = lane_sums::Zero();
  int64_t k = 0;
  for (; k + lanes <= n; k += lanes) s += Eigen::Map<const lane_sums>(b + k) - shift;
  for (int l = 0; l < n - k; ++l) s(l) += b[k + l] - shift;  // tail: fewer than lanes
  return s;
}

/// Rows [c0, c0 + rows) of column j of a channel-last tensor with C channels:
/// the values of those channels at logical position j, contiguous in memory.
template <class T>
struct column_reader {
  const T* data;
  int64_t c;
  int64_t c0;
  int64_t rows;
  double* scratch;  ///< at least rows doubles, for formats other than double

  /// The column as doubles (valid until the next call).
  Eigen::Map<const Eigen::ArrayXd> operator()(int64_t j) const {
    return as_doubles(data + j * c + c0, rows, scratch);
  }
};

}  // namespace bncheck::eigen
