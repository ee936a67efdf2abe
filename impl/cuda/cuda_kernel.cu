// Our CUDA batch-normalization kernels: the launches of the decomposition in
// decomposition.hpp (statistics or sums per block, merge kernels, one thread
// per channel to finalize, elementwise y or dx), the fused schedule of
// fused.hpp (the same steps in one cooperative launch, values kept in shared
// memory between them), the entry point on device pointers, and the "cuda"
// kernel that copies the harness's host buffers. host_emulation.cpp executes
// both schedules serially; keep them in step.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/dtype.hpp"
#include "impl/cuda/call.hpp"
#include "impl/cuda/cuda_kernel.hpp"
#include "impl/cuda/device.hpp"
#include "impl/cuda/fused.hpp"

namespace bncheck::cuda {
namespace {

// Grid sizes are capped; every kernel loops over its blocks (or elements).
constexpr int64_t max_grid = int64_t{1} << 20;

unsigned grid_for(int64_t blocks) { return static_cast<unsigned>(std::max<int64_t>(1, std::min(blocks, max_grid))); }

// The tree of one block over slots[0..256), ending with a barrier.
template <class Item>
__device__ void block_tree(Item* slots, int t, bool rows) {
  __syncthreads();
  for (int h = 1; h < tree_levels_end(rows); h *= 2) {
    tree_step(slots, t, h, rows);
    __syncthreads();
  }
}

template <class T>
__global__ void __launch_bounds__(tile_threads) stats_kernel(const T* x, geometry g, moments<acc_t<T>>* partial,
                                                             int64_t blocks) {
  __shared__ moments<acc_t<T>> slots[tile_threads];
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t k = blockIdx.x; k < blocks; k += gridDim.x) {
    slots[t] = g.channel_last ? stats_leaf_cl(x, g, k, t) : stats_leaf_cf(x, g, k, t);
    block_tree(slots, t, g.channel_last);
    const int64_t at = leaf_output(g, k, t);
    if (at >= 0) partial[at] = slots[t];
    __syncthreads();
  }
}

template <class T>
__global__ void __launch_bounds__(tile_threads) sums_kernel(const T* x, const T* dy, const acc_t<T>* mu, geometry g,
                                                            sum_pair<acc_t<T>>* partial, int64_t blocks) {
  __shared__ sum_pair<acc_t<T>> slots[tile_threads];
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t k = blockIdx.x; k < blocks; k += gridDim.x) {
    slots[t] = g.channel_last ? sums_leaf_cl(x, dy, mu, g, k, t) : sums_leaf_cf(x, dy, mu, g, k, t);
    block_tree(slots, t, g.channel_last);
    const int64_t at = leaf_output(g, k, t);
    if (at >= 0) partial[at] = slots[t];
    __syncthreads();
  }
}

template <class Item>
__global__ void __launch_bounds__(tile_threads) merge_kernel(const Item* in, Item* out, int64_t n, int64_t blocks) {
  __shared__ Item slots[tile_threads];
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t k = blockIdx.x; k < blocks; k += gridDim.x) {
    const int64_t at = merge_input(n, k, t);
    slots[t] = at >= 0 ? in[at] : Item{0, 0, 0};
    block_tree(slots, t, false);
    if (t == 0) out[k] = slots[0];
    __syncthreads();
  }
}

template <class A>
__global__ void finalize_training_kernel(const moments<A>* all, channel_params cp, channel_io io, factors<A> f) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cp.C; c += int64_t{gridDim.x} * blockDim.x)
    finalize_training(c, all[c], cp, io, f);
}

template <class A>
__global__ void finalize_inference_kernel(channel_params cp, channel_io io, factors<A> f) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cp.C; c += int64_t{gridDim.x} * blockDim.x)
    finalize_inference(c, cp, io, f);
}

template <class A>
__global__ void prepare_backward_kernel(channel_params cp, const void* mean, factors<A> f) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cp.C; c += int64_t{gridDim.x} * blockDim.x)
    prepare_backward(c, cp, mean, f);
}

