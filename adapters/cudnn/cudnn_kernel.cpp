// The cuDNN adapter: copies the harness's buffers to the device, describes
// them to cuDNN with strides (every layout of core/problem.hpp is a dense
// 4-D or 5-D tensor; nc is N x C x 1 x 1), runs the legacy batch-norm entry
// points and copies the outputs back. cuDNN's conventions, mapped:
//   - running statistics: running = (1 - f) running + f batch with
//     f = exponentialAverageFactor = momentum and the UNBIASED variance: the
//     pytorch and cudnn profiles; onnx training is refused (unimplemented);
//   - saved statistics: mean and inverse std; no variance, so forward
//     training declares var not produced (deriving it here would judge our
//     arithmetic, not cuDNN's);
//   - parameters: f32 for f32, f16 and bf16 data, f64 for f64 data
//     (cudnnDeriveBNTensorDescriptor); other pairs are refused;
//   - epsilon must be at least CUDNN_BN_MIN_EPSILON.
#include "adapters/cudnn/cudnn_kernel.hpp"

#include <cuda_runtime.h>
#include <cudnn.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "impl/cuda/device.hpp"

namespace bncheck::cudnn_adapter {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(cuda::cuda_error(what, e));
}

// cuDNN's "not supported" is the library refusing a problem: a skip.
struct refused {
  std::string what;
};

void check(cudnnStatus_t s, const char* what) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  const std::string text = std::string(what) + ": " + cudnnGetErrorString(s);
  if (s == CUDNN_STATUS_NOT_SUPPORTED) throw refused{text};
  throw std::runtime_error(text);
}

struct tensor_desc {
  cudnnTensorDescriptor_t d = nullptr;
  tensor_desc() { check(cudnnCreateTensorDescriptor(&d), "cudnnCreateTensorDescriptor"); }
  tensor_desc(const tensor_desc&) = delete;
  tensor_desc& operator=(const tensor_desc&) = delete;
  ~tensor_desc() { cudnnDestroyTensorDescriptor(d); }
};

struct handle {
  cudnnHandle_t h = nullptr;
  handle() { check(cudnnCreate(&h), "cudnnCreate"); }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() { cudnnDestroy(h); }
};

cudnnDataType_t data_type_of(dtype t) {
  switch (t) {
    case dtype::f64: return CUDNN_DATA_DOUBLE;
    case dtype::f32: return CUDNN_DATA_FLOAT;
    case dtype::f16: return CUDNN_DATA_HALF;
    case dtype::bf16: return CUDNN_DATA_BFLOAT16;
  }
  return CUDNN_DATA_FLOAT;
}

// Dims N, C, [D,] H, W (nc as N, C, 1, 1) with the strides of p.lay.
void describe(const problem& p, cudnnTensorDescriptor_t d) {
  const bool five = spatial_rank(p.lay) == 3;
  std::vector<int64_t> spatial = five ? std::vector<int64_t>{p.d, p.h, p.w} : std::vector<int64_t>{p.h, p.w};
  std::vector<int> dims = {static_cast<int>(p.n), static_cast<int>(p.c)};
  for (int64_t s : spatial) dims.push_back(static_cast<int>(s));
  const int64_t S = spatial_size(p);
  std::vector<int> strides(dims.size());
  const bool last = channel_last(p.lay);
  strides[0] = static_cast<int>(p.c * S);
  strides[1] = last ? 1 : static_cast<int>(S);
  int64_t inner = last ? p.c : 1;
  for (std::size_t i = dims.size(); i-- > 2;) {
    strides[i] = static_cast<int>(inner);
    inner *= dims[i];
  }
  check(cudnnSetTensorNdDescriptor(d, data_type_of(p.data_type), static_cast<int>(dims.size()), dims.data(),
                                   strides.data()),
        "cudnnSetTensorNdDescriptor");
}

bool is_data_tensor(const std::string& name) { return name == "x" || name == "dy" || name == "y" || name == "dx"; }

