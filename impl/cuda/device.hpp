// Host-side helpers shared by our CUDA kernel (cuda_kernel.cu) and the cuDNN
// adapter (adapters/cudnn): error text and an owning device allocation.
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace bncheck::cuda {

/// "what: cudaErrorName (description)".
inline std::string cuda_error(const char* what, cudaError_t e) {
  return std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

/// Empty when a CUDA device can be used; else "no CUDA device: " and the
/// reason (the runtime's error, e.g. cudaErrorInsufficientDriver where there
/// is no driver, or that it found no device).
inline std::string no_device_reason() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return std::string("no CUDA device: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
  if (n == 0) return "no CUDA device: the CUDA runtime found 0 devices";
  return {};
}

/// A device allocation freed on scope exit.
struct device_buffer {
  void* ptr = nullptr;
  device_buffer() = default;
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() {
    if (ptr != nullptr) cudaFree(ptr);
  }
};

}  // namespace bncheck::cuda