template <class A>
__global__ void finalize_backward_kernel(const sum_pair<A>* all, channel_params cp, const void* invstd,
                                         const void* var, channel_io io, factors<A> f) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cp.C; c += int64_t{gridDim.x} * blockDim.x)
    finalize_backward(c, all[c], cp, invstd, var, io, f);
}

// Channel of element e; 32-bit division when every offset fits in 32 bits.
__device__ __forceinline__ int64_t channel_at(const geometry& g, int64_t e, bool small) {
  if (!small) return g.channel_of(e);
  const auto u = static_cast<uint32_t>(e);
  const auto C = static_cast<uint32_t>(g.C);
  return g.channel_last ? u % C : (u / static_cast<uint32_t>(g.S)) % C;
}

// Thread t of block k handles elements k*1024 + t + 256*i, i < 4: each load
// instruction of a warp reads consecutive elements.
template <class T, class A>
__global__ void __launch_bounds__(tile_threads) affine_kernel(const T* x, T* y, geometry g, int64_t count,
                                                              factors<A> f) {
  const bool small = count <= int64_t{UINT32_MAX};
  const int64_t step = int64_t{gridDim.x} * tile_threads * elements_per_thread;
  for (int64_t base = int64_t{blockIdx.x} * tile_threads * elements_per_thread + threadIdx.x; base < count;
       base += step) {
BNC_UNROLL
    for (int i = 0; i < elements_per_thread; ++i) {
      const int64_t e = base + int64_t{i} * tile_threads;
      if (e < count) {
        const int64_t c = channel_at(g, e, small);
        y[e] = affine_element<T, A>(x[e], f.shift[c], f.scale[c], f.bias[c]);
      }
    }
  }
}

template <class T, class A>
__global__ void __launch_bounds__(tile_threads) dx_kernel(const T* x, const T* dy, T* dx, geometry g, int64_t count,
                                                          factors<A> f) {
  const bool small = count <= int64_t{UINT32_MAX};
  const int64_t step = int64_t{gridDim.x} * tile_threads * elements_per_thread;
  for (int64_t base = int64_t{blockIdx.x} * tile_threads * elements_per_thread + threadIdx.x; base < count;
       base += step) {
BNC_UNROLL
    for (int i = 0; i < elements_per_thread; ++i) {
      const int64_t e = base + int64_t{i} * tile_threads;
      if (e < count) {
        const int64_t c = channel_at(g, e, small);
        dx[e] = dx_element<T, A>(x[e], dy[e], f.shift[c], f.bias[c], f.coef[c], f.scale[c]);
      }
    }
  }
}

// --- The fused schedule (fused.hpp) ----------------------------------------

namespace cg = cooperative_groups;

// Thread t's sink of a leaf: stores each value it reads into the block's
// kept values when its run is kept (u < runs). Only thread t reads them back
// (kept_index ends in + t), so no barrier orders the two phases' accesses.
template <class T>
struct shared_sink {
  T* kept;
  int64_t base;
  int w, runs, t;
  __device__ void operator()(int v, T xv) const {
    if (v / run_length < runs) kept[kept_index(base, w, runs, 0, v, t)] = xv;
  }
  __device__ void operator()(int v, T xv, T dyv) const {
    if (v / run_length < runs) {
      kept[kept_index(base, w, runs, 0, v, t)] = xv;
      kept[kept_index(base, w, runs, 1, v, t)] = dyv;
    }
  }
};

