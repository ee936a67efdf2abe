// The CUDA kernel's host emulation, kernel "cuda-host": executes on the CPU,
// serially, exactly what cuda_kernel.cu runs (same blocks, same threads'
// leaves, same tree levels, same merge kernels, same per-channel and
// per-element functions from arith.hpp and decomposition.hpp), in either
// schedule: the launches, or the fused kernel on an emulated device
// (fused.hpp), as the device would choose. So the golden corpus and the
// property suite judge the device's arithmetic, and the fused kernel's use of
// shared memory, on a machine without a GPU. Each block below mirrors a
// kernel or phase of cuda_kernel.cu; a __syncthreads() there is the end of a
// loop over threads here, a grid barrier the end of a loop over blocks.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "impl/cuda/call.hpp"
#include "impl/cuda/cuda_kernel.hpp"
#include "impl/cuda/fused.hpp"

namespace bncheck::cuda {
namespace {

// Merge kernels: C * ceil(n/256) blocks per level, from [C][partial_count]
// items until one per channel is left.
template <class Item>
std::vector<Item> merge_levels(const geometry& g, std::vector<Item> partial) {
  std::vector<Item> slots(tile_threads);
  for (int64_t n = partial_count(g); n > 1;) {
    const int64_t groups = (n + merge_fan_in - 1) / merge_fan_in;
    std::vector<Item> out(static_cast<std::size_t>(g.C * groups));
    for (int64_t k = 0; k < g.C * groups; ++k) {
      for (int t = 0; t < tile_threads; ++t) {
        const int64_t at = merge_input(n, k, t);
        slots[t] = at >= 0 ? partial[static_cast<std::size_t>(at)] : Item{0, 0, 0};
      }
      for (int h = 1; h < tile_threads; h *= 2)
        for (int t = 0; t < tile_threads; ++t) tree_step(slots.data(), t, h, false);
      out[static_cast<std::size_t>(k)] = slots[0];
    }
    partial.swap(out);
    n = groups;
  }
  return partial;
}

// One statistics (or sums) block k: thread t's leaf(k, t) for every t, the
// block's tree, its outputs into partial.
template <class Item, class Leaf>
void leaf_block(const geometry& g, int64_t k, std::vector<Item>& slots, std::vector<Item>& partial, Leaf&& leaf) {
  const bool rows = g.channel_last;
  for (int t = 0; t < tile_threads; ++t) slots[t] = leaf(k, t);
  for (int h = 1; h < tree_levels_end(rows); h *= 2)
    for (int t = 0; t < tile_threads; ++t) tree_step(slots.data(), t, h, rows);
  for (int t = 0; t < tile_threads; ++t) {
    const int64_t at = leaf_output(g, k, t);
    if (at >= 0) partial[static_cast<std::size_t>(at)] = slots[t];
  }
}

// The launches: the statistics or sums kernel, then merge kernels; returns
// one item per channel. leaf(k, t) is thread t's item in block k.
template <class Item, class Leaf>
std::vector<Item> reduce_channels(const geometry& g, Leaf leaf) {
  std::vector<Item> partial(static_cast<std::size_t>(g.C * partial_count(g)), Item{0, 0, 0});
  std::vector<Item> slots(tile_threads);
  for (int64_t k = 0; k < leaf_blocks(g); ++k) leaf_block(g, k, slots, partial, leaf);
  return merge_levels(g, std::move(partial));
}

template <class A>
struct factor_arrays {
  explicit factor_arrays(int64_t c)
      : shift(static_cast<std::size_t>(c)), scale(shift.size()), bias(shift.size()), coef(shift.size()) {}
  factors<A> view() { return {shift.data(), scale.data(), bias.data(), coef.data()}; }
  std::vector<A> shift, scale, bias, coef;
};

// The elementwise kernels: every element independently, so any order gives
// the device's bits.
template <class T, class A>
void affine(const geometry& g, int64_t count, const T* x, T* y, const factor_arrays<A>& f) {
  for (int64_t e = 0; e < count; ++e) {
    const int64_t c = g.channel_of(e);
    y[e] = affine_element<T, A>(x[e], f.shift[c], f.scale[c], f.bias[c]);
  }
}

// The fused schedule (fused.hpp, cuda_kernel.cu's fused kernels), block by
// block: every block's phase before any block's next phase, as the grid
// barriers order them. Each block's shared memory is a vector read and
// written with bounds checks; a read of a value never kept, or an element
// written twice or never, throws (the device would compute wrong bits or
// race), so the corpus and property runs through cuda-host check the
// choreography as well as the arithmetic.
template <class T>
class fused_emulation {
 public:
  fused_emulation(const geometry& g, const fused_plan& plan, int64_t count)
      : g_(g), plan_(plan), pool_(static_cast<std::size_t>(plan.grid)), written_(static_cast<std::size_t>(count), 0) {
    for (auto& p : pool_) p.assign(static_cast<std::size_t>(plan.capacity), slot{});
  }

