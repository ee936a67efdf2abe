// The oneDNN adapter: maps a problem onto oneDNN memory descriptors over the
// harness's buffers (no copies), runs the batch-normalization primitive, and
// derives what oneDNN does not produce (invstd, running statistics).
#include "adapters/onednn/onednn_kernel.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>


namespace bncheck::onednn {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// Logical dims in oneDNN's order (N, C, [D,] [H,] W) and the tag that says
// how they lie in memory: exactly p.lay's dense layout.
dnnl::memory::desc data_desc(const problem& p, dt type) {
  switch (p.lay) {
    case layout::nc: return {{p.n, p.c}, type, tag::nc};
    case layout::nchw: return {{p.n, p.c, p.h, p.w}, type, tag::nchw};
    case layout::nhwc: return {{p.n, p.c, p.h, p.w}, type, tag::nhwc};
    case layout::ncdhw: return {{p.n, p.c, p.d, p.h, p.w}, type, tag::ncdhw};
    case layout::ndhwc: return {{p.n, p.c, p.d, p.h, p.w}, type, tag::ndhwc};
  }
  return {};
}

struct unsupported {
  std::string why;
};

dt data_type_of(dtype t) {
  switch (t) {
    case dtype::f32: return dt::f32;
    case dtype::bf16: return dt::bf16;
    case dtype::f16: return dt::f16;
    case dtype::f64: break;
  }
  throw unsupported{"oneDNN's batch normalization has no f64 data type"};
}

// A memory object over a harness buffer. oneDNN only reads inputs; the
// const_cast is the price of one memory type for inputs and outputs.
dnnl::memory wrap(const dnnl::memory::desc& md, const dnnl::engine& eng, const void* data) {
  return dnnl::memory(md, eng, const_cast<void*>(data));
}

class onednn_kernel final : public kernel {
 public:
  onednn_kernel() : eng_(dnnl::engine::kind::cpu, 0), strm_(eng_) {}

  std::string name() const override { return "onednn"; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    try {
      if (p.op == op_kind::merge_statistics)
        return {kernel_status::unimplemented, "onednn: oneDNN has no primitive that merges per-shard batch statistics"};
      validate(p);
      if (p.param_type != dtype::f32)
        return {kernel_status::unimplemented,
                "onednn: scale, shift, mean and variance are f32 in oneDNN; parameters in " +
                    std::string(to_string(p.param_type)) + " are not supported"};
      switch (p.op) {
        case op_kind::merge_statistics: break;  // refused at the top of run()
        case op_kind::forward_training:
          forward(p, io, true);
          return {kernel_status::ok, "", {"invstd", "running_mean", "running_var"}};
        case op_kind::forward_inference: forward(p, io, false); break;
        case op_kind::backward: backward(p, io); break;
      }
      return {};
    } catch (const unsupported& u) {
      return {kernel_status::unimplemented, "onednn: " + u.why};
    } catch (const dnnl::error& e) {
      if (e.status == dnnl_unimplemented)
        return {kernel_status::unimplemented, std::string("onednn: ") + e.what()};
      return {kernel_status::error, std::string("onednn: ") + e.what()};
    } catch (const std::exception& e) {
      return {kernel_status::error, std::string("onednn: ") + e.what()};
    }
  }

 private:
  // oneDNN takes epsilon as a float: the adapter passes the nearest float
  // (exact for the eps values of the corpus except 1e-5, where the relative
  // change of eps is below 2^-24; docs/adapters.md).
  static float epsilon(const problem& p) { return static_cast<float>(p.eps); }

  static dnnl::normalization_flags scale_shift() {
    return dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  }

  dnnl::batch_normalization_forward::primitive_desc forward_pd(const problem& p, dnnl::prop_kind kind,
                                                              dnnl::normalization_flags flags) const {
    const dnnl::batch_normalization_forward::desc d(kind, data_desc(p, data_type_of(p.data_type)), epsilon(p),
                                                    flags);
    dnnl::batch_normalization_forward::primitive_desc pd(d, eng_, /*allow_empty=*/true);
    if (!pd)
      throw unsupported{"oneDNN has no batch-normalization implementation for " +
                        std::string(to_string(p.data_type)) + " data in " + std::string(to_string(p.lay)) +
                        " on this CPU"};
    return pd;
  }

