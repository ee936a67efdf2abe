// How the CUDA kernel cuts a channel's reduction into runs and merges them:
// the one decomposition that the device kernels (cuda_kernel.cu) launch in
// parallel and the host emulation (host_emulation.cpp) executes serially.
//
// A channel's M = n*d*h*w values are taken in logical order j = i*S + s
// (sample i, spatial position s) in every layout. They are cut into tiles of
// tile_length = 8192 values; in tile b, run v (0 <= v < 256) holds the values
// j = b*8192 + r*256 + v for r = 0..31 (those below M), so one CUDA thread
// reads its run with coalesced neighbours. Global run index g = b*256 + v.
// A run's moments come from the two-pass of arith.hpp (sequential, at most 31
// additions); backward's sums add the run sequentially. The run results of a
// channel are then combined by THE complete binary tree over g: level l
// merges item 2^(l+1)k with item 2^(l+1)k + 2^l (adjacent pairs first), empty
// runs being exact identities. Blocks compute aligned subtrees of it:
//   channel-first: a block of 256 threads = one tile = the subtree of runs
//                  b*256 .. b*256+255 (thread t = run t, tree in shared memory);
//   channel-last:  a block of 32 channels x 8 rows; row ty runs 4 adjacent
//                  runs and merges them ((r0+r1)+(r2+r3)), then the 8 rows
//                  merge in shared memory: the subtree of 32 runs;
// and merge kernels continue the same tree over those partial results, 256
// at a time, until one per channel is left. Because padding with empty leaves
// changes nothing, every layout computes the same tree, so channel-first and
// channel-last data give bitwise identical statistics.
//
// Rounding depth (docs/tolerances.md 2.2 admits L = min(M, 32) +
// ceil(log2(ceil(M/32)))): a value passes through at most min(32, ceil(M/256))
// - 1 sequential additions in its run and ceil(log2(runs)) merge levels, with
// runs <= 256*ceil(M/8192). For M >= 8192 that is 31 + 8 + ceil(log2(tiles)),
// and 8 + ceil(log2(tiles)) <= ceil(log2(ceil(M/32))) since M > (tiles-1)*8192;
// below 8192 the runs are shorter and the tree at most 8 deep: always <= L.
// A merge level of moments rounds a few times (delta, weight, product, sum)
// where a plain sum rounds once; with close means the sum's rounding of
// |mean| dominates, and the model's K = 2 covers the rest. docs/cuda.md.
#pragma once

#include <cstdint>

#include "impl/cuda/arith.hpp"

namespace bncheck::cuda {

inline constexpr int run_length = 32;
inline constexpr int tile_threads = 256;
inline constexpr int64_t tile_length = int64_t{run_length} * tile_threads;
/// Channel-last statistics blocks: cl_channels x cl_rows threads, each row
/// cl_runs_per_thread adjacent runs, so a block covers cl_span runs.
inline constexpr int cl_channels = 32;
inline constexpr int cl_rows = 8;
inline constexpr int cl_runs_per_thread = 4;
inline constexpr int cl_span = cl_rows * cl_runs_per_thread;
static_assert(cl_channels * cl_rows == tile_threads, "one block size for every kernel");
/// Partial results a merge block combines.
inline constexpr int merge_fan_in = 256;
/// Elements per thread of the elementwise kernels.
inline constexpr int elements_per_thread = 4;

/// Where the values of channel c lie: j = i*S + s in logical order.
struct geometry {
  int64_t C;
  int64_t S;  ///< spatial positions per sample, d*h*w
  int64_t M;  ///< n*S
  bool channel_last;