  // Phase 1: block q's leaf blocks in order, keeping the values of its kept
  // prefix. leaf(k, t, sink) is thread t's leaf with that sink.
  template <class Item, class Leaf>
  std::vector<Item> leaves(Leaf&& leaf) {
    std::vector<Item> partial(static_cast<std::size_t>(g_.C * partial_count(g_)), Item{0, 0, 0});
    std::vector<Item> slots(tile_threads);
    for (int64_t q = 0; q < plan_.grid; ++q) {
      const kept_prefix kept = kept_of(plan_, g_, q);
      int64_t base = 0;
      for (int64_t i = 0; i < plan_.owned(q); ++i) {
        const int64_t k = plan_.leaf(q, i);
        const int runs = kept_runs(kept, g_, i);
        const int w = leaf_width(g_, k);
        leaf_block(g_, k, slots, partial, [&](int64_t kk, int t) {
          return leaf(kk, t, [&, t](int v, auto... values) {
            if (v / run_length >= runs) return;
            int m = 0;
            ((at(q, kept_index(base, w, runs, m++, v, t)) = slot{values, true}), ...);
          });
        });
        base += kept_values(plan_, g_, k, runs);
      }
      if (base != kept.used) throw std::logic_error("fused emulation: kept values do not add up");
    }
    return partial;
  }

  // Phase 2: block q's leaf blocks not kept, last first, then the kept ones;
  // element(e, c, values...) writes output element e (channel c) from the
  // tensors' values.
  template <int Tensors, class Element>
  void elements(const T* const (&inputs)[2], Element&& element) {
    if (plan_.tensors != Tensors) throw std::logic_error("fused emulation: the plan is for another op");
    for (int64_t q = 0; q < plan_.grid; ++q) {
      const kept_prefix kept = kept_of(plan_, g_, q);
      for (int64_t i = plan_.owned(q) - 1; i >= kept.count; --i)
        each(plan_.leaf(q, i), [&](int, int, int64_t e, int64_t c) {
          if constexpr (Tensors == 1)
            element(e, c, inputs[0][e]);
          else
            element(e, c, inputs[0][e], inputs[1][e]);
        });
      int64_t base = 0;
      for (int64_t i = 0; i < kept.count; ++i) {
        const int64_t k = plan_.leaf(q, i);
        const int w = leaf_width(g_, k), runs = kept_runs(kept, g_, i);
        each(k, [&](int t, int v, int64_t e, int64_t c) {
          const bool here = v / run_length < runs;
          const T x = here ? read(q, kept_index(base, w, runs, 0, v, t)) : inputs[0][e];
          if constexpr (Tensors == 1) element(e, c, x);
          else element(e, c, x, here ? read(q, kept_index(base, w, runs, 1, v, t)) : inputs[1][e]);
        });
        base += kept_values(plan_, g_, k, runs);
      }
    }
    for (std::size_t e = 0; e < written_.size(); ++e)
      if (written_[e] != 1)
        throw std::logic_error("fused emulation: element " + std::to_string(e) + " written " +
                               std::to_string(written_[e]) + " times");
  }

 private:
  struct slot {
    T value;
    bool filled;
  };

  slot& at(int64_t q, int64_t i) { return pool_.at(static_cast<std::size_t>(q)).at(static_cast<std::size_t>(i)); }
  T read(int64_t q, int64_t i) {
    const slot& s = at(q, i);
    if (!s.filled) throw std::logic_error("fused emulation: a kept value read before it was written");
    return s.value;
  }
  // f(t, v, e, c) for every value of leaf block k, thread by thread.
  template <class F>
  void each(int64_t k, F&& f) {
    for (int t = 0; t < tile_threads; ++t)
      for_each_leaf_value(g_, k, t, [&](int v, int64_t e, int64_t c) {
        ++written_.at(static_cast<std::size_t>(e));
        f(t, v, e, c);
      });
  }