// Phase 1 of block q: its leaf blocks in order, each through the block's
// tree into the [C][partial_count] array a, keeping what kept_of chose.
// leaf(k, sink) is this thread's leaf.
template <class T, class Item, class Leaf>
__device__ void fused_leaves(const geometry& g, const fused_plan& plan, T* kept, Item* slots, Item* a, Leaf&& leaf) {
  const int t = static_cast<int>(threadIdx.x);
  const int64_t q = blockIdx.x;
  const kept_prefix kp = kept_of(plan, g, q);
  int64_t base = 0;
  for (int64_t i = 0; i < plan.owned(q); ++i) {
    const int64_t k = plan.leaf(q, i);
    const int runs = kept_runs(kp, g, i);
    const shared_sink<T> sink{kept, base, leaf_width(g, k), runs, t};
    slots[t] = leaf(k, sink);
    block_tree(slots, t, g.channel_last);
    const int64_t at = leaf_output(g, k, t);
    if (at >= 0) a[at] = slots[t];
    __syncthreads();
    base += kept_values(plan, g, k, runs);
  }
}

// The merge levels inside the launch, one grid barrier after each: the
// merge kernel's blocks shared among the grid. Returns the [C][1] result.
template <class Item>
__device__ Item* fused_merges(const geometry& g, const fused_plan& plan, Item* slots, Item* a, Item* b,
                              const cg::grid_group& grid) {
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t n = partial_count(g); n > 1;) {
    const int64_t groups = (n + merge_fan_in - 1) / merge_fan_in;
    const int64_t blocks = g.C * groups;
    for (int64_t k = blockIdx.x; k < blocks; k += plan.grid) {
      const int64_t at = merge_input(n, k, t);
      slots[t] = at >= 0 ? a[at] : Item{0, 0, 0};
      block_tree(slots, t, false);
      if (t == 0) b[k] = slots[0];
      __syncthreads();
    }
    Item* swap = a;
    a = b, b = swap;
    n = groups;
    grid.sync();
  }
  return a;
}

// Phase 2 of block q: the leaf blocks it did not keep, last first (the
// values it read last may still be in L2), then the kept ones, their kept
// runs from shared memory. out(e, c, at, dy_at) writes element e of channel
// c from the kept values at `at` (x) and `dy_at` (dy, backward) of the
// block's shared memory, or from global memory when they are -1.
template <class Out>
__device__ void fused_outputs(const geometry& g, const fused_plan& plan, Out&& out) {
  const int t = static_cast<int>(threadIdx.x);
  const int64_t q = blockIdx.x;
  const kept_prefix kp = kept_of(plan, g, q);
  for (int64_t i = plan.owned(q) - 1; i >= kp.count; --i)
    for_each_leaf_value(g, plan.leaf(q, i), t, [&](int, int64_t e, int64_t c) { out(e, c, int64_t{-1}, int64_t{-1}); });
  int64_t base = 0;
  for (int64_t i = 0; i < kp.count; ++i) {
    const int64_t k = plan.leaf(q, i);
    const int w = leaf_width(g, k), runs = kept_runs(kp, g, i);
    for_each_leaf_value(g, k, t, [&](int v, int64_t e, int64_t c) {
      const bool here = v / run_length < runs;
      out(e, c, here ? kept_index(base, w, runs, 0, v, t) : -1, here ? kept_index(base, w, runs, 1, v, t) : -1);
    });
    base += kept_values(plan, g, k, runs);
  }
}

// The fused kernel: forward training (x -> y) or backward (x, dy -> dx;
// Backward), one cooperative launch. Item: the tree's items.
template <class T, bool Backward>
using fused_item = std::conditional_t<Backward, sum_pair<acc_t<T>>, moments<acc_t<T>>>;

