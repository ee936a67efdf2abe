// The CUDA kernel's host emulation, kernel "cuda-host": executes on the CPU,
// serially, exactly the launches of cuda_kernel.cu (same blocks, same
// threads' leaves, same tree levels, same merge kernels, same per-channel and
// per-element functions from arith.hpp and decomposition.hpp), so the golden
// corpus and the property suite judge the device's arithmetic on a machine
// without a GPU. Each block below mirrors one kernel of cuda_kernel.cu; a
// __syncthreads() there is the end of a loop over threads here.
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "impl/cuda/call.hpp"
#include "impl/cuda/cuda_kernel.hpp"

namespace bncheck::cuda {
namespace {

// The statistics or sums kernel, then merge kernels until one item per
// channel is left: returns that item for each channel. leaf(k, t) is thread
// t's item in block k.
template <class Item, class Leaf>
std::vector<Item> reduce_channels(const geometry& g, Leaf leaf) {
  const int64_t np = partial_count(g);
  std::vector<Item> partial(static_cast<std::size_t>(g.C * np), Item{0, 0, 0});
  std::vector<Item> slots(tile_threads);
  const bool rows = g.channel_last;
  // Statistics kernel: leaf_blocks(g) blocks of 256 threads.
  for (int64_t k = 0; k < leaf_blocks(g); ++k) {
    for (int t = 0; t < tile_threads; ++t) slots[t] = leaf(k, t);
    for (int h = 1; h < tree_levels_end(rows); h *= 2)
      for (int t = 0; t < tile_threads; ++t) tree_step(slots.data(), t, h, rows);
    for (int t = 0; t < tile_threads; ++t) {
      const int64_t at = leaf_output(g, k, t);
      if (at >= 0) partial[static_cast<std::size_t>(at)] = slots[t];
    }
  }
  // Merge kernels: C * ceil(n/256) blocks per level.
  for (int64_t n = np; n > 1;) {
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

template <class T>
void run_typed(const problem& p, const kernel_io& io) {
  using A = acc_t<T>;
  const geometry g = geometry_of(p);
  const channel_params cp = channel_params_of(p);
  const channel_io cio = channel_io_of(io);
  const int64_t count = element_count(p);
  factor_arrays<A> f(p.c);
  const auto* x = static_cast<const T*>(io.x);
  switch (p.op) {
    case op_kind::forward_training: {
      const auto all = reduce_channels<moments<A>>(g, [&](int64_t k, int t) {
        return g.channel_last ? stats_leaf_cl(x, g, k, t) : stats_leaf_cf(x, g, k, t);
      });
      for (int64_t c = 0; c < p.c; ++c) finalize_training(c, all[static_cast<std::size_t>(c)], cp, cio, f.view());
      affine<T, A>(g, count, x, static_cast<T*>(io.y), f);
      return;
    }
    case op_kind::forward_inference:
      for (int64_t c = 0; c < p.c; ++c) finalize_inference(c, cp, cio, f.view());
      affine<T, A>(g, count, x, static_cast<T*>(io.y), f);
      return;
    case op_kind::backward: {
      const auto* dy = static_cast<const T*>(io.dy);
      for (int64_t c = 0; c < p.c; ++c) prepare_backward(c, cp, io.mean, f.view());
      const A* mu = f.shift.data();
      const auto all = reduce_channels<sum_pair<A>>(g, [&](int64_t k, int t) {
        return g.channel_last ? sums_leaf_cl(x, dy, mu, g, k, t) : sums_leaf_cf(x, dy, mu, g, k, t);
      });
      for (int64_t c = 0; c < p.c; ++c)
        finalize_backward(c, all[static_cast<std::size_t>(c)], cp, io.invstd, io.var, cio, f.view());
      auto* dx = static_cast<T*>(io.dx);
      for (int64_t e = 0; e < count; ++e) {
        const int64_t c = g.channel_of(e);
        dx[e] = dx_element<T, A>(x[e], dy[e], f.shift[c], f.bias[c], f.coef[c], f.scale[c]);
      }
      return;
    }
    case op_kind::merge_statistics: return;  // refused by unsupported_reason (call.hpp)
  }
}

class cuda_host_kernel final : public kernel {
 public:
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
        case dtype::f64: run_typed<double>(p, io); break;
        case dtype::f32: run_typed<float>(p, io); break;
        case dtype::f16: run_typed<f16>(p, io); break;
        case dtype::bf16: run_typed<bf16>(p, io); break;
      }
      return {};
    }
  }
};

}  // namespace

std::unique_ptr<kernel> make_cuda_host_kernel() { return std::make_unique<cuda_host_kernel>(); }

}  // namespace bncheck::cuda
