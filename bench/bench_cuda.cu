// GPU benchmark: our CUDA kernels (impl/cuda, run_on_device, no copies)
// against cuDNN's legacy batch norm in the same run, on ResNet-50-like
// shapes (batch 32, and two at batch 256 where the tensors are 8x larger
// than the L2 cache), forward training, inference and backward, with the
// effective bandwidth of the fewest bytes each op must move (forward and
// inference: x read + y written; backward: x and dy read + dx written)
// against a measured device-to-device copy (cudaMemcpy, bytes read +
// written). Median of --reps timed calls (CUDA events) after --warmup calls,
// rotating over enough input sets that the data exceed the L2 cache. Prints
// a Markdown table. Ours runs in both schedules (impl/cuda/cuda_kernel.hpp):
// the fused one (the default; the last column says how it cut the call) and
// the separate launches, so one run gives before and after. First, the fixed
// cost of a cooperative launch with 0, 1 and 2 grid barriers (docs/cuda.md).
// Only runs with a device (ci/gpu); exits 1 without one.
#include <cooperative_groups.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "core/problem.hpp"
#include "impl/cuda/cuda_kernel.hpp"

namespace {

using bncheck::dtype;
using bncheck::layout;
using bncheck::op_kind;
using bncheck::problem;

#define CHECK_CUDA(call)                                                                        \
  do {                                                                                          \
    const cudaError_t e_ = (call);                                                              \
    if (e_ != cudaSuccess) {                                                                    \
      std::fprintf(stderr, "bench_cuda: %s failed: %s\n", #call, cudaGetErrorString(e_));      \
      std::exit(1);                                                                             \
    }                                                                                           \
  } while (0)
#define CHECK_CUDNN(call)                                                                       \
  do {                                                                                          \
    const cudnnStatus_t s_ = (call);                                                            \
    if (s_ != CUDNN_STATUS_SUCCESS) {                                                           \
      std::fprintf(stderr, "bench_cuda: %s failed: %s\n", #call, cudnnGetErrorString(s_));     \
      std::exit(1);                                                                             \
    }                                                                                           \
  } while (0)

// Deterministic pseudo-random bits, never all zero (METHOD.md: no timing on zeros).
__global__ void fill_random(uint16_t* p, size_t n16, uint32_t seed, bool f16) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < n16; i += size_t{gridDim.x} * blockDim.x) {
    uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
    // A value in [-2, 2): for 16-bit data a finite f16/bf16, for f32 data the
    // halves of a float whose exponent half is set the same way.
    const float v = (static_cast<float>(h & 0xffffu) / 65536.0f) * 4.0f - 2.0f;
    uint32_t u;
    memcpy(&u, &v, 4);
    p[i] = f16 ? static_cast<uint16_t>(u >> 16) : static_cast<uint16_t>((i & 1) ? (u >> 16) : (h & 0xffffu));
  }
}

__global__ void fill_f32(float* p, int64_t n, float a, float b) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    p[i] = a + b * static_cast<float>(i % 7) / 7.0f;
}

float median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct options {
  int reps = 50;
  int warmup = 5;
};

template <class F>
float time_ms(const options& o, F&& call) {
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));
  for (int i = 0; i < o.warmup; ++i) call(i);
  std::vector<float> t;
  for (int i = 0; i < o.reps; ++i) {
    CHECK_CUDA(cudaEventRecord(a));
    call(i);
    CHECK_CUDA(cudaEventRecord(b));
    CHECK_CUDA(cudaEventSynchronize(b));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  CHECK_CUDA(cudaGetLastError());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return median(t);
}

// GB/s of a cudaMemcpy D2D of 1 GiB, counting bytes read plus written.
double copy_bandwidth(const options& o) {
  const size_t bytes = size_t{1} << 30;
  void *a, *b;
  CHECK_CUDA(cudaMalloc(&a, bytes));
  CHECK_CUDA(cudaMalloc(&b, bytes));
  CHECK_CUDA(cudaMemset(a, 1, bytes));
  const float ms = time_ms(o, [&](int) { CHECK_CUDA(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); });
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (ms * 1e-3) / 1e9;
}

cudnnDataType_t cudnn_type(dtype t) {
  return t == dtype::f32 ? CUDNN_DATA_FLOAT : t == dtype::f16 ? CUDNN_DATA_HALF : CUDNN_DATA_BFLOAT16;
}

struct shape {
  int64_t n, c, h, w;
};

// An empty persistent kernel with `barriers` grid barriers: the fixed cost
// the fused schedule pays for its launch and barriers.
__global__ void barriers_only(int barriers) {
  const cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  for (int i = 0; i < barriers; ++i) grid.sync();
}

