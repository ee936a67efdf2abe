// dlopen, version negotiation, and the adapter from kernel::run to the
// plugin's batch_norm.
#include "abi/loader.hpp"

#include <dlfcn.h>

#include <array>
#include <cstring>
#include <filesystem>

#include <bncheck/bncheck_kernel.h>
#include "abi/convert.hpp"
#include "core/error.hpp"

namespace bncheck::abi {
namespace {

constexpr std::size_t message_capacity = 1024;

std::string status_name(bnc_status s) {
  switch (s) {
    case BNC_OK: return "BNC_OK";
    case BNC_UNIMPLEMENTED: return "BNC_UNIMPLEMENTED";
    case BNC_INVALID_ARGUMENT: return "BNC_INVALID_ARGUMENT";
    case BNC_ERROR: return "BNC_ERROR";
  }
  return "unknown status " + std::to_string(s);
}

class loaded_plugin final : public plugin_kernel {
 public:
  loaded_plugin(std::string path, const bnc_kernel_api* api) : path_(std::move(path)), api_(api) {}
  ~loaded_plugin() override {
    if (created_ && api_->destroy != nullptr) api_->destroy(instance_);
  }

  std::string name() const override { return path_; }
  std::string description() const override { return api_->name != nullptr ? api_->name : ""; }
  // Only a plugin that declares it (1.3) is given data tensors in their own storage.
  bool takes_strides() const override {
    return BNC_HAS_FIELD(api_, bnc_kernel_api, capabilities) && (api_->capabilities & BNC_CAPABILITY_STRIDES) != 0;
  }

  kernel_result run(const problem& p, const kernel_io& io) override {
    std::array<char, message_capacity> message{};
    // An op the plugin's header did not have is not sent: a 1.0 or 1.1
    // plugin would read MERGE_STATISTICS' NULL x as a broken call.
    if (p.op == op_kind::merge_statistics && api_->minor_version < 2)
      return {kernel_status::unimplemented, "the plugin was built against bncheck_kernel.h 1." +
                                                std::to_string(api_->minor_version) +
                                                ", before MERGE_STATISTICS (1.2)"};
    if (!created_) {
      if (!create_error_.empty()) return {kernel_status::error, create_error_};
      if (api_->create != nullptr) {
        bnc_status s = BNC_ERROR;
        try {
          s = api_->create(&instance_, message.data(), message.size());
        } catch (...) {
          set_message(message.data(), message.size(), "an exception escaped create");
        }
        message.back() = '\0';
        if (s != BNC_OK) {
          create_error_ = "the plugin's create returned " + status_name(s) + ": " + message.data();
          return {kernel_status::error, create_error_};
        }
      }
      created_ = true;
    }
    const call_args call(p, io);
    message[0] = '\0';
    bnc_status s = BNC_ERROR;
    try {
      s = api_->batch_norm(instance_, &call.args(), message.data(), message.size());
    } catch (...) {
      // Undefined behaviour already (an exception through a C function);
      // still, report it rather than die.
      return {kernel_status::error, "an exception escaped the plugin's batch_norm"};
    }
    message.back() = '\0';
    const std::string text = message.data();
    switch (s) {
      case BNC_OK:
        try {
          return {kernel_status::ok, "", call.not_produced()};
        } catch (const std::invalid_argument& e) {
          return {kernel_status::error, e.what()};
        }
      case BNC_UNIMPLEMENTED:
        return {kernel_status::unimplemented, text.empty() ? "the plugin returned BNC_UNIMPLEMENTED" : text};
      default: return {kernel_status::error, status_name(s) + (text.empty() ? "" : ": " + text)};
    }
  }

 private:
  std::string path_;
  const bnc_kernel_api* api_;
  void* instance_ = nullptr;
  bool created_ = false;
  std::string create_error_;
};

}  // namespace

bool is_plugin_path(const std::string& kernel_name) {
  const auto ends_with = [&](const std::string& tail) {
    return kernel_name.size() >= tail.size() &&
           kernel_name.compare(kernel_name.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends_with(".so") || kernel_name.find(".so.") != std::string::npos;
}

std::unique_ptr<plugin_kernel> load_plugin(const std::string& path) {
  // dlopen searches the library path for a name without '/'; a user who types
  // --kernel libfoo.so means the file here when there is one.
  std::string file = path;
  if (file.find('/') == std::string::npos && std::filesystem::exists(file)) file = "./" + file;
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw input_error("cannot load plugin '" + path + "': " + (why ? why : "dlopen failed"));
  }
  dlerror();
  void* symbol = dlsym(handle, BNC_GET_KERNEL_API_SYMBOL);
  if (symbol == nullptr)
    throw input_error("plugin '" + path + "' does not export " BNC_GET_KERNEL_API_SYMBOL
                      " (is it built from include/bncheck/bncheck_kernel.h, with BNC_EXPORT?)");
  bnc_get_kernel_api_fn get = nullptr;
  static_assert(sizeof get == sizeof symbol);
  std::memcpy(&get, &symbol, sizeof get);
  return adopt_plugin(path, get(BNC_API_MAJOR));
}

std::unique_ptr<plugin_kernel> adopt_plugin(const std::string& path, const bnc_kernel_api* api) {
  const std::string version = std::to_string(BNC_API_MAJOR) + "." + std::to_string(BNC_API_MINOR);
  if (api == nullptr)
    throw input_error("plugin '" + path + "' does not speak the bncheck kernel interface major version " +
                      std::to_string(BNC_API_MAJOR) + " (this bncheck speaks " + version + ")");
  if (api->struct_size < BNC_KERNEL_API_SIZE_1_0)
    throw input_error("plugin '" + path + "' gave a function table of " + std::to_string(api->struct_size) +
                      " bytes, shorter than version 1.0's " + std::to_string(BNC_KERNEL_API_SIZE_1_0));
  if (api->major_version != BNC_API_MAJOR)
    throw input_error("plugin '" + path + "' gave a table for major version " +
                      std::to_string(api->major_version) + " when asked for " + std::to_string(BNC_API_MAJOR));
  if (api->batch_norm == nullptr) throw input_error("plugin '" + path + "' has no batch_norm function");
  return std::make_unique<loaded_plugin>(path, api);
}

}  // namespace bncheck::abi
