// libtorch 1.13 called directly: at::native_batch_norm and
// at::native_batch_norm_backward on at::from_blob tensors over the rotation
// sets (channels_last strides for nhwc). The only translation unit of
// bench_cpu that includes ATen. The outputs are libtorch's own allocations,
// as for any PyTorch caller (the _out variants only copy the functional
// result on CPU in 1.13, which would add a pass no caller pays).
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/native_batch_norm.h>
#include <ATen/ops/native_batch_norm_backward.h>
#include <torch/csrc/api/include/torch/version.h>

#include <string>
#include <vector>

#include "bench/bench_case.hpp"

namespace bncheck::bench {
namespace {

std::vector<int64_t> sizes_of(const problem& p) {
  if (p.lay == layout::nc) return {p.n, p.c};
  return {p.n, p.c, p.h, p.w};
}

std::vector<int64_t> strides_of(const problem& p) {
  switch (p.lay) {
    case layout::nc: return {p.c, 1};
    case layout::nhwc: return {p.h * p.w * p.c, 1, p.w * p.c, p.c};
    default: return {p.c * p.h * p.w, p.h * p.w, p.w, 1};
  }
}

at::Tensor data_tensor(const problem& p, const float* data) {
  return at::from_blob(const_cast<float*>(data), sizes_of(p), strides_of(p), at::TensorOptions().dtype(at::kFloat));
}

at::Tensor channel_tensor(const problem& p, const floats& f) {
  return at::from_blob(f.data(), {p.c}, at::TensorOptions().dtype(at::kFloat));
}

class libtorch_runner final : public runner {
 public:
  explicit libtorch_runner(case_buffers& cb) : p_(cb.p) {
    for (const tensor_set& s : cb.sets) {
      x_.push_back(data_tensor(p_, s.x));
      if (s.dy != nullptr) dy_.push_back(data_tensor(p_, s.dy));
    }
    gamma_ = channel_tensor(p_, cb.gamma);
    beta_ = channel_tensor(p_, cb.beta);
    running_mean_ = channel_tensor(p_, cb.running_mean);
    running_var_ = channel_tensor(p_, cb.running_var);
    mean_ = channel_tensor(p_, cb.mean);
    invstd_ = channel_tensor(p_, cb.invstd);
  }

  std::string label() const override {
    return x_.front().is_contiguous(at::MemoryFormat::ChannelsLast) && p_.lay == layout::nhwc ? "channels_last"
                                                                                                : "contiguous";
  }

  void run(std::size_t set) override {
    at::Tensor out;
    switch (p_.op) {
      case op_kind::forward_training:
      case op_kind::forward_inference:
        out = std::get<0>(at::native_batch_norm(x_[set], gamma_, beta_, running_mean_, running_var_,
                                                p_.op == op_kind::forward_training, p_.momentum, p_.eps));
        break;
      case op_kind::backward:
        out = std::get<0>(at::native_batch_norm_backward(dy_[set], x_[set], gamma_, {}, {}, mean_, invstd_,
                                                         /*train=*/true, p_.eps, {true, true, true}));
        break;
      case op_kind::merge_statistics: break;  // no benchmark problem merges shards
    }
    if (set == 0) last_ = std::move(out);  // else freed here, as a caller that drops it would
  }

  void output(float* out) const override { data_tensor(p_, out).copy_(last_); }

 private:
  problem p_;
  std::vector<at::Tensor> x_, dy_;
  at::Tensor gamma_, beta_, running_mean_, running_var_, mean_, invstd_, last_;
};

}  // namespace

std::unique_ptr<runner> make_libtorch_runner(case_buffers& cb) { return std::make_unique<libtorch_runner>(cb); }

void set_libtorch_threads(int n) { at::set_num_threads(n); }

std::string libtorch_version() {
  return std::string(TORCH_VERSION) + " (headers; at::get_num_threads() = " + std::to_string(at::get_num_threads()) +
         ")";
}

}  // namespace bncheck::bench
