// The oneDNN adapter: maps a problem onto oneDNN memory descriptors over the
// harness's buffers (each data tensor with its own strides), runs the
// batch-normalization primitive, and declares what oneDNN does not produce
// (invstd, running statistics). oneDNN 2.6 gives an output the memory
// descriptor of an input (y that of x, dx that of dy): an output in another
// storage is written by the primitive to a buffer in the input's, and moved
// into its own by a oneDNN reorder (an exact copy).
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

// Logical dims in oneDNN's order (N, C, [D,] [H,] W) and the strides of data
// tensor `name` as data_strides(p, name) gives them: dense in p.lay (the same
// descriptor as the tags nc, nchw, nhwc, ncdhw, ndhwc give), the other format
// of its rank, or a channel slice of a wider tensor. The memory object's
// handle is the element (0, 0, 0) the harness's pointer is at.
dnnl::memory::desc data_desc(const problem& p, const char* name, dt type) {
  const dnnl::memory::dims strides = data_strides(p, name);
  switch (spatial_rank(p.lay)) {
    case 0: return {{p.n, p.c}, type, strides};
    case 2: return {{p.n, p.c, p.h, p.w}, type, strides};
    default: return {{p.n, p.c, p.d, p.h, p.w}, type, strides};
  }
}

// Where data tensor `name` lies, in words: "x in nchw", "dy in nhwc, channels
// 1..3 of 6".
std::string storage_words(const problem& p, const char* name) {
  const storage& st = storage_of(p, name);
  std::string out = std::string(name) + " in " + std::string(to_string(format_of(p, name)));
  if (st.channels != 0)
    out += ", channels " + std::to_string(st.first) + ".." + std::to_string(st.first + p.c - 1) + " of " +
           std::to_string(st.channels);
  return out;
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

  /// Every storage: x and dy reach oneDNN with their own strides; an output
  /// in a storage other than its input's goes through a reorder (run()).
  bool takes_strides() const override { return true; }

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

  // The forward primitive on x's descriptor, which oneDNN 2.6 also gives y.
  dnnl::batch_normalization_forward::primitive_desc forward_pd(const problem& p, dnnl::prop_kind kind,
                                                              dnnl::normalization_flags flags) const {
    const dnnl::batch_normalization_forward::desc d(kind, data_desc(p, "x", data_type_of(p.data_type)), epsilon(p),
                                                    flags);
    dnnl::batch_normalization_forward::primitive_desc pd(d, eng_, /*allow_empty=*/true);
    if (!pd)
      throw unsupported{"oneDNN has no batch-normalization implementation for " +
                        std::string(to_string(p.data_type)) + " data in " + std::string(to_string(p.lay)) +
                        (dense_storage(p) ? std::string() : " (" + storage_words(p, "x") + ")") + " on this CPU"};
    return pd;
  }

  // Output `name` written by a primitive whose descriptor for it is `md`:
  // the harness's buffer when the tensor's own descriptor is md, else a
  // buffer oneDNN allocates in md, which finish() reorders into the tensor.
  struct output {
    dnnl::memory given, written;
  };
  output output_of(const problem& p, const char* name, const dnnl::memory::desc& md, void* data) const {
    const dnnl::memory::desc own = data_desc(p, name, md.data_type());
    output o{wrap(own, eng_, data), {}};
    o.written = own == md ? o.given : dnnl::memory(md, eng_);
    return o;
  }
  void finish(output& o) {
    if (o.written.get() != o.given.get()) dnnl::reorder(o.written, o.given).execute(strm_, o.written, o.given);
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
    output y = output_of(p, "y", pd.dst_desc(), io.y);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, wrap(pd.src_desc(), eng_, io.x)},
        {DNNL_ARG_DST, y.written},
        {DNNL_ARG_SCALE, wrap(channel_md, eng_, io.gamma)},
        {DNNL_ARG_SHIFT, wrap(channel_md, eng_, io.beta)},
        {DNNL_ARG_MEAN, wrap(pd.mean_desc(), eng_, training ? io.mean : io.running_mean)},
        {DNNL_ARG_VARIANCE, wrap(pd.variance_desc(), eng_, training ? io.var : io.running_var)},
    };
    dnnl::batch_normalization_forward(pd).execute(strm_, args);
    finish(y);
    strm_.wait();
  }

  // prop_kind::backward computes diff_src and the scale and shift gradients
  // from the saved mean and variance (oneDNN reads var, not invstd). oneDNN
  // 2.6 lists the shift among the backward primitive's inputs when use_shift
  // is set, although no gradient depends on it: it gets zeros. Its
  // descriptors: x's for src, dy's for diff_dst and diff_src.
  void backward(const problem& p, const kernel_io& io) {
    const auto hint = forward_pd(p, dnnl::prop_kind::forward_training, scale_shift());
    const dt type = data_type_of(p.data_type);
    const dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, data_desc(p, "dy", type),
                                                     data_desc(p, "x", type), epsilon(p), scale_shift());
    dnnl::batch_normalization_backward::primitive_desc pd(d, eng_, hint, /*allow_empty=*/true);
    if (!pd)
      throw unsupported{"oneDNN has no backward batch normalization for this problem on this CPU" +
                        (dense_storage(p) ? std::string()
                                          : " (" + storage_words(p, "x") + ", " + storage_words(p, "dy") + ")")};
    const dnnl::memory::desc channel_md({p.c}, dt::f32, tag::a);
    const std::vector<float> zero_shift(static_cast<std::size_t>(p.c), 0.0f);
    output dx = output_of(p, "dx", pd.diff_src_desc(), io.dx);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, wrap(pd.src_desc(), eng_, io.x)},
        {DNNL_ARG_DIFF_DST, wrap(pd.diff_dst_desc(), eng_, io.dy)},
        {DNNL_ARG_MEAN, wrap(pd.mean_desc(), eng_, io.mean)},
        {DNNL_ARG_VARIANCE, wrap(pd.variance_desc(), eng_, io.var)},
        {DNNL_ARG_SCALE, wrap(channel_md, eng_, io.gamma)},
        {DNNL_ARG_SHIFT, wrap(channel_md, eng_, zero_shift.data())},
        {DNNL_ARG_DIFF_SRC, dx.written},
        {DNNL_ARG_DIFF_SCALE, wrap(channel_md, eng_, io.dgamma)},
        {DNNL_ARG_DIFF_SHIFT, wrap(channel_md, eng_, io.dbeta)},
    };
    dnnl::batch_normalization_backward(pd).execute(strm_, args);
    finish(dx);
    strm_.wait();
  }

  dnnl::engine eng_;
  dnnl::stream strm_;
};

}  // namespace

std::unique_ptr<kernel> make_onednn_kernel() { return std::make_unique<onednn_kernel>(); }

}  // namespace bncheck::onednn
