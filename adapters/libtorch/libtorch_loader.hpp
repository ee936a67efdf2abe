// Loads the libtorch adapter's module on first use, so that only processes
// that run the libtorch kernel load libtorch (about 0.4 s of start-up).
#pragma once

#include <memory>

#include "core/kernel.hpp"

namespace bncheck::libtorch {

/// A libtorch kernel from the module (BNCHECK_LIBTORCH_ADAPTER if set, else
/// the path the build wrote in). The module stays loaded for the life of the
/// process. If it cannot be loaded, a kernel named "libtorch" whose every run
/// reports kernel_status::error with the loader's message.
std::unique_ptr<kernel> load_libtorch_kernel();

}  // namespace bncheck::libtorch
