// The libtorch adapter: the harness's buffers borrowed as ATen tensors
// (at::from_blob with each data tensor's own strides), at::native_batch_norm
// and at::native_batch_norm_backward on them, results written into the
// output buffers through strided views. The only translation unit that
// includes ATen. It is built into a loadable module (libtorch_loader.hpp)
// that carries its own copy of bncheck_core (adapters/CMakeLists.txt).
#include "adapters/libtorch/libtorch_kernel.hpp"

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/native_batch_norm.h>
#include <ATen/ops/native_batch_norm_backward.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace bncheck::libtorch {
namespace {

std::string format_name(dtype t) {
  switch (t) {
    case dtype::f64: return "f64";
    case dtype::f32: return "f32";
    case dtype::f16: return "f16";
    case dtype::bf16: return "bf16";
  }
  return "?";
}

// BNCHECK_THREADS if it is a positive integer, else 2.
int thread_count() {
  const char* s = std::getenv("BNCHECK_THREADS");
  if (s == nullptr) return 2;
  char* end = nullptr;
  const long n = std::strtol(s, &end, 10);
  return end != s && *end == '\0' && n > 0 && n < 4096 ? static_cast<int>(n) : 2;
}

at::ScalarType scalar_type(dtype t) {
  switch (t) {
    case dtype::f64: return at::kDouble;
    case dtype::f32: return at::kFloat;
    case dtype::f16: return at::kHalf;
    case dtype::bf16: return at::kBFloat16;
  }
  return at::kFloat;
}

// What libtorch 1.13's CPU batch norm accepts (measured: anything else
// throws): equal data and parameter formats in f32 or f64, and bf16 data with
// f32 parameters. f16 has no CPU kernel in 1.13.
bool supported_formats(const problem& p) {
  if (p.data_type == p.param_type) return p.data_type == dtype::f32 || p.data_type == dtype::f64;
  return p.data_type == dtype::bf16 && p.param_type == dtype::f32;
}

// Logical sizes (N, C, [D, H, W]) and the strides of data tensor `name` as
// data_strides(p, name) gives them: dense in p.lay (nhwc and ndhwc are
// PyTorch's channels_last and channels_last_3d), the other format of its
// rank, or a channel slice of a wider tensor, which ATen sees as the
// non-contiguous view t[:, first:first+c] that a user's slicing makes.
struct geometry {
  std::vector<int64_t> sizes, strides;
};

geometry geometry_of(const problem& p, const char* name) {
  std::vector<int64_t> strides = data_strides(p, name);
  switch (spatial_rank(p.lay)) {
    case 0: return {{p.n, p.c}, std::move(strides)};
    case 2: return {{p.n, p.c, p.h, p.w}, std::move(strides)};
    default: return {{p.n, p.c, p.d, p.h, p.w}, std::move(strides)};
  }
}

// Borrows the harness's buffer of data tensor `name` (its pointer is at
// element (0, 0, 0)); ATen never frees it. Inputs are only read (the
// const_cast is from_blob's signature); outputs are written through the view,
// which touches the tensor's elements and nothing between them.
at::Tensor data_tensor(const problem& p, const char* name, const void* data) {
  const geometry g = geometry_of(p, name);
  return at::from_blob(const_cast<void*>(data), g.sizes, g.strides, at::TensorOptions().dtype(scalar_type(p.data_type)));
}

at::Tensor channel_tensor(const problem& p, const void* data) {
  return at::from_blob(const_cast<void*>(data), {p.c}, at::TensorOptions().dtype(scalar_type(p.param_type)));
}

class libtorch_kernel final : public kernel {
 public:
  libtorch_kernel() { at::set_num_threads(thread_count()); }

  std::string name() const override { return "libtorch"; }

