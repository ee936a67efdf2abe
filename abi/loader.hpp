// Loading a kernel plugin (a shared library implementing include/bncheck/bncheck_kernel.h)
// with dlopen and adapting it to the C++ kernel interface (core/kernel.hpp).
#pragma once

#include <memory>
#include <string>

#include <bncheck/bncheck_kernel.h>
#include "core/kernel.hpp"

namespace bncheck::abi {

/// True when --kernel names a plugin file rather than a built-in kernel: the
/// text ends in ".so" or contains ".so." (a versioned library name).
bool is_plugin_path(const std::string& kernel_name);

/// A loaded plugin as a kernel. name() is the path as given, so that REPRO
/// lines load the same file again; description() is the plugin's own name.
class plugin_kernel : public kernel {
 public:
  /// The plugin's self-reported name (bnc_kernel_api::name), or "" when it gives none.
  virtual std::string description() const = 0;
};

/// Loads the plugin at path (a path without '/' is looked up in the current
/// folder first, then where dlopen looks). Throws input_error when the file
/// cannot be loaded, lacks bnc_get_kernel_api, returns no table for major
/// version BNC_API_MAJOR, or gives a table that is too short or lacks
/// batch_norm. The library is never unloaded. The plugin's create runs
/// lazily, on the first call in the process that makes it (so an isolated
/// run creates the instance in each child, never in the parent).
/// Statuses map as BNC_OK -> ok, BNC_UNIMPLEMENTED -> unimplemented (a skip),
/// anything else -> error, with the plugin's message.
std::unique_ptr<plugin_kernel> load_plugin(const std::string& path);

/// The checks and the kernel of load_plugin, on the table api that the
/// plugin at path handed out (its bnc_get_kernel_api's answer, null when it
/// gave none): throws input_error as load_plugin does; the table must stay
/// valid for the kernel's lifetime.
std::unique_ptr<plugin_kernel> adopt_plugin(const std::string& path, const bnc_kernel_api* api);

}  // namespace bncheck::abi