class cudnn_kernel final : public kernel {
 public:
  std::string name() const override { return "cudnn"; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    if (p.op == op_kind::merge_statistics)
      return {kernel_status::unimplemented, "cudnn: cuDNN has no merge of per-shard batch statistics (SyncBatchNorm frameworks merge in their own kernels)"};
    return error_result_of("cudnn", [&]() -> kernel_result {
      try {
        if (std::string why = cuda::no_device_reason(); !why.empty()) return {kernel_status::unimplemented, why};
        validate(p);
        const dtype want = p.data_type == dtype::f64 ? dtype::f64 : dtype::f32;
        if (p.param_type != want)
          return {kernel_status::unimplemented, "cudnn: parameters of " + std::string(to_string(p.data_type)) +
                                                    " data are " + std::string(to_string(want)) + " in cuDNN, not " +
                                                    std::string(to_string(p.param_type))};
        if (p.eps < CUDNN_BN_MIN_EPSILON)
          return {kernel_status::unimplemented, "cudnn: eps below CUDNN_BN_MIN_EPSILON"};
        if (p.op == op_kind::forward_training && p.prof == profile::onnx)
          return {kernel_status::unimplemented,
                  "cudnn: cuDNN updates the running statistics with an exponential average factor on the batch "
                  "statistic and the unbiased variance (the pytorch/cudnn profiles), not onnx's"};
        if (p.op == op_kind::backward && io.invstd == nullptr)
          return {kernel_status::unimplemented, "cudnn: backward takes the saved inverse std, and none was given"};
        if (p.n * p.c * spatial_size(p) > int64_t{INT32_MAX})
          return {kernel_status::unimplemented, "cudnn: tensor descriptors take 32-bit sizes and strides"};
        return run_checked(p, io);
      } catch (const refused& e) {
        return {kernel_status::unimplemented, "cudnn: " + e.what};
      }
    });
  }

 private:
  kernel_result run_checked(const problem& p, const kernel_io& io) {
    const std::vector<io_slot> slots = io_slots(p.op);
    std::vector<cuda::device_buffer> buffers(slots.size());
    std::vector<std::size_t> bytes(slots.size());
    auto dev = [&](const char* name) -> void* {
      for (std::size_t i = 0; i < slots.size(); ++i)
        if (std::string(name) == slots[i].name) return buffers[i].ptr;
      return nullptr;
    };
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const void* host = io_buffer(io, slots[i].name);
      if (host == nullptr) continue;
      const bool data = is_data_tensor(slots[i].name);
      bytes[i] = static_cast<std::size_t>(data ? element_count(p) : p.c) * size_of(data ? p.data_type : p.param_type);
      check(cudaMalloc(&buffers[i].ptr, bytes[i]), "cudaMalloc");
      check(cudaMemcpy(buffers[i].ptr, host, bytes[i], cudaMemcpyHostToDevice), "cudaMemcpy to the device");
    }
    handle h;
    tensor_desc data, param;
    describe(p, data.d);
    check(cudnnDeriveBNTensorDescriptor(param.d, data.d, CUDNN_BATCHNORM_SPATIAL), "cudnnDeriveBNTensorDescriptor");
    // alpha/beta scale factors: double for double data, else float.
    const double one_d = 1, zero_d = 0;
    const float one_f = 1, zero_f = 0;
    const void* one = p.data_type == dtype::f64 ? static_cast<const void*>(&one_d) : &one_f;
    const void* zero = p.data_type == dtype::f64 ? static_cast<const void*>(&zero_d) : &zero_f;
    std::vector<std::string> not_produced;
    switch (p.op) {
      case op_kind::merge_statistics: break;  // refused at the top of run()
      case op_kind::forward_training:
        check(cudnnBatchNormalizationForwardTraining(h.h, CUDNN_BATCHNORM_SPATIAL, one, zero, data.d, dev("x"), data.d,
                                                     dev("y"), param.d, dev("gamma"), dev("beta"), p.momentum,
                                                     dev("running_mean"), dev("running_var"), p.eps, dev("mean"),
                                                     dev("invstd")),
              "cudnnBatchNormalizationForwardTraining");
        not_produced.push_back("var");
        break;
      case op_kind::forward_inference:
        check(cudnnBatchNormalizationForwardInference(h.h, CUDNN_BATCHNORM_SPATIAL, one, zero, data.d, dev("x"),
                                                      data.d, dev("y"), param.d, dev("gamma"), dev("beta"),
                                                      dev("running_mean"), dev("running_var"), p.eps),
              "cudnnBatchNormalizationForwardInference");
        break;
      case op_kind::backward:
        check(cudnnBatchNormalizationBackward(h.h, CUDNN_BATCHNORM_SPATIAL, one, zero, one, zero, data.d, dev("x"),
                                              data.d, dev("dy"), data.d, dev("dx"), param.d, dev("gamma"),
                                              dev("dgamma"), dev("dbeta"), p.eps, dev("mean"), dev("invstd")),
              "cudnnBatchNormalizationBackward");
        break;
    }
    check(cudaDeviceSynchronize(), "cuDNN's kernels");
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i].written || buffers[i].ptr == nullptr) continue;
      if (std::string(slots[i].name) == "var" && p.op == op_kind::forward_training) continue;
      check(cudaMemcpy(io_output(io, slots[i].name), buffers[i].ptr, bytes[i], cudaMemcpyDeviceToHost),
            "cudaMemcpy from the device");
    }
    return {kernel_status::ok, "", not_produced};
  }
};

}  // namespace

std::unique_ptr<kernel> make_cudnn_kernel() { return std::make_unique<cudnn_kernel>(); }

}  // namespace bncheck::cudnn_adapter