  geometry g_;
  fused_plan plan_;
  std::vector<std::vector<slot>> pool_;
  std::vector<int32_t> written_;
};

// The fused kernel's static shared memory: the tree's 256 slots of the
// largest item (cuda_kernel.cu reads the real figure from the compiled kernel).
constexpr std::size_t emulated_static_smem = tile_threads * sizeof(moments<double>);

template <class T>
void run_typed(const problem& p, const kernel_io& io, const emulated_device& d) {
  using A = acc_t<T>;
  const geometry g = geometry_of(p);
  const channel_params cp = channel_params_of(p);
  const channel_io cio = channel_io_of(io);
  const int64_t count = element_count(p);
  factor_arrays<A> f(p.c);
  const auto* x = static_cast<const T*>(io.x);
  // The device's choice (cuda_kernel.cu): fused for training and backward
  // where a plan exists, the launches otherwise.
  const int tensors = p.op == op_kind::backward ? 2 : 1;
  const fused_plan plan = d.sched == schedule::fused && p.op != op_kind::forward_inference
                              ? emulated_plan(g, tensors, sizeof(T), d)
                              : fused_plan{0, 0, 0, tensors};
  switch (p.op) {
    case op_kind::forward_training: {
      auto* y = static_cast<T*>(io.y);
      auto stats = [&](int64_t k, int t, auto&& sink) {
        return g.channel_last ? stats_leaf_cl(x, g, k, t, sink) : stats_leaf_cf(x, g, k, t, sink);
      };
      if (plan.grid == 0) {
        const auto all = reduce_channels<moments<A>>(g, [&](int64_t k, int t) { return stats(k, t, no_sink{}); });
        for (int64_t c = 0; c < p.c; ++c) finalize_training(c, all[static_cast<std::size_t>(c)], cp, cio, f.view());
        affine<T, A>(g, count, x, y, f);
        return;
      }
      fused_emulation<T> fused(g, plan, count);
      const auto all = merge_levels(g, fused.template leaves<moments<A>>(stats));
      for (int64_t c = 0; c < p.c; ++c) finalize_training(c, all[static_cast<std::size_t>(c)], cp, cio, f.view());
      const T* const inputs[2] = {x, nullptr};
      fused.template elements<1>(inputs, [&](int64_t e, int64_t c, T xv) {
        y[e] = affine_element<T, A>(xv, f.shift[c], f.scale[c], f.bias[c]);
      });
      return;
    }
    case op_kind::forward_inference:
      for (int64_t c = 0; c < p.c; ++c) finalize_inference(c, cp, cio, f.view());
      affine<T, A>(g, count, x, static_cast<T*>(io.y), f);
      return;
    case op_kind::backward: {
      const auto* dy = static_cast<const T*>(io.dy);
      auto* dx = static_cast<T*>(io.dx);
      for (int64_t c = 0; c < p.c; ++c) prepare_backward(c, cp, io.mean, f.view());
      const A* mu = f.shift.data();
      auto sums = [&](int64_t k, int t, auto&& sink) {
        return g.channel_last ? sums_leaf_cl(x, dy, mu, g, k, t, sink) : sums_leaf_cf(x, dy, mu, g, k, t, sink);
      };
      auto dx_of = [&](int64_t e, int64_t c, T xv, T dyv) {
        dx[e] = dx_element<T, A>(xv, dyv, f.shift[c], f.bias[c], f.coef[c], f.scale[c]);
      };
      if (plan.grid == 0) {
        const auto all = reduce_channels<sum_pair<A>>(g, [&](int64_t k, int t) { return sums(k, t, no_sink{}); });
        for (int64_t c = 0; c < p.c; ++c)
          finalize_backward(c, all[static_cast<std::size_t>(c)], cp, io.invstd, io.var, cio, f.view());
        for (int64_t e = 0; e < count; ++e) dx_of(e, g.channel_of(e), x[e], dy[e]);
        return;
      }
      fused_emulation<T> fused(g, plan, count);
      const auto all = merge_levels(g, fused.template leaves<sum_pair<A>>(sums));
      for (int64_t c = 0; c < p.c; ++c)
        finalize_backward(c, all[static_cast<std::size_t>(c)], cp, io.invstd, io.var, cio, f.view());
      const T* const inputs[2] = {x, dy};
      fused.template elements<2>(inputs, dx_of);
      return;
    }
    case op_kind::merge_statistics: return;  // refused by unsupported_reason (call.hpp)
  }
}

class cuda_host_kernel final : public kernel {
 public:
  explicit cuda_host_kernel(const emulated_device& d) : device_(d) {}
  std::string name() const override { return "cuda-host"; }

  // Data tensors in another storage are computed dense in p.lay, as the cuda kernel does.
  bool takes_strides() const override { return true; }

  kernel_result run(const problem& given, const kernel_io& given_io) override {
    return error_result_of("cuda-host", [&]() -> kernel_result {
      validate(given);
      return run_densified(given, given_io, [&](const problem& p, const kernel_io& io) { return run_dense(p, io); });
    });
  }

 private:
  kernel_result run_dense(const problem& p, const kernel_io& io) {
    {
      if (std::string why = unsupported_reason(p); !why.empty())
        return {kernel_status::unimplemented, "cuda-host: " + why};
      if (std::string why = missing_buffers(p, io); !why.empty()) return {kernel_status::error, "cuda-host: " + why};
      switch (p.data_type) {
        case dtype::f64: run_typed<double>(p, io, device_); break;
        case dtype::f32: run_typed<float>(p, io, device_); break;
        case dtype::f16: run_typed<f16>(p, io, device_); break;
        case dtype::bf16: run_typed<bf16>(p, io, device_); break;
      }
      return {};
    }
  }

  emulated_device device_;
};

}  // namespace

// The device's occupancy as the emulation models it: shared memory and the
// emulated register limit.
fused_plan emulated_plan(const geometry& g, int tensors, std::size_t value_bytes, const emulated_device& d) {
  const std::size_t reserved = emulated_static_smem + 1024;
  const device_room room{d.sms, d.smem_per_sm, d.smem_per_block, reserved};
  return plan_fused(g, tensors, value_bytes, room, [&](std::size_t bytes) {
    return static_cast<int>(
        std::min<std::size_t>(static_cast<std::size_t>(d.max_blocks_per_sm), d.smem_per_sm / (bytes + reserved)));
  });
}

std::unique_ptr<kernel> make_cuda_host_kernel(const emulated_device& d) {
  return std::make_unique<cuda_host_kernel>(d);
}

}  // namespace bncheck::cuda