template <class T, bool Backward>
__global__ void __launch_bounds__(tile_threads)
    fused_kernel(const T* x, const T* dy, T* out, geometry g, fused_plan plan, channel_params cp, channel_io io,
                 factors<acc_t<T>> f, fused_item<T, Backward>* a, fused_item<T, Backward>* b) {
  using A = acc_t<T>;
  extern __shared__ __align__(16) unsigned char kept_bytes[];
  T* kept = reinterpret_cast<T*>(kept_bytes);
  __shared__ fused_item<T, Backward> slots[tile_threads];
  const cg::grid_group grid = cg::this_grid();
  const int t = static_cast<int>(threadIdx.x);
  const int64_t first_channel = blockIdx.x * int64_t{tile_threads} + t, channel_step = plan.grid * tile_threads;
  if constexpr (Backward) {
    for (int64_t c = first_channel; c < cp.C; c += channel_step) prepare_backward(c, cp, io.mean, f);
    grid.sync();
  }
  const A* mu = f.shift;  // backward's shift, set above
  fused_leaves<T>(g, plan, kept, slots, a, [&](int64_t k, const shared_sink<T>& sink) {
    if constexpr (Backward)
      return g.channel_last ? sums_leaf_cl(x, dy, mu, g, k, t, sink) : sums_leaf_cf(x, dy, mu, g, k, t, sink);
    else
      return g.channel_last ? stats_leaf_cl(x, g, k, t, sink) : stats_leaf_cf(x, g, k, t, sink);
  });
  grid.sync();
  const fused_item<T, Backward>* all = fused_merges(g, plan, slots, a, b, grid);
  for (int64_t c = first_channel; c < cp.C; c += channel_step) {
    if constexpr (Backward)
      finalize_backward(c, all[c], cp, io.invstd, io.var, io, f);
    else
      finalize_training(c, all[c], cp, io, f);
  }
  grid.sync();
  fused_outputs(g, plan, [&](int64_t e, int64_t c, int64_t at, int64_t dy_at) {
    const T xv = at < 0 ? x[e] : kept[at];
    if constexpr (Backward) {
      const T dyv = at < 0 ? dy[e] : kept[dy_at];
      out[e] = dx_element<T, A>(xv, dyv, f.shift[c], f.bias[c], f.coef[c], f.scale[c]);
    } else {
      out[e] = affine_element<T, A>(xv, f.shift[c], f.scale[c], f.bias[c]);
    }
  });
}

constexpr std::size_t align_up(std::size_t v) { return (v + 255) / 256 * 256; }
constexpr std::size_t max_item = sizeof(moments<double>);
static_assert(sizeof(sum_pair<double>) <= max_item, "workspace items");

// The workspace: two partial-result buffers (ping-pong through the merge
// levels) and four per-channel factor arrays.
struct workspace_layout {
  std::size_t partial_a, partial_b, factor, total;
};

workspace_layout layout_of(const problem& p) {
  const geometry g = geometry_of(p);
  const auto np = static_cast<std::size_t>(partial_count(g));
  const auto C = static_cast<std::size_t>(p.c);
  workspace_layout w{};
  w.partial_a = 0;
  w.partial_b = align_up(C * np * max_item);
  w.factor = w.partial_b + align_up(C * ((np + merge_fan_in - 1) / merge_fan_in) * max_item);
  w.total = w.factor + 4 * align_up(C * sizeof(double));
  return w;
}

// Runs the merge levels from a [C][np] buffer at a; returns where the
// [C][1] result ends up (a or b).
template <class Item>
Item* merge_levels(const geometry& g, Item* a, Item* b, cudaStream_t s) {
  for (int64_t n = partial_count(g); n > 1;) {
    const int64_t groups = (n + merge_fan_in - 1) / merge_fan_in;
    const int64_t blocks = g.C * groups;
    merge_kernel<Item><<<grid_for(blocks), tile_threads, 0, s>>>(a, b, n, blocks);
    std::swap(a, b);
    n = groups;
  }
  return a;
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(cuda_error(what, e));
}

// What the fused schedule needs to know of the current device, read once.
struct device_info {
  bool cooperative;
  int sms;
  std::size_t smem_per_sm, smem_per_block, system_reserve;
};

device_info current_device_info() {
  static std::mutex mutex;
  static std::map<int, device_info> cache;
  int dev = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = cache.find(dev); it != cache.end()) return it->second;
  int coop = 0, sms = 0, per_sm = 0, per_block = 0, reserve = 0;
  check(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev), "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, dev), "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&per_block, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev), "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&reserve, cudaDevAttrReservedSharedMemoryPerBlock, dev), "cudaDeviceGetAttribute");
  const device_info d{coop != 0, sms, static_cast<std::size_t>(per_sm), static_cast<std::size_t>(per_block),
                      static_cast<std::size_t>(reserve)};
  cache[dev] = d;
  return d;
}

