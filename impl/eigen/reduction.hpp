// The one order in which the Eigen kernel sums over a channel, fixed so that
// every layout performs the same floating-point operations per channel and
// channel-first and channel-last data give bitwise identical results.
//
// A channel's M = n*d*h*w values are taken in logical order j = i*S + s
// (sample i, spatial position s), which is memory order within the channel
// for both layouts. They are cut into chunks of chunk_length consecutive
// values (the last one shorter). Inside a chunk, value k goes to lane
// k % lanes; each lane is summed left to right from zero and the lanes are
// combined as a fixed tree. Chunk results are then combined pairwise
// (pairwise_tree), in a tree that depends only on the number of chunks.
//
// Accuracy: a result passes through at most chunk_length/lanes + log2(lanes)
// + log2(M/chunk_length) roundings: 32 + 3 + 10 for M = 2^18, where a plain
// left-to-right sum has M - 1. The tolerance model (docs/tolerances.md 2.2)
// budgets log2(M) + 1 levels; the in-chunk part exceeds that only as a worst
// case, and the typical error of the 32 sequential additions is about 6 u.
// Merging chunks left to right instead would put sqrt(M/256) = 32 roundings
// of |mean| into the mean for M = 2^18 typically: too close to the f64 bound.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <Eigen/Core>

namespace bncheck::eigen {

/// Values per chunk. 256 keeps a channel-last chunk of 1024 float channels
/// (1 MiB) in a 2 MiB L2 while the per-chunk divisions and merges cost well
/// under one cycle per value.
inline constexpr int64_t chunk_length = 256;
/// Independent accumulators per chunk: four SSE2 registers of two doubles, so
/// additions overlap instead of waiting on one another.
inline constexpr int lanes = 8;

/// Per-lane partial sums of one channel.
using lane_sums = Eigen::Array<double, lanes, 1>;

/// The fixed combination tree of the lanes of one channel.
inline double combine_lanes(const lane_sums& l) {
  return ((l(0) + l(1)) + (l(2) + l(3))) + ((l(4) + l(5)) + (l(6) + l(7)));
}

/// The same tree applied to each row of a channels x lanes array: row c gets
/// exactly the operations combine_lanes performs for channel c.
inline Eigen::ArrayXd combine_lanes(const Eigen::ArrayXXd& l) {
  return ((l.col(0) + l.col(1)) + (l.col(2) + l.col(3))) +
         ((l.col(4) + l.col(5)) + (l.col(6) + l.col(7)));
}

/// A negative M2 can only come from rounding (Cauchy-Schwarz makes it
/// non-negative in exact arithmetic): clamp it to zero, keeping NaN.
inline double clamp_negative(double v) { return v < 0 ? 0.0 : v; }
inline Eigen::ArrayXd clamp_negative(const Eigen::ArrayXd& v) { return (v < 0).select(0.0, v); }

/// Count, mean and M2 = sum((x - mean)^2) of a run of values. V is double
/// (one channel) or Eigen::ArrayXd (one entry per channel); every function
/// below evaluates the same operations in the same order for both.
template <class V>
struct moments {
  double count = 0;
  V mean{};
  V m2{};
};

/// Merges b (the later values) into a, both non-empty, by the pairwise update
/// of Chan, Golub and LeVeque:
///   delta = mean_b - mean_a, mean = mean_a + delta * nb/(na+nb),
///   M2 = M2_a + M2_b + delta^2 * na*nb/(na+nb).
/// Every term is non-negative, so nothing cancels. Equal means give
/// delta == 0 and leave mean and M2 untouched: a constant channel stays exact.
template <class V>
void merge(moments<V>& a, const moments<V>& b) {
  const double n = a.count + b.count;
  const double w = b.count / n;
  const double cross = a.count * w;
  a.m2 = (a.m2 + b.m2) + ((b.mean - a.mean) * (b.mean - a.mean)) * cross;
  a.mean = a.mean + (b.mean - a.mean) * w;
  a.count = n;
}

/// Moments of one chunk of len values from its two passes. With k the
/// chunk's first value, the first pass gave m = k + sum(x - k)/len; the second
/// gives c = sum(x - m) and q = sum((x - m)^2). The corrected two-pass
/// formulas (Chan, Golub and LeVeque 1983)
///   mean = m + c/len,  M2 = sum((x - mean)^2) = q - c^2/len
/// remove the first-order effect of the error in m. A constant chunk has
/// sum(x - k) = c = q = 0 exactly, so mean == k and M2 == 0 exactly.
template <class V>
moments<V> chunk_moments(double len, const V& m, const V& c, const V& q) {
  return {len, V(m + c / len), clamp_negative(V(q - (c * c) / len))};
}

/// Sums of a chunk (backward: sum(dy) and sum(dy * (x - mean))).
template <class V>
struct sum_pair {
  V first{};
  V second{};
};

/// Adds the later sums b into a.
template <class V>
void merge(sum_pair<V>& a, const sum_pair<V>& b) {
  a.first = a.first + b.first;
  a.second = a.second + b.second;
}

/// Combines a sequence of items (one per chunk, in logical order) pairwise,
/// like a binary counter: two partial results of the same level merge as soon
/// as both exist, and finish() merges what is left from the newest to the
/// oldest. The tree depends only on the number of items, so both layouts
/// build the same one; its depth is ceil(log2(items)). merge(a, b) folds b,
/// the later item, into a.
template <class Item>
class pairwise_tree {
 public:
  void push(Item item) {
    int level = 0;
    while (!stack_.empty() && stack_.back().level == level) {
      Item earlier = std::move(stack_.back().item);
      stack_.pop_back();
      merge(earlier, item);
      item = std::move(earlier);
      ++level;
    }
    stack_.push_back({level, std::move(item)});
  }

  /// The combination of every item pushed (at least one).
  Item finish() {
    Item result = std::move(stack_.back().item);
    stack_.pop_back();
    while (!stack_.empty()) {
      Item earlier = std::move(stack_.back().item);
      stack_.pop_back();
      merge(earlier, result);
      result = std::move(earlier);
    }
    return result;
  }

 private:
  struct entry {
    int level;
    Item item;
  };
  std::vector<entry> stack_;
};

}  // namespace bncheck::eigen
