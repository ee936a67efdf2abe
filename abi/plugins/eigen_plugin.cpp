// Our Eigen kernel behind the C interface (abi/bncheck_kernel.h), built as
// libbncheck_eigen_plugin.so: proves the loader and the interface lose
// nothing on the way (it must pass the golden corpus as the built-in does)
// and shows a C++ plugin's shape: every exported body wrapped so that no
// exception crosses the boundary.
#include <exception>
#include <memory>
#include <new>

#include "abi/bncheck_kernel.h"
#include "abi/convert.hpp"
#include "impl/eigen/eigen_kernel.hpp"

namespace {

using bncheck::abi::set_message;

bnc_status create(void** instance, char* message, size_t capacity) {
  try {
    *instance = bncheck::eigen::make_eigen_kernel().release();
    return BNC_OK;
  } catch (const std::bad_alloc&) {
    set_message(message, capacity, "eigen plugin: out of memory");
  } catch (...) {
    set_message(message, capacity, "eigen plugin: cannot create the kernel");
  }
  return BNC_ERROR;
}

void destroy(void* instance) { delete static_cast<bncheck::kernel*>(instance); }

bnc_status batch_norm(void* instance, const bnc_batch_norm_args* args, char* message, size_t capacity) {
  try {
    if (instance == nullptr || args == nullptr) {
      set_message(message, capacity, "eigen plugin: null instance or arguments");
      return BNC_INVALID_ARGUMENT;
    }
    const bncheck::abi::decoded_call call = bncheck::abi::decode_args(*args);
    const bncheck::kernel_result r = static_cast<bncheck::kernel*>(instance)->run(call.prob, call.io);
    set_message(message, capacity, r.message);
    switch (r.status) {
      case bncheck::kernel_status::ok:
        if (!r.not_produced.empty()) {
          if (!BNC_HAS_FIELD(args, bnc_batch_norm_args, not_produced) || args->not_produced == nullptr) {
            set_message(message, capacity, "eigen plugin: outputs not produced, and the caller cannot be told");
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
    set_message(message, capacity, std::string("eigen plugin: ") + e.what());
    return BNC_UNIMPLEMENTED;
  } catch (const std::invalid_argument& e) {
    set_message(message, capacity, std::string("eigen plugin: ") + e.what());
    return BNC_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    set_message(message, capacity, std::string("eigen plugin: ") + e.what());
  } catch (...) {
    set_message(message, capacity, "eigen plugin: unknown exception");
  }
  return BNC_ERROR;
}

const bnc_kernel_api api = {
    sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, "eigen (bncheck's own kernel, as a plugin)",
    create, destroy, batch_norm,
};

}  // namespace

extern "C" BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version) {
  return major_version == BNC_API_MAJOR ? &api : nullptr;
}
