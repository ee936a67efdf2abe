// Our CUDA kernel ("cuda") or the cuDNN adapter ("cudnn") behind the C
// interface (abi/bncheck_kernel.h), built as libbncheck_cuda_plugin.so and
// libbncheck_cudnn_plugin.so from this one file: BNC_CUDA_PLUGIN_CUDNN picks
// the kernel. Same shape as eigen_plugin.cpp: every exported body wrapped so
// that no exception crosses the boundary. Without a device every call
// returns BNC_UNIMPLEMENTED with "no CUDA device: ...".
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "abi/bncheck_kernel.h"
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

using bncheck::abi::set_message;

std::unique_ptr<bncheck::kernel> make() {
#if defined(BNC_CUDA_PLUGIN_CUDNN)
  return bncheck::cudnn_adapter::make_cudnn_kernel();
#else
  return bncheck::cuda::make_cuda_kernel();
#endif
}

bnc_status create(void** instance, char* message, size_t capacity) {
  try {
    *instance = make().release();
    return BNC_OK;
  } catch (const std::bad_alloc&) {
    set_message(message, capacity, BNC_PLUGIN_LABEL "out of memory");
  } catch (...) {
    set_message(message, capacity, BNC_PLUGIN_LABEL "cannot create the kernel");
  }
  return BNC_ERROR;
}

void destroy(void* instance) { delete static_cast<bncheck::kernel*>(instance); }

bnc_status batch_norm(void* instance, const bnc_batch_norm_args* args, char* message, size_t capacity) {
  try {
    if (instance == nullptr || args == nullptr) {
      set_message(message, capacity, BNC_PLUGIN_LABEL "null instance or arguments");
      return BNC_INVALID_ARGUMENT;
    }
    const bncheck::abi::decoded_call call = bncheck::abi::decode_args(*args);
    const bncheck::kernel_result r = static_cast<bncheck::kernel*>(instance)->run(call.prob, call.io);
    set_message(message, capacity, r.message);
    switch (r.status) {
      case bncheck::kernel_status::ok:
        if (!r.not_produced.empty()) {  // cudnn saves no variance
          if (!BNC_HAS_FIELD(args, bnc_batch_norm_args, not_produced) || args->not_produced == nullptr) {
            set_message(message, capacity, BNC_PLUGIN_LABEL "outputs not produced, and the caller cannot be told");
            return BNC_ERROR;
          }
          for (const std::string& n : r.not_produced) *args->not_produced |= bncheck::abi::output_bit(n);
        }
        return BNC_OK;
      case bncheck::kernel_status::unimplemented: return BNC_UNIMPLEMENTED;
      case bncheck::kernel_status::error: return BNC_ERROR;
    }
    return BNC_ERROR;
  } catch (const bncheck::abi::unsupported_call& e) {
    set_message(message, capacity, std::string(BNC_PLUGIN_LABEL) + e.what());
    return BNC_UNIMPLEMENTED;
  } catch (const std::invalid_argument& e) {
    set_message(message, capacity, std::string(BNC_PLUGIN_LABEL) + e.what());
    return BNC_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    set_message(message, capacity, std::string(BNC_PLUGIN_LABEL) + e.what());
  } catch (...) {
    set_message(message, capacity, BNC_PLUGIN_LABEL "unknown exception");
  }
  return BNC_ERROR;
}

const bnc_kernel_api api = {
    sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, BNC_PLUGIN_DESCRIPTION, create, destroy, batch_norm,
};

}  // namespace

extern "C" BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version) {
  return major_version == BNC_API_MAJOR ? &api : nullptr;
}
