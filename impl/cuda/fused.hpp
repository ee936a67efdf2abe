// The fused schedule of the CUDA kernel (docs/cuda.md, "The fused schedule"):
// one cooperative launch of persistent blocks in place of the statistics,
// merge, finalize and elementwise launches. Block q owns the leaf blocks
// q, q + grid, q + 2 grid, ... of decomposition.hpp; in phase 1 it computes
// their leaves and block trees exactly as the statistics kernel does and
// keeps the values it read in shared memory while they fit; after grid
// barriers for the merge levels and the per-channel finalization, phase 2
// writes y (or dx) for the same elements, from shared memory where they were
// kept and from global memory otherwise. The arithmetic is the launches'
// (same leaves, same tree, same per-channel and per-element functions), so
// the bits are too; what this file adds is where the values wait. The device
// kernel (cuda_kernel.cu) and the host emulation (host_emulation.cpp) both
// use these functions, so an index that overruns the kept values or an
// element written twice or never shows up in the emulation's tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "impl/cuda/decomposition.hpp"

namespace bncheck::cuda {

/// The tile of leaf block k.
BNC_HD int64_t leaf_tile(const geometry& g, int64_t k) {
  if (!g.channel_last) return k % tile_count(g);
  return (k % partial_count(g)) / (tile_threads / cl_span);
}

/// Runs per thread of a leaf block.
BNC_HD int leaf_runs(const geometry& g) { return g.channel_last ? cl_runs_per_thread : 1; }

/// The longest run of leaf block k (run 0 of its tile): every thread's runs
/// fit in slots of this many values.
BNC_HD int leaf_width(const geometry& g, int64_t k) { return run_size(g, leaf_tile(g, k), 0); }

/// Values leaf block k keeps per tensor, all threads.
BNC_HD int64_t leaf_footprint(const geometry& g, int64_t k) {
  return int64_t{leaf_runs(g)} * leaf_width(g, k) * tile_threads;
}

/// How one call is cut among the persistent blocks.
struct fused_plan {
  int64_t grid;      ///< blocks of the cooperative launch, all resident at once (0: no plan)
  int64_t leaves;    ///< leaf_blocks(g)
  int64_t capacity;  ///< values (of T) of shared memory a block keeps
  int tensors;       ///< 1 (x) or 2 (x, then dy)