void time_barriers(const options& o) {
  int sms = 0, per_sm = 0;
  CHECK_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  CHECK_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, barriers_only, 256, 0));
  for (int grid : {sms, 2 * sms}) {
    if (grid > sms * per_sm) continue;
    std::printf("cooperative launch, %d blocks of 256:", grid);
    for (int barriers = 0; barriers <= 2; ++barriers) {
      void* args[] = {&barriers};
      const float ms = time_ms(o, [&](int) {
        CHECK_CUDA(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(barriers_only), dim3(grid), dim3(256),
                                               args, 0, nullptr));
      });
      std::printf(" %d barriers %.1f us%s", barriers, ms * 1e3, barriers < 2 ? "," : "\n");
    }
  }
}

struct row {
  std::string name;
  double ours_us, launches_us, cudnn_us, ours_gbs, cudnn_gbs;
};

row bench_case(const options& o, cudnnHandle_t handle, const shape& s, layout lay, dtype dt, op_kind op,
               double copy_gbs) {
  problem p;
  p.op = op;
  p.lay = lay;
  p.data_type = dt;
  p.n = s.n, p.c = s.c, p.h = s.h, p.w = s.w;
  const int64_t count = bncheck::element_count(p);
  const size_t data_bytes = static_cast<size_t>(count) * bncheck::size_of(dt);
  // Sets of (x, dy, y, dx) rotated so that their total exceeds the L2 cache.
  const int sets = std::max<int>(2, static_cast<int>((size_t{256} << 20) / (4 * data_bytes)) + 1);
  std::vector<void*> x(sets), dy(sets), y(sets), dx(sets);
  for (int i = 0; i < sets; ++i) {
    for (void** buf : {&x[i], &dy[i], &y[i], &dx[i]}) CHECK_CUDA(cudaMalloc(buf, data_bytes));
    fill_random<<<1024, 256>>>(static_cast<uint16_t*>(x[i]), data_bytes / 2, 17 + i, dt != dtype::f32);
    fill_random<<<1024, 256>>>(static_cast<uint16_t*>(dy[i]), data_bytes / 2, 91 + i, dt != dtype::f32);
  }
  // Per-channel f32 tensors: gamma, beta, mean, var, invstd, running mean/var, dgamma, dbeta.
  float* ch;
  CHECK_CUDA(cudaMalloc(&ch, 9 * s.c * sizeof(float)));
  fill_f32<<<64, 256>>>(ch, 9 * s.c, 0.5f, 1.0f);
  float *gamma = ch, *beta = ch + s.c, *mean = ch + 2 * s.c, *var = ch + 3 * s.c, *invstd = ch + 4 * s.c,
        *rmean = ch + 5 * s.c, *rvar = ch + 6 * s.c, *dgamma = ch + 7 * s.c, *dbeta = ch + 8 * s.c;
  void* ws;
  CHECK_CUDA(cudaMalloc(&ws, bncheck::cuda::workspace_bytes(p)));
  CHECK_CUDA(cudaDeviceSynchronize());

  auto ours_on = [&](int i, bncheck::cuda::schedule sched) {
    bncheck::kernel_io io;
    const int k = i % sets;
    io.x = x[k], io.gamma = gamma;
    if (op == op_kind::forward_training) {
      io.beta = beta, io.y = y[k], io.mean = mean, io.var = var, io.invstd = invstd, io.running_mean = rmean,
      io.running_var = rvar;
    } else if (op == op_kind::forward_inference) {
      io.beta = beta, io.y = y[k], io.running_mean = rmean, io.running_var = rvar;
    } else {
      io.dy = dy[k], io.mean = mean, io.var = var, io.invstd = invstd, io.dx = dx[k], io.dgamma = dgamma,
      io.dbeta = dbeta;
    }
    const bncheck::kernel_result r = bncheck::cuda::run_on_device(p, io, ws, nullptr, sched);
    if (r.status != bncheck::kernel_status::ok) {
      std::fprintf(stderr, "bench_cuda: %s\n", r.message.c_str());
      std::exit(1);
    }
  };

  cudnnTensorDescriptor_t d, pd;
  CHECK_CUDNN(cudnnCreateTensorDescriptor(&d));
  CHECK_CUDNN(cudnnCreateTensorDescriptor(&pd));
  CHECK_CUDNN(cudnnSetTensor4dDescriptor(d, lay == layout::nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW,
                                         cudnn_type(dt), static_cast<int>(s.n), static_cast<int>(s.c),
                                         static_cast<int>(s.h), static_cast<int>(s.w)));
  CHECK_CUDNN(cudnnDeriveBNTensorDescriptor(pd, d, CUDNN_BATCHNORM_SPATIAL));
  const float one = 1, zero = 0;
  auto theirs = [&](int i) {
    const int k = i % sets;
    if (op == op_kind::forward_training)
      CHECK_CUDNN(cudnnBatchNormalizationForwardTraining(handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d, x[k], d, y[k],
                                                         pd, gamma, beta, 0.1, rmean, rvar, 1e-5, mean, invstd));
    else if (op == op_kind::forward_inference)
      CHECK_CUDNN(cudnnBatchNormalizationForwardInference(handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d, x[k], d,
                                                          y[k], pd, gamma, beta, rmean, rvar, 1e-5));
    else
      CHECK_CUDNN(cudnnBatchNormalizationBackward(handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, d, x[k], d,
                                                  dy[k], d, dx[k], pd, gamma, dgamma, dbeta, 1e-5, mean, invstd));
  };

  const double min_bytes = static_cast<double>(data_bytes) * (op == op_kind::backward ? 3 : 2);
  const char* op_name = op == op_kind::forward_training ? "fwd" : op == op_kind::forward_inference ? "inf" : "bwd";
  row r;
  r.name = std::string(op_name) + " N" + std::to_string(s.n) + " C" +
           std::to_string(s.c) + " " + std::to_string(s.h) + "x" + std::to_string(s.w) + " " +
           std::string(bncheck::to_string(lay)) + " " + std::string(bncheck::to_string(dt));
  r.ours_us = time_ms(o, [&](int i) { ours_on(i, bncheck::cuda::schedule::fused); }) * 1e3;
  r.launches_us = time_ms(o, [&](int i) { ours_on(i, bncheck::cuda::schedule::launches); }) * 1e3;
  r.cudnn_us = time_ms(o, theirs) * 1e3;
  r.ours_gbs = min_bytes / (r.ours_us * 1e-6) / 1e9;
  r.cudnn_gbs = min_bytes / (r.cudnn_us * 1e-6) / 1e9;
  std::printf("| %s | %.1f | %.0f | %.0f%% | %.1f | %.1f | %.0f | %.0f%% | %.2f | %s |\n", r.name.c_str(), r.ours_us,
              r.ours_gbs, 100 * r.ours_gbs / copy_gbs, r.launches_us, r.cudnn_us, r.cudnn_gbs,
              100 * r.cudnn_gbs / copy_gbs, r.cudnn_us / r.ours_us,
              bncheck::cuda::schedule_on_device(p, bncheck::cuda::schedule::fused).c_str());
  std::fflush(stdout);
  cudnnDestroyTensorDescriptor(d);
  cudnnDestroyTensorDescriptor(pd);
  for (int i = 0; i < sets; ++i)
    for (void* buf : {x[i], dy[i], y[i], dx[i]}) cudaFree(buf);
  cudaFree(ch);
  cudaFree(ws);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--reps") == 0) o.reps = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--warmup") == 0) o.warmup = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_cuda [--reps N] [--warmup N]\n");
      return 2;
    }
  }
  if (const std::string why = bncheck::cuda::device_unavailable(); !why.empty()) {
    std::fprintf(stderr, "bench_cuda: %s\n", why.c_str());
    return 1;
  }
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  cudnnHandle_t handle;
  CHECK_CUDNN(cudnnCreate(&handle));
  const double copy_gbs = copy_bandwidth(o);
  std::printf("device: %s, %d SMs, L2 %d MB; cuDNN %zu; median of %d calls after %d warm-up\n", prop.name,
              prop.multiProcessorCount, prop.l2CacheSize >> 20, cudnnGetVersion(), o.reps, o.warmup);
  std::printf("device-to-device copy (cudaMemcpy, 1 GiB, read + written): %.0f GB/s\n", copy_gbs);
  time_barriers(o);
  std::printf("\n| case | ours us | ours GB/s | of copy | ours, launches us | cuDNN us | cuDNN GB/s | of copy | "
              "cuDNN/ours time | ours: schedule |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  // bench/torch_bench.py times PyTorch on the same shapes, in the same order.
  const shape shapes[] = {{32, 64, 56, 56}, {32, 256, 28, 28},   {32, 512, 14, 14},
                          {32, 2048, 7, 7}, {256, 256, 28, 28}, {256, 64, 56, 56}};
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (const shape& s : shapes)
      for (layout lay : {layout::nchw, layout::nhwc})
        for (dtype dt : {dtype::f32, dtype::bf16, dtype::f16}) bench_case(o, handle, s, lay, dt, op, copy_gbs);
  cudnnDestroy(handle);
  return 0;
}
