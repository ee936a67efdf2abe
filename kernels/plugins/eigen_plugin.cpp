// Our Eigen kernel behind the C interface (include/bncheck/bncheck_kernel.h), built as
// libbncheck_eigen_plugin.so: proves the loader and the interface lose
// nothing on the way (it must pass the golden corpus as the built-in does)
// and shows a C++ plugin's shape: every exported body wrapped so that no
// exception crosses the boundary (abi::create_kernel and abi::call_kernel).
#include <bncheck/bncheck_kernel.h>
#include "abi/convert.hpp"
#include "impl/eigen/eigen_kernel.hpp"

namespace {

constexpr const char* label = "eigen plugin: ";

bnc_status create(void** instance, char* message, size_t capacity) {
  return bncheck::abi::create_kernel(bncheck::eigen::make_eigen_kernel, instance, label, message, capacity);
}

void destroy(void* instance) { delete static_cast<bncheck::kernel*>(instance); }

bnc_status batch_norm(void* instance, const bnc_batch_norm_args* args, char* message, size_t capacity) {
  return bncheck::abi::call_kernel(instance, args, label, message, capacity);
}

const bnc_kernel_api api = {
    sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, "eigen (bncheck's own kernel, as a plugin)",
    create, destroy, batch_norm,
    BNC_CAPABILITY_STRIDES,  // the kernel densifies data tensors in other storages (docs/cpu-kernel.md)
};

}  // namespace

extern "C" BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version) {
  return major_version == BNC_API_MAJOR ? &api : nullptr;
}
