// oneDNN 2.6 called directly: one primitive per case, created before timing,
// with one argument map per rotation set; the flags are those of the adapter
// (adapters/onednn): scale and shift, global statistics for inference.
#include <oneapi/dnnl/dnnl.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_case.hpp"

namespace bncheck::bench {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using args_t = std::unordered_map<int, dnnl::memory>;

// nc_as_nhwc: nc described as N x C x 1 x 1 in nhwc, the same memory; oneDNN
// 2.6 runs its channel-last JIT kernel on that and its generic one on nc.
dnnl::memory::desc data_desc(const problem& p, bool nc_as_nhwc) {
  switch (p.lay) {
    case layout::nc:
      if (nc_as_nhwc) return {{p.n, p.c, 1, 1}, dt::f32, tag::nhwc};
      return {{p.n, p.c}, dt::f32, tag::nc};
    case layout::nhwc: return {{p.n, p.c, p.h, p.w}, dt::f32, tag::nhwc};
    default: return {{p.n, p.c, p.h, p.w}, dt::f32, tag::nchw};
  }
}

const dnnl::normalization_flags scale_shift =
    dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

class onednn_runner final : public runner {
 public:
  onednn_runner(case_buffers& cb, bool nc_as_nhwc) : cb_(cb), eng_(dnnl::engine::kind::cpu, 0), strm_(eng_) {
    const problem& p = cb.p;
    const dnnl::memory::desc md = data_desc(p, nc_as_nhwc);
    const dnnl::memory::desc channel_md({p.c}, dt::f32, tag::a);
    const auto eps = static_cast<float>(p.eps);
    const bool training = p.op == op_kind::forward_training;
    auto mem = [&](const dnnl::memory::desc& d, const void* data) {
      return dnnl::memory(d, eng_, const_cast<void*>(data));
    };
    const auto fwd_kind = training || p.op == op_kind::backward ? dnnl::prop_kind::forward_training
                                                                 : dnnl::prop_kind::forward_inference;
    const auto fwd_flags = p.op == op_kind::forward_inference
                               ? scale_shift | dnnl::normalization_flags::use_global_stats
                               : scale_shift;
    const dnnl::batch_normalization_forward::primitive_desc fwd_pd(
        dnnl::batch_normalization_forward::desc(fwd_kind, md, eps, fwd_flags), eng_, /*allow_empty=*/true);
    if (!fwd_pd) throw std::runtime_error("oneDNN has no forward batch normalization for this case");
    if (p.op != op_kind::backward) {
      label_ = fwd_pd.impl_info_str();
      prim_ = dnnl::batch_normalization_forward(fwd_pd);
      for (const tensor_set& s : cb.sets)
        args_.push_back({
            {DNNL_ARG_SRC, mem(md, s.x)},
            {DNNL_ARG_DST, mem(md, s.y)},
            {DNNL_ARG_SCALE, mem(channel_md, cb.gamma.data())},
            {DNNL_ARG_SHIFT, mem(channel_md, cb.beta.data())},
            {DNNL_ARG_MEAN, mem(fwd_pd.mean_desc(), training ? cb.mean.data() : cb.running_mean.data())},
            {DNNL_ARG_VARIANCE, mem(fwd_pd.variance_desc(), training ? cb.var.data() : cb.running_var.data())},
        });
      return;
    }
    // Backward from the saved mean and variance; oneDNN 2.6 lists the shift
    // among the inputs when use_shift is set (no gradient depends on it).
    const dnnl::batch_normalization_backward::primitive_desc bwd_pd(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, md, md, eps, scale_shift), eng_, fwd_pd,
        /*allow_empty=*/true);
    if (!bwd_pd) throw std::runtime_error("oneDNN has no backward batch normalization for this case");
    label_ = bwd_pd.impl_info_str();
    prim_ = dnnl::batch_normalization_backward(bwd_pd);
    zero_shift_.assign(static_cast<std::size_t>(p.c), 0.0f);
    for (const tensor_set& s : cb.sets)
      args_.push_back({
          {DNNL_ARG_SRC, mem(md, s.x)},
          {DNNL_ARG_DIFF_DST, mem(md, s.dy)},
          {DNNL_ARG_MEAN, mem(bwd_pd.mean_desc(), cb.mean.data())},
          {DNNL_ARG_VARIANCE, mem(bwd_pd.variance_desc(), cb.var.data())},
          {DNNL_ARG_SCALE, mem(channel_md, cb.gamma.data())},
          {DNNL_ARG_SHIFT, mem(channel_md, zero_shift_.data())},
          {DNNL_ARG_DIFF_SRC, mem(md, s.dx)},
          {DNNL_ARG_DIFF_SCALE, mem(channel_md, cb.dgamma.data())},
          {DNNL_ARG_DIFF_SHIFT, mem(channel_md, cb.dbeta.data())},
      });
  }

  std::string label() const override { return label_; }

  void run(std::size_t set) override {
    prim_.execute(strm_, args_[set]);
    strm_.wait();
  }

  void output(float* out) const override {
    const tensor_set& s = cb_.sets[0];
    std::memcpy(out, cb_.p.op == op_kind::backward ? s.dx : s.y, cb_.tensor_bytes);
  }

 private:
  case_buffers& cb_;
  dnnl::engine eng_;
  dnnl::stream strm_;
  dnnl::primitive prim_;
  std::vector<args_t> args_;
  std::vector<float> zero_shift_;
  std::string label_;
};

}  // namespace

std::unique_ptr<runner> make_onednn_runner(case_buffers& cb, bool nc_as_nhwc) {
  try {
    return std::make_unique<onednn_runner>(cb, nc_as_nhwc);
  } catch (const dnnl::error& e) {
    throw std::runtime_error(std::string("oneDNN: ") + e.what());
  }
}

void set_onednn_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " (" +
         v->hash + ", cpu runtime " + (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other") + ")";
}

}  // namespace bncheck::bench