  /// Offset of logical element j of channel c.
  BNC_HD int64_t offset(int64_t c, int64_t j) const {
    return channel_last ? j * C + c : ((j / S) * C + c) * S + j % S;
  }
  /// Channel of the element at memory offset e.
  BNC_HD int64_t channel_of(int64_t e) const { return channel_last ? e % C : (e / S) % C; }
};

BNC_HD int64_t tile_count(const geometry& g) { return (g.M + tile_length - 1) / tile_length; }

/// Partial results per channel after the statistics kernel.
BNC_HD int64_t partial_count(const geometry& g) {
  return g.channel_last ? tile_count(g) * (tile_threads / cl_span) : tile_count(g);
}

/// Values in run v of tile b: a prefix r = 0..len-1 of the 32 slots.
BNC_HD int run_size(const geometry& g, int64_t b, int v) {
  const int64_t j0 = b * tile_length + v;
  if (j0 >= g.M) return 0;
  const int64_t len = (g.M - j0 + tile_threads - 1) / tile_threads;
  return len < run_length ? static_cast<int>(len) : run_length;
}

/// Walks the offsets of a run: j = j0, j0 + 256, ... Channel-first keeps
/// (sample, position) and carries, so no division per element.
struct run_cursor {
  int64_t i, s, at;
  BNC_HD run_cursor(const geometry& g, int64_t c, int64_t j0) {
    if (g.channel_last) {
      i = 0, s = 0, at = j0 * g.C + c;
    } else {
      i = j0 / g.S, s = j0 % g.S, at = (i * g.C + c) * g.S + s;
    }
  }
  BNC_HD void next(const geometry& g, int64_t c) {
    if (g.channel_last) {
      at += tile_threads * g.C;
      return;
    }
    s += tile_threads;
    if (s >= g.S) i += s / g.S, s %= g.S;
    at = (i * g.C + c) * g.S + s;
  }
};

/// A leaf's sink that keeps nothing (the four-launch schedule).
struct no_sink {
  template <class... V>
  BNC_HD void operator()(int, V...) const {}
};

/// Moments of run v of tile b of channel c (the leaf of the tree). sink(i,
/// x) sees each value as read, i = first + r for its slot r in the run (the
/// fused schedule keeps them on chip, fused.hpp).
template <class T, class Sink = no_sink>
BNC_HD moments<acc_t<T>> stats_run(const T* x, const geometry& g, int64_t c, int64_t b, int v, int first = 0,
                                   Sink&& sink = {}) {
  using A = acc_t<T>;
  const int len = run_size(g, b, v);
  A vals[run_length];
  run_cursor cur(g, c, b * tile_length + v);
BNC_UNROLL
  for (int r = 0; r < run_length; ++r) {
    vals[r] = A(0);
    if (r < len) {
      const T xv = x[cur.at];
      sink(first + r, xv);
      vals[r] = decode(xv);
      cur.next(g, c);
    }
  }
  return run_moments<run_length, A>(vals, len);
}

/// sum(dy) and sum(dy (x - mu)) of run v of tile b of channel c, sequential;
/// sink(i, x, dy) as for stats_run.
template <class T, class Sink = no_sink>
BNC_HD sum_pair<acc_t<T>> sums_run(const T* x, const T* dy, const geometry& g, int64_t c, int64_t b, int v, acc_t<T> mu,
                                   int first = 0, Sink&& sink = {}) {
  using A = acc_t<T>;
  const int len = run_size(g, b, v);
  A s_dy = A(0), s_dy_xc = A(0);
  run_cursor cur(g, c, b * tile_length + v);
  const run_cursor first_at = cur;
  for (int r = 0; r < len; ++r) {
    const T xv = x[cur.at], dv = dy[cur.at];
    sink(first + r, xv, dv);
    const A d = decode(dv);
    s_dy = s_dy + d;
    s_dy_xc = s_dy_xc + d * (decode(xv) - mu);
    cur.next(g, c);
  }
  double xc = static_cast<double>(s_dy_xc);
  if constexpr (!std::is_same_v<A, double>) {
    if (!finite(s_dy_xc)) {  // float overflowed: the same sum in double (arith.hpp, sum_pair)
      double xd = 0;
      cur = first_at;
      for (int r = 0; r < len; ++r) {
        xd = xd + static_cast<double>(decode(dy[cur.at])) *
                      (static_cast<double>(decode(x[cur.at])) - static_cast<double>(mu));
        cur.next(g, c);
      }
      if (finite(xd)) xc = xd;
    }
  }
  return {len, s_dy, xc};
}

/// Channel-first statistics block k, thread t: its run.
template <class T, class Sink = no_sink>
BNC_HD moments<acc_t<T>> stats_leaf_cf(const T* x, const geometry& g, int64_t k, int t, Sink&& sink = {}) {
  const int64_t nt = tile_count(g);
  return stats_run(x, g, k / nt, k % nt, t, 0, sink);
}

/// Where thread t = ty*32 + cx of channel-last block k reads: channel c
/// (g.C or more past the last channel), tile b and the first of its 4
/// adjacent runs, v0.
struct cl_leaf {
  int64_t c, b;
  int v0;
};
BNC_HD cl_leaf cl_leaf_at(const geometry& g, int64_t k, int t) {
  const int64_t per = tile_count(g) * (tile_threads / cl_span);
  const int64_t rest = k % per;
  return {(k / per) * cl_channels + t % cl_channels, rest / (tile_threads / cl_span),
          static_cast<int>(rest % (tile_threads / cl_span)) * cl_span + (t / cl_channels) * cl_runs_per_thread};
}

/// A channel-last leaf: run(c, b, v, first) for the 4 runs v0..v0+3 of
/// cl_leaf_at (the u-th run's values are the thread's values first = 32u
/// onwards), merged as ((r0 + r1) + (r2 + r3)); empty past the last channel.
template <class Item, class Run>
BNC_HD Item cl_leaf_of(const geometry& g, int64_t k, int t, Run&& run) {
  const cl_leaf l = cl_leaf_at(g, k, t);
  if (l.c >= g.C) return {0, 0, 0};
  const Item r01 = merge(run(l.c, l.b, l.v0, 0), run(l.c, l.b, l.v0 + 1, run_length));
  const Item r23 = merge(run(l.c, l.b, l.v0 + 2, 2 * run_length), run(l.c, l.b, l.v0 + 3, 3 * run_length));
  return merge(r01, r23);
}

/// Channel-last statistics block k, thread t: its 4 adjacent runs merged.
template <class T, class Sink = no_sink>
BNC_HD moments<acc_t<T>> stats_leaf_cl(const T* x, const geometry& g, int64_t k, int t, Sink&& sink = {}) {
  return cl_leaf_of<moments<acc_t<T>>>(
      g, k, t, [&](int64_t c, int64_t b, int v, int first) { return stats_run(x, g, c, b, v, first, sink); });
}

/// The same two leaves for backward's sums (mu: the saved mean per channel).
template <class T, class Sink = no_sink>
BNC_HD sum_pair<acc_t<T>> sums_leaf_cf(const T* x, const T* dy, const acc_t<T>* mu, const geometry& g, int64_t k, int t,
                                       Sink&& sink = {}) {
  const int64_t nt = tile_count(g);
  const int64_t c = k / nt;
  return sums_run(x, dy, g, c, k % nt, t, mu[c], 0, sink);
}

template <class T, class Sink = no_sink>
BNC_HD sum_pair<acc_t<T>> sums_leaf_cl(const T* x, const T* dy, const acc_t<T>* mu, const geometry& g, int64_t k, int t,
                                       Sink&& sink = {}) {
  return cl_leaf_of<sum_pair<acc_t<T>>>(
      g, k, t, [&](int64_t c, int64_t b, int v, int first) { return sums_run(x, dy, g, c, b, v, mu[c], first, sink); });
}

/// Every value thread t of leaf block k reads, in the order its leaf reads
/// them: f(i, offset, c) with i the index its sink saw. Leaf blocks
/// partition the tensor, so over all (k, t) every element comes once.
template <class F>
BNC_HD void for_each_leaf_value(const geometry& g, int64_t k, int t, F&& f) {
  auto run = [&](int64_t c, int64_t b, int v, int first) {
    const int len = run_size(g, b, v);
    run_cursor cur(g, c, b * tile_length + v);
    for (int r = 0; r < len; ++r) {
      f(first + r, cur.at, c);
      cur.next(g, c);
    }
  };
  if (!g.channel_last) {
    const int64_t nt = tile_count(g);
    run(k / nt, k % nt, t, 0);
    return;
  }
  const cl_leaf l = cl_leaf_at(g, k, t);
  if (l.c >= g.C) return;
  for (int u = 0; u < cl_runs_per_thread; ++u) run(l.c, l.b, l.v0 + u, u * run_length);
}

/// Blocks of the statistics (or sums) kernel.
BNC_HD int64_t leaf_blocks(const geometry& g) {
  return g.channel_last ? (g.C + cl_channels - 1) / cl_channels * partial_count(g) : g.C * partial_count(g);
}

/// Level h (1, 2, 4, ...) of a block's tree, thread t, over slots[0..256):
/// channel-first and merge blocks pair slot t with t + h; channel-last
/// blocks pair row ty with ty + h in the same channel column.
template <class Item>
BNC_HD void tree_step(Item* slots, int t, int h, bool rows) {
  if (rows) {
    const int ty = t / cl_channels;
    if (ty % (2 * h) == 0) slots[t] = merge(slots[t], slots[t + h * cl_channels]);
  } else if (t % (2 * h) == 0) {
    slots[t] = merge(slots[t], slots[t + h]);
  }
}
/// The last level h of a block's tree.
BNC_HD int tree_levels_end(bool rows) { return rows ? cl_rows : tile_threads; }

/// Where thread 0 of each column (channel-last: cx < 32; otherwise t = 0)
/// writes its block's result: partial index into a [C][partial_count] array,
/// or -1 when the thread writes nothing.
BNC_HD int64_t leaf_output(const geometry& g, int64_t k, int t) {
  const int64_t np = partial_count(g);
  if (!g.channel_last) return t == 0 ? k : -1;
  if (t >= cl_channels) return -1;
  const int64_t per = np;
  const int64_t c = (k / per) * cl_channels + t;
  if (c >= g.C) return -1;
  return c * np + k % per;
}

/// A merge block k over n items per channel (m = ceil(n/256) groups): thread
/// t's item index into the [C][n] input, or -1 for padding.
BNC_HD int64_t merge_input(int64_t n, int64_t k, int t) {
  const int64_t groups = (n + merge_fan_in - 1) / merge_fan_in;
  const int64_t c = k / groups;
  const int64_t p = (k % groups) * merge_fan_in + t;
  return p < n ? c * n + p : -1;
}

}  // namespace bncheck::cuda