  // Training: y, mean and biased variance from oneDNN. oneDNN computes no
  // invstd and keeps no running statistics: the kernel declares them not
  // produced (core/kernel.hpp) rather than have bncheck judge an adapter's
  // arithmetic in their place.
  // Inference: use_global_stats with the running statistics as mean and variance.
  void forward(const problem& p, const kernel_io& io, bool training) {
    const dnnl::normalization_flags flags =
        training ? scale_shift() : scale_shift() | dnnl::normalization_flags::use_global_stats;
    const auto pd = forward_pd(
        p, training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, flags);
    const dnnl::memory::desc channel_md({p.c}, dt::f32, tag::a);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, wrap(pd.src_desc(), eng_, io.x)},
        {DNNL_ARG_DST, wrap(pd.dst_desc(), eng_, io.y)},
        {DNNL_ARG_SCALE, wrap(channel_md, eng_, io.gamma)},
        {DNNL_ARG_SHIFT, wrap(channel_md, eng_, io.beta)},
        {DNNL_ARG_MEAN, wrap(pd.mean_desc(), eng_, training ? io.mean : io.running_mean)},
        {DNNL_ARG_VARIANCE, wrap(pd.variance_desc(), eng_, training ? io.var : io.running_var)},
    };
    dnnl::batch_normalization_forward(pd).execute(strm_, args);
    strm_.wait();
  }

  // prop_kind::backward computes diff_src and the scale and shift gradients
  // from the saved mean and variance (oneDNN reads var, not invstd). oneDNN
  // 2.6 lists the shift among the backward primitive's inputs when use_shift
  // is set, although no gradient depends on it: it gets zeros.
  void backward(const problem& p, const kernel_io& io) {
    const auto hint = forward_pd(p, dnnl::prop_kind::forward_training, scale_shift());
    const dnnl::memory::desc md = data_desc(p, data_type_of(p.data_type));
    const dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, md, md, epsilon(p), scale_shift());
    dnnl::batch_normalization_backward::primitive_desc pd(d, eng_, hint, /*allow_empty=*/true);
    if (!pd) throw unsupported{"oneDNN has no backward batch normalization for this problem on this CPU"};
    const dnnl::memory::desc channel_md({p.c}, dt::f32, tag::a);
    const std::vector<float> zero_shift(static_cast<std::size_t>(p.c), 0.0f);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, wrap(pd.src_desc(), eng_, io.x)},
        {DNNL_ARG_DIFF_DST, wrap(pd.diff_dst_desc(), eng_, io.dy)},
        {DNNL_ARG_MEAN, wrap(pd.mean_desc(), eng_, io.mean)},
        {DNNL_ARG_VARIANCE, wrap(pd.variance_desc(), eng_, io.var)},
        {DNNL_ARG_SCALE, wrap(channel_md, eng_, io.gamma)},
        {DNNL_ARG_SHIFT, wrap(channel_md, eng_, zero_shift.data())},
        {DNNL_ARG_DIFF_SRC, wrap(pd.diff_src_desc(), eng_, io.dx)},
        {DNNL_ARG_DIFF_SCALE, wrap(channel_md, eng_, io.dgamma)},
        {DNNL_ARG_DIFF_SHIFT, wrap(channel_md, eng_, io.dbeta)},
    };
    dnnl::batch_normalization_backward(pd).execute(strm_, args);
    strm_.wait();
  }

  dnnl::engine eng_;
  dnnl::stream strm_;
};

}  // namespace

std::unique_ptr<kernel> make_onednn_kernel() { return std::make_unique<onednn_kernel>(); }

}  // namespace bncheck::onednn
