// The dlib adapter: copies the harness's float buffers into dlib tensors
// (dlib owns its memory and cannot borrow), calls dlib's CPU batch norm, and
// copies the results back. Copies of floats are exact.
#include "adapters/dlib/dlib_kernel.hpp"

#include <dlib/cuda/tensor_tools.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <vector>


namespace bncheck::dlib_adapter {
namespace {

// N x C x R x W with R = D*H: the statistics are per channel over everything
// else, so a channel-first 3-D tensor is the 2-D one with its depth folded
// into the rows, the same bytes.
dlib::resizable_tensor data_tensor(const problem& p, const void* src) {
  dlib::resizable_tensor t(p.n, p.c, p.d * p.h, p.w);
  if (src != nullptr) std::memcpy(t.host(), src, t.size() * sizeof(float));
  return t;
}

dlib::resizable_tensor channel_tensor(const problem& p, const void* src) {
  dlib::resizable_tensor t(1, p.c);
  if (src != nullptr) std::memcpy(t.host(), src, t.size() * sizeof(float));
  return t;
}

void copy_out(const dlib::tensor& t, void* dst) {
  if (dst != nullptr) std::memcpy(dst, t.host(), t.size() * sizeof(float));
}

// Why dlib cannot run p, or empty. These are dlib's preconditions (its
// DLIB_CASSERTs) and more: dlib aborts the process on the second failed
// precondition, so none may ever reach it.
std::string unsupported(const problem& p) {
  if (p.data_type != dtype::f32 || p.param_type != dtype::f32)
    return "dlib tensors are float: only f32:f32 (data:parameters)";
  if (p.lay == layout::nhwc || p.lay == layout::ndhwc)
    return "dlib tensors are channel-first (NCHW): no " + std::string(to_string(p.lay));
  if (!(p.eps > 0)) return "dlib requires eps > 0";
  if (p.op != op_kind::forward_inference && p.n < 2)
    return "dlib's batch_normalize_conv requires more than one sample (n > 1)";
  if (p.op == op_kind::forward_training) {
    if (p.prof == profile::onnx)
      return "dlib updates the running statistics with the pytorch profile's formulas "
             "(averaging factor on the batch statistic, unbiased variance), not onnx's";
    if (!(p.momentum >= 0 && p.momentum <= 1)) return "dlib's averaging factor (the momentum) must be in [0, 1]";
  }
  return {};
}

// dlib computes mean, invstd, y and both running statistics; it saves no
// variance (run() declares var not produced).
void forward_training(const problem& p, const kernel_io& io) {
  const dlib::resizable_tensor x = data_tensor(p, io.x);
  const dlib::resizable_tensor gamma = channel_tensor(p, io.gamma), beta = channel_tensor(p, io.beta);
  dlib::resizable_tensor running_mean = channel_tensor(p, io.running_mean);
  dlib::resizable_tensor running_var = channel_tensor(p, io.running_var);
  // Sized like the running statistics up front: dlib checks their shapes
  // against these before it sizes them itself.
  dlib::resizable_tensor y, mean = channel_tensor(p, nullptr), invstd = channel_tensor(p, nullptr);
  dlib::tt::batch_normalize_conv(p.eps, y, mean, invstd, p.momentum, running_mean, running_var, x, gamma, beta);
  copy_out(y, io.y);
  copy_out(mean, io.mean);
  copy_out(invstd, io.invstd);
  copy_out(running_mean, io.running_mean);
  copy_out(running_var, io.running_var);
}

void forward_inference(const problem& p, const kernel_io& io) {
  dlib::resizable_tensor y;
  dlib::tt::batch_normalize_conv_inference(p.eps, y, data_tensor(p, io.x), channel_tensor(p, io.gamma),
                                           channel_tensor(p, io.beta), channel_tensor(p, io.running_mean),
                                           channel_tensor(p, io.running_var));
  copy_out(y, io.y);
}

// dlib adds the input gradient into src_grad (zeroed here) and assigns the
// parameter gradients; it reads the saved mean and invstd.
void backward(const problem& p, const kernel_io& io) {
  const dlib::resizable_tensor x = data_tensor(p, io.x), dy = data_tensor(p, io.dy);
  dlib::resizable_tensor dx = data_tensor(p, nullptr);
  dx = 0;
  dlib::resizable_tensor dgamma = channel_tensor(p, nullptr), dbeta = channel_tensor(p, nullptr);
  dlib::tt::batch_normalize_conv_gradient(p.eps, dy, channel_tensor(p, io.mean), channel_tensor(p, io.invstd), x,
                                          channel_tensor(p, io.gamma), dx, dgamma, dbeta);
  copy_out(dx, io.dx);
  copy_out(dgamma, io.dgamma);
  copy_out(dbeta, io.dbeta);
}

class dlib_kernel final : public kernel {
 public:
  std::string name() const override { return "dlib"; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    try {
      if (p.op == op_kind::merge_statistics)
        return {kernel_status::unimplemented, "dlib: dlib has no merge of per-shard batch statistics"};
      validate(p);
      if (const std::string why = unsupported(p); !why.empty())
        return {kernel_status::unimplemented, "dlib: " + why};
      switch (p.op) {
        case op_kind::merge_statistics: break;  // refused at the top of run()
        case op_kind::forward_training:
          forward_training(p, io);
          return {kernel_status::ok, "", {"var"}};
        case op_kind::forward_inference: forward_inference(p, io); break;
        case op_kind::backward: backward(p, io); break;
      }
      return {};
    } catch (const std::exception& e) {
      std::string what = e.what();
      std::replace(what.begin(), what.end(), '\n', ' ');
      return {kernel_status::error, "dlib: " + what};
    }
  }
};

}  // namespace

std::unique_ptr<kernel> make_dlib_kernel() { return std::make_unique<dlib_kernel>(); }

}  // namespace bncheck::dlib_adapter
