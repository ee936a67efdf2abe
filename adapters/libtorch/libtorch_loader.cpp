// dlopen of the libtorch adapter module and its one entry point.
#include "adapters/libtorch/libtorch_loader.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include "core/installed.hpp"

namespace bncheck::libtorch {
namespace {

using factory = kernel* (*)();

// Stands in for the kernel when the module cannot be loaded: every call
// fails with the reason, so reports say why rather than "unknown kernel".
class unavailable final : public kernel {
 public:
  explicit unavailable(std::string why) : why_(std::move(why)) {}
  std::string name() const override { return "libtorch"; }
  kernel_result run(const problem&, const kernel_io&) override { return {kernel_status::error, why_}; }

 private:
  std::string why_;
};

}  // namespace

std::unique_ptr<kernel> load_libtorch_kernel() {
  static std::once_flag once;
  static factory make = nullptr;
  static std::string why;
  std::call_once(once, [] {
    const char* env = std::getenv("BNCHECK_LIBTORCH_ADAPTER");
    // BNCHECK_LIBTORCH_ADAPTER, else an installed bncheck's module
    // (PREFIX/lib/bncheck/), else the build tree's.
    const std::string module = std::filesystem::path(BNCHECK_LIBTORCH_MODULE).filename().string();
    const std::string path = env != nullptr && *env != '\0'
                                 ? env
                                 : installed_path("lib/bncheck/" + module).value_or(BNCHECK_LIBTORCH_MODULE);
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      why = std::string("libtorch: cannot load the adapter module: ") + dlerror();
      return;
    }
    make = reinterpret_cast<factory>(dlsym(handle, "bncheck_libtorch_kernel_new"));
    if (make == nullptr) why = "libtorch: " + path + " has no bncheck_libtorch_kernel_new";
  });
  if (make == nullptr) return std::make_unique<unavailable>(why);
  return std::unique_ptr<kernel>(make());
}

}  // namespace bncheck::libtorch
