// Our CUDA kernel ("cuda") or the cuDNN adapter ("cudnn") behind the C
// interface (include/bncheck/bncheck_kernel.h), built as libbncheck_cuda_plugin.so and
// libbncheck_cudnn_plugin.so from this one file: BNC_CUDA_PLUGIN_CUDNN picks
// the kernel. Same shape as eigen_plugin.cpp (abi::create_kernel and
// abi::call_kernel: no exception crosses the boundary). Without a device
// every call returns BNC_UNIMPLEMENTED with "no CUDA device: ...".
#include <memory>

#include <bncheck/bncheck_kernel.h>
#include "abi/convert.hpp"
#if defined(BNC_CUDA_PLUGIN_CUDNN)
#include "adapters/cudnn/cudnn_kernel.hpp"
#define BNC_PLUGIN_LABEL "cudnn plugin: "
#define BNC_PLUGIN_DESCRIPTION "cudnn (cuDNN 9's legacy batch normalization, as a plugin)"
#else
#include "impl/cuda/cuda_kernel.hpp"
#define BNC_PLUGIN_LABEL "cuda plugin: "
#define BNC_PLUGIN_DESCRIPTION "cuda (bncheck's own CUDA kernel, as a plugin)"
#endif

namespace {

std::unique_ptr<bncheck::kernel> make() {
#if defined(BNC_CUDA_PLUGIN_CUDNN)
  return bncheck::cudnn_adapter::make_cudnn_kernel();
#else
  return bncheck::cuda::make_cuda_kernel();
#endif
}

bnc_status create(void** instance, char* message, size_t capacity) {
  return bncheck::abi::create_kernel(make, instance, BNC_PLUGIN_LABEL, message, capacity);
}

void destroy(void* instance) { delete static_cast<bncheck::kernel*>(instance); }

bnc_status batch_norm(void* instance, const bnc_batch_norm_args* args, char* message, size_t capacity) {
  return bncheck::abi::call_kernel(instance, args, BNC_PLUGIN_LABEL, message, capacity);
}

const bnc_kernel_api api = {
    sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, BNC_PLUGIN_DESCRIPTION, create, destroy, batch_norm,
    BNC_CAPABILITY_STRIDES,  // gathered dense on the host before the copy to the device (docs/cuda.md)
};

}  // namespace

extern "C" BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version) {
  return major_version == BNC_API_MAJOR ? &api : nullptr;
}