  /// Every storage: libtorch receives x and dy with their own strides, as a
  /// user's permuted or sliced tensors reach it.
  bool takes_strides() const override { return true; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    try {
      if (p.op == op_kind::merge_statistics)
        return {kernel_status::unimplemented, "libtorch: PyTorch's merge, batch_norm_gather_stats_with_counts, is dispatched to CUDA only: the CPU library has none"};
      if (!supported_formats(p))
        return {kernel_status::unimplemented,
                "libtorch: the CPU batch norm of libtorch 1.13 takes f32:f32, f64:f64 or bf16:f32 "
                "(data:parameters), not " +
                    format_name(p.data_type) + ":" + format_name(p.param_type)};
      switch (p.op) {
        case op_kind::merge_statistics: break;  // refused at the top of run()
        case op_kind::forward_training:
          if (p.prof == profile::onnx)
            return {kernel_status::unimplemented,
                    "libtorch: PyTorch updates the running statistics with the pytorch profile's formulas "
                    "(momentum on the batch statistic, unbiased variance), not onnx's"};
          forward_training(p, io);
          return {kernel_status::ok, "", {"var"}};
        case op_kind::forward_inference: forward_inference(p, io); break;
        case op_kind::backward: backward(p, io); break;
      }
      return {};
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (const auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);  // c10 appends a backtrace
      return {kernel_status::error, "libtorch: " + what};
    }
  }

 private:
  // native_batch_norm(training) computes y, save_mean and save_invstd =
  // 1/sqrt(var + eps), and updates the borrowed running statistics in place.
  // PyTorch saves no variance: run() declares var not produced. libtorch
  // 1.13 has no CPU out= form of native_batch_norm (native_batch_norm.out is
  // dispatched to CUDA only), so the y it allocates (in x's memory format)
  // is copy_'d into the view of y's storage, as a user's y.copy_(...) does.
  static void forward_training(const problem& p, const kernel_io& io) {
    at::Tensor running_mean = channel_tensor(p, io.running_mean);
    at::Tensor running_var = channel_tensor(p, io.running_var);
    const auto [y, mean, invstd] =
        at::native_batch_norm(data_tensor(p, "x", io.x), channel_tensor(p, io.gamma), channel_tensor(p, io.beta),
                              running_mean, running_var, /*training=*/true, p.momentum, p.eps);
    data_tensor(p, "y", io.y).copy_(y);
    channel_tensor(p, io.mean).copy_(mean);
    channel_tensor(p, io.invstd).copy_(invstd);
  }

  static void forward_inference(const problem& p, const kernel_io& io) {
    const auto [y, unused_mean, unused_invstd] = at::native_batch_norm(
        data_tensor(p, "x", io.x), channel_tensor(p, io.gamma), channel_tensor(p, io.beta),
        channel_tensor(p, io.running_mean), channel_tensor(p, io.running_var), /*training=*/false, p.momentum, p.eps);
    data_tensor(p, "y", io.y).copy_(y);
  }

  // train = true: the gradient through the batch statistics, from the saved
  // mean and invstd (the saved var is not an argument). The out= form,
  // native_batch_norm_backward.out (libtorch's generated one: the functional
  // op, then copy_ into each out tensor), writes dx into the view of its
  // storage and dgamma, dbeta into the harness's buffers.
  static void backward(const problem& p, const kernel_io& io) {
    at::Tensor dx = data_tensor(p, "dx", io.dx);
    at::Tensor dgamma = channel_tensor(p, io.dgamma);
    at::Tensor dbeta = channel_tensor(p, io.dbeta);
    at::native_batch_norm_backward_out(dx, dgamma, dbeta, data_tensor(p, "dy", io.dy), data_tensor(p, "x", io.x),
                                       channel_tensor(p, io.gamma), /*running_mean=*/{}, /*running_var=*/{},
                                       channel_tensor(p, io.mean), channel_tensor(p, io.invstd), /*train=*/true,
                                       p.eps, {true, true, true});
  }
};

}  // namespace

std::unique_ptr<kernel> make_libtorch_kernel() { return std::make_unique<libtorch_kernel>(); }

}  // namespace bncheck::libtorch

/// The module's entry point (libtorch_loader.cpp): a new kernel, owned by the caller.
extern "C" __attribute__((visibility("default"))) bncheck::kernel* bncheck_libtorch_kernel_new() {
  return bncheck::libtorch::make_libtorch_kernel().release();
}