// A fused kernel's static shared memory; on first use per device, its
// dynamic shared memory limit is raised to what the device allows.
template <class Kernel>
std::size_t static_smem_of(Kernel* kernel, const device_info& d) {
  static std::mutex mutex;
  static std::map<std::pair<int, const void*>, std::size_t> cache;  // (device, kernel)
  int dev = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  const std::pair<int, const void*> key{dev, reinterpret_cast<const void*>(kernel)};
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  cudaFuncAttributes attr{};
  check(cudaFuncGetAttributes(&attr, kernel), "cudaFuncGetAttributes");
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(d.smem_per_block - attr.sharedSizeBytes)),
        "cudaFuncSetAttribute");
  cache[key] = attr.sharedSizeBytes;
  return attr.sharedSizeBytes;
}

// The fused plan for kernel on the current device (grid 0 where the device
// cannot launch cooperatively or no grid fits).
template <class Kernel>
fused_plan plan_on_device(Kernel* kernel, const geometry& g, int tensors, std::size_t value_bytes) {
  const device_info d = current_device_info();
  if (!d.cooperative) return {0, leaf_blocks(g), 0, tensors};
  const std::size_t stat = static_smem_of(kernel, d);
  const device_room room{d.sms, d.smem_per_sm, d.smem_per_block - stat, stat + d.system_reserve};
  return plan_fused(g, tensors, value_bytes, room, [&](std::size_t bytes) {
    int n = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, tile_threads, bytes) != cudaSuccess) return 0;
    return n;
  });
}

// Launches the fused kernel where the device has a plan for it; false
// (nothing launched) where the launches must run instead.
template <class T, bool Backward>
bool launch_fused(geometry g, channel_params cp, channel_io io, factors<acc_t<T>> f, const T* x, const T* dy,
                  void* out, fused_item<T, Backward>* a, fused_item<T, Backward>* b, cudaStream_t s) {
  auto* kernel = fused_kernel<T, Backward>;
  fused_plan plan = plan_on_device(kernel, g, Backward ? 2 : 1, sizeof(T));
  if (plan.grid == 0) return false;
  T* o = static_cast<T*>(out);
  void* args[] = {&x, &dy, &o, &g, &plan, &cp, &io, &f, &a, &b};
  check(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(kernel), dim3(static_cast<unsigned>(plan.grid)),
                                    dim3(tile_threads), args, static_cast<std::size_t>(plan.capacity) * sizeof(T), s),
        "cudaLaunchCooperativeKernel");
  return true;
}

// What run_on_device does for p with the fused schedule (schedule_on_device).
template <class T>
std::string describe_fused(const problem& p) {
  const geometry g = geometry_of(p);
  if (p.op == op_kind::forward_inference) return "launches (inference: finalize, then one elementwise pass)";
  const int tensors = p.op == op_kind::backward ? 2 : 1;
  const fused_plan plan = p.op == op_kind::backward ? plan_on_device(fused_kernel<T, true>, g, 2, sizeof(T))
                                                    : plan_on_device(fused_kernel<T, false>, g, 1, sizeof(T));
  if (plan.grid == 0) return "launches (the device cannot launch a cooperative grid for it)";
  const kept_share share = kept_share_of(plan, g);
  return "fused: " + std::to_string(plan.grid) + " blocks, " + std::to_string(100 * share.kept / share.all) +
         "% of the values kept (" +
         std::to_string(static_cast<std::size_t>(plan.capacity) * sizeof(T) / 1024) + " KB of " +
         std::string(tensors == 2 ? "x and dy" : "x") + " per block)";
}