  /// Leaf blocks block q owns, and its i-th.
  BNC_HD int64_t owned(int64_t q) const { return q < leaves ? (leaves - q + grid - 1) / grid : 0; }
  BNC_HD int64_t leaf(int64_t q, int64_t i) const { return q + i * grid; }
};

/// Values a kept leaf block k takes with `runs` runs per thread.
BNC_HD int64_t kept_values(const fused_plan& p, const geometry& g, int64_t k, int runs) {
  return leaf_footprint(g, k) / leaf_runs(g) * runs * p.tensors;
}

/// What block q keeps: its first `count` leaf blocks, all of each thread's
/// runs but in the last of them, which may keep only its first `last_runs`
/// (channel-last threads have 4 runs: a leaf block there is 128 KB of f32,
/// so keeping by run lets a block fill its shared memory). The longest
/// prefix that fits the capacity; `used` values in all.
struct kept_prefix {
  int64_t count;
  int64_t used;
  int last_runs;
};
BNC_HD kept_prefix kept_of(const fused_plan& p, const geometry& g, int64_t q) {
  kept_prefix k{0, 0, 0};
  const int64_t n = p.owned(q);
  while (k.count < n) {
    const int64_t per_run = kept_values(p, g, p.leaf(q, k.count), 1);
    const int64_t runs = (p.capacity - k.used) / per_run;
    if (runs <= 0) break;
    k.last_runs = runs < leaf_runs(g) ? static_cast<int>(runs) : leaf_runs(g);
    k.used += per_run * k.last_runs;
    ++k.count;
    if (k.last_runs < leaf_runs(g)) break;
  }
  return k;
}

/// Runs per thread kept of block q's i-th leaf block (0: not kept).
BNC_HD int kept_runs(const kept_prefix& k, const geometry& g, int64_t i) {
  return i + 1 < k.count ? leaf_runs(g) : i + 1 == k.count ? k.last_runs : 0;
}

/// Where value i (as the leaf's sink numbers it: 32u + r for slot r of run
/// u, kept when u < runs) of tensor m of thread t lies in a kept leaf block
/// that starts at `base`, has width w and keeps `runs` runs per thread:
/// [m][u][r][t], so a warp's accesses are consecutive.
BNC_HD int64_t kept_index(int64_t base, int w, int runs, int m, int i, int t) {
  return base + ((int64_t{m} * runs + i / run_length) * w + i % run_length) * tile_threads + t;
}

/// What a device offers one cooperative launch of 256-thread blocks.
struct device_room {
  int sms;
  std::size_t smem_per_sm;         ///< shared memory per SM, bytes
  std::size_t smem_per_block;      ///< the most dynamic shared memory one block may ask for
  std::size_t reserved_per_block;  ///< static shared memory and the system's share, per block
};

/// The plan for g on a device with that room: 2 blocks per SM where every
/// leaf block then stays on chip, else 1 per SM keeping as much as fits
/// (twice the room per block). blocks_per_sm(bytes) is how many blocks with
/// that much dynamic shared memory can be resident on one SM (the occupancy
/// calculator on a device); a plan needs grid <= sms * blocks_per_sm. Grid
/// 0: no plan (the caller uses the launches).
template <class Occupancy>
fused_plan plan_fused(const geometry& g, int tensors, std::size_t value_bytes, const device_room& room,
                      Occupancy&& blocks_per_sm) {
  const int64_t leaves = leaf_blocks(g);
  fused_plan fallback{0, leaves, 0, tensors};
  for (int b : {2, 1}) {
    const int64_t grid = std::max<int64_t>(1, std::min<int64_t>(int64_t{room.sms} * b, leaves));
    std::vector<int64_t> need(static_cast<std::size_t>(grid), 0);
    for (int64_t k = 0; k < leaves; ++k) need[static_cast<std::size_t>(k % grid)] += leaf_footprint(g, k) * tensors;
    const int64_t most = *std::max_element(need.begin(), need.end());
    const std::size_t share = room.smem_per_sm / static_cast<std::size_t>(b);
    const std::size_t bytes =
        std::min(room.smem_per_block, share > room.reserved_per_block ? share - room.reserved_per_block : 0);
    const int64_t capacity = std::min<int64_t>(most, static_cast<int64_t>(bytes / value_bytes));
    const int resident = blocks_per_sm(static_cast<std::size_t>(capacity) * value_bytes);
    if (int64_t{resident} * room.sms < grid) continue;
    const fused_plan p{grid, leaves, capacity, tensors};
    if (capacity >= most || b == 1) return p;
    fallback = p;
  }
  return fallback;
}

/// What a plan keeps over all its blocks: `kept` of the `all` values of x
/// (and dy); `part_runs` blocks keep only some runs of their last leaf block.
struct kept_share {
  int64_t kept, all, part_runs;
};
inline kept_share kept_share_of(const fused_plan& p, const geometry& g) {
  kept_share s{0, 0, 0};
  for (int64_t k = 0; k < p.leaves; ++k) s.all += leaf_footprint(g, k) * p.tensors;
  for (int64_t q = 0; q < p.grid; ++q) {
    const kept_prefix k = kept_of(p, g, q);
    s.kept += k.used;
    if (k.count > 0 && k.last_runs < leaf_runs(g)) ++s.part_runs;
  }
  return s;
}

struct emulated_device;  // cuda_kernel.hpp

/// The plan cuda-host uses on device d (host_emulation.cpp): plan_fused with
/// the emulation's model of the occupancy calculator (shared memory, and
/// d's limit of blocks per SM standing for the registers).
fused_plan emulated_plan(const geometry& g, int tensors, std::size_t value_bytes, const emulated_device& d);

}  // namespace bncheck::cuda