template <class T>
void launch(const problem& p, const kernel_io& io, char* ws, cudaStream_t s, schedule sched) {
  using A = acc_t<T>;
  const geometry g = geometry_of(p);
  const channel_params cp = channel_params_of(p);
  const channel_io cio = channel_io_of(io);
  const workspace_layout w = layout_of(p);
  const std::size_t fa = align_up(static_cast<std::size_t>(p.c) * sizeof(double));
  const factors<A> f{reinterpret_cast<A*>(ws + w.factor), reinterpret_cast<A*>(ws + w.factor + fa),
                     reinterpret_cast<A*>(ws + w.factor + 2 * fa), reinterpret_cast<A*>(ws + w.factor + 3 * fa)};
  const int64_t count = element_count(p);
  const unsigned channel_grid = grid_for((p.c + tile_threads - 1) / tile_threads);
  const unsigned element_grid = grid_for((count + tile_threads * elements_per_thread - 1) /
                                         (tile_threads * elements_per_thread));
  const auto* x = static_cast<const T*>(io.x);
  switch (p.op) {
    case op_kind::forward_training: {
      auto* a = reinterpret_cast<moments<A>*>(ws + w.partial_a);
      auto* b = reinterpret_cast<moments<A>*>(ws + w.partial_b);
      if (sched == schedule::fused && launch_fused<T, false>(g, cp, cio, f, x, nullptr, io.y, a, b, s)) return;
      stats_kernel<T><<<grid_for(leaf_blocks(g)), tile_threads, 0, s>>>(x, g, a, leaf_blocks(g));
      const moments<A>* all = merge_levels(g, a, b, s);
      finalize_training_kernel<A><<<channel_grid, tile_threads, 0, s>>>(all, cp, cio, f);
      affine_kernel<T, A><<<element_grid, tile_threads, 0, s>>>(x, static_cast<T*>(io.y), g, count, f);
      return;
    }
    case op_kind::forward_inference:
      finalize_inference_kernel<A><<<channel_grid, tile_threads, 0, s>>>(cp, cio, f);
      affine_kernel<T, A><<<element_grid, tile_threads, 0, s>>>(x, static_cast<T*>(io.y), g, count, f);
      return;
    case op_kind::backward: {
      const auto* dy = static_cast<const T*>(io.dy);
      auto* a = reinterpret_cast<sum_pair<A>*>(ws + w.partial_a);
      auto* b = reinterpret_cast<sum_pair<A>*>(ws + w.partial_b);
      if (sched == schedule::fused && launch_fused<T, true>(g, cp, cio, f, x, dy, io.dx, a, b, s)) return;
      prepare_backward_kernel<A><<<channel_grid, tile_threads, 0, s>>>(cp, io.mean, f);
      sums_kernel<T><<<grid_for(leaf_blocks(g)), tile_threads, 0, s>>>(x, dy, f.shift, g, a, leaf_blocks(g));
      const sum_pair<A>* all = merge_levels(g, a, b, s);
      finalize_backward_kernel<A><<<channel_grid, tile_threads, 0, s>>>(all, cp, io.invstd, io.var, cio, f);
      dx_kernel<T, A><<<element_grid, tile_threads, 0, s>>>(x, dy, static_cast<T*>(io.dx), g, count, f);
      return;
    }
    case op_kind::merge_statistics: return;  // refused by unsupported_reason (call.hpp)
  }
}

class cuda_kernel final : public kernel {
 public:
  explicit cuda_kernel(schedule s) : schedule_(s) {}
  std::string name() const override { return "cuda"; }
  // Data tensors in another storage are gathered dense in p.lay on the host
  // before the copy to the device (docs/cuda.md).
  bool takes_strides() const override { return true; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    return error_result_of("cuda", [&]() -> kernel_result {
      validate(p);
      return run_densified(p, io, [&](const problem& dp, const kernel_io& dio) { return run_dense(dp, dio); });
    });
  }

 private:
  kernel_result run_dense(const problem& p, const kernel_io& io) {
    return error_result_of("cuda", [&]() -> kernel_result {
      if (std::string why = device_unavailable(); !why.empty()) return {kernel_status::unimplemented, why};
      validate(p);
      if (std::string why = unsupported_reason(p); !why.empty())
        return {kernel_status::unimplemented, "cuda: " + why};
      if (std::string why = missing_buffers(p, io); !why.empty()) return {kernel_status::error, "cuda: " + why};
      // Every buffer the harness gave goes to the device (running statistics
      // are read and rewritten); the written ones come back.
      const std::vector<io_slot> slots = io_slots(p.op);
      std::vector<device_buffer> buffers(slots.size());
      std::vector<std::size_t> bytes(slots.size());
      std::vector<void*> device(slots.size(), nullptr);
      for (std::size_t i = 0; i < slots.size(); ++i) {
        const void* host = io_buffer(io, slots[i].name);
        if (host == nullptr) continue;
        bytes[i] = static_cast<std::size_t>(is_data_tensor(slots[i].name) ? element_count(p) : p.c) *
                   size_of(is_data_tensor(slots[i].name) ? p.data_type : p.param_type);
        check(cudaMalloc(&buffers[i].ptr, bytes[i]), "cudaMalloc");
        check(cudaMemcpy(buffers[i].ptr, host, bytes[i], cudaMemcpyHostToDevice), "cudaMemcpy to the device");
        device[i] = buffers[i].ptr;
      }
      const kernel_io dio = bind_io(p.op, [&](const std::string& name) -> void* {
        for (std::size_t i = 0; i < slots.size(); ++i)
          if (name == slots[i].name) return device[i];
        return nullptr;
      });
      device_buffer ws;
      check(cudaMalloc(&ws.ptr, workspace_bytes(p)), "cudaMalloc (workspace)");
      const kernel_result r = run_on_device(p, dio, ws.ptr, nullptr, schedule_);
      if (r.status != kernel_status::ok) return r;
      check(cudaDeviceSynchronize(), "the kernels");
      for (std::size_t i = 0; i < slots.size(); ++i) {
        if (!slots[i].written || device[i] == nullptr) continue;
        check(cudaMemcpy(io_output(io, slots[i].name), device[i], bytes[i], cudaMemcpyDeviceToHost),
              "cudaMemcpy from the device");
      }
      return {};
    });
  }

  schedule schedule_;
};

}  // namespace

std::string device_unavailable() { return no_device_reason(); }

std::size_t workspace_bytes(const problem& p) { return layout_of(p).total; }

kernel_result run_on_device(const problem& p, const kernel_io& io, void* workspace, void* stream, schedule sched) {
  return error_result_of("cuda", [&]() -> kernel_result {
    validate(p);
    if (std::string why = unsupported_reason(p); !why.empty()) return {kernel_status::unimplemented, "cuda: " + why};
    if (std::string why = missing_buffers(p, io); !why.empty()) return {kernel_status::error, "cuda: " + why};
    auto* ws = static_cast<char*>(workspace);
    auto s = static_cast<cudaStream_t>(stream);
    switch (p.data_type) {
      case dtype::f64: launch<double>(p, io, ws, s, sched); break;
      case dtype::f32: launch<float>(p, io, ws, s, sched); break;
      case dtype::f16: launch<f16>(p, io, ws, s, sched); break;
      case dtype::bf16: launch<bf16>(p, io, ws, s, sched); break;
    }
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess)
      return {kernel_status::error, "cuda: " + cuda_error("kernel launch", e)};
    return {};
  });
}

std::string schedule_on_device(const problem& p, schedule s) {
  if (p.op == op_kind::merge_statistics) return "none (merge_statistics has no device kernel)";
  if (s == schedule::launches) return "launches";
  switch (p.data_type) {
    case dtype::f64: return describe_fused<double>(p);
    case dtype::f32: return describe_fused<float>(p);
    case dtype::f16: return describe_fused<f16>(p);
    case dtype::bf16: return describe_fused<bf16>(p);
  }
  return {};
}

std::unique_ptr<kernel> make_cuda_kernel(schedule s) { return std::make_unique<cuda_kernel>(s); }

}  // namespace bncheck::cuda
