// The kernels bncheck knows by name (kernels/registry.hpp).
#include <memory>
#include <string>
#include <vector>

#include "kernels/registry.hpp"

#include "abi/loader.hpp"
#include "core/error.hpp"
#include "impl/cuda/cuda_kernel.hpp"
#include "impl/eigen/eigen_kernel.hpp"
#include "isolate/isolate.hpp"
#include "kernels/exec_kernel.hpp"
#include "mutants/catalog.hpp"
#if defined(BNCHECK_HAVE_CUDNN)
#include "adapters/cudnn/cudnn_kernel.hpp"
#endif
#if defined(BNCHECK_HAVE_ONEDNN)
#include "adapters/onednn/onednn_kernel.hpp"
#endif
#if defined(BNCHECK_HAVE_DLIB)
#include "adapters/dlib/dlib_kernel.hpp"
#endif
#if defined(BNCHECK_HAVE_LIBTORCH)
#include "adapters/libtorch/libtorch_loader.hpp"
#endif

namespace bncheck {
namespace {

// An isolated kernel that owns the kernel it isolates.
class owning_isolated_kernel final : public kernel {
 public:
  owning_isolated_kernel(std::unique_ptr<kernel> inner, isolation_options o)
      : inner_(std::move(inner)), isolated_(*inner_, o) {}
  std::string name() const override { return isolated_.name(); }
  kernel_result run(const problem& p, const kernel_io& io) override { return isolated_.run(p, io); }
  bool takes_strides() const override { return isolated_.takes_strides(); }

 private:
  std::unique_ptr<kernel> inner_;
  isolated_kernel isolated_;
};

}  // namespace

std::unique_ptr<kernel> make_kernel(const std::string& name) {
  if (name == "eigen") return eigen::make_eigen_kernel();
  if (name == "cuda-host") return cuda::make_cuda_host_kernel();  // the CUDA algorithm, emulated on the CPU
#if defined(BNCHECK_HAVE_CUDA)
  if (name == "cuda") return cuda::make_cuda_kernel();
#endif
#if defined(BNCHECK_HAVE_CUDNN)
  if (name == "cudnn") return cudnn_adapter::make_cudnn_kernel();
#endif
#if defined(BNCHECK_HAVE_ONEDNN)
  if (name == "onednn") return onednn::make_onednn_kernel();
#endif
#if defined(BNCHECK_HAVE_LIBTORCH)
  if (name == "libtorch") return libtorch::load_libtorch_kernel();  // loads libtorch on first use
#endif
#if defined(BNCHECK_HAVE_DLIB)
  if (name == "dlib") return dlib_adapter::make_dlib_kernel();
#endif
  return nullptr;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> names = {"eigen", "cuda-host"};
#if defined(BNCHECK_HAVE_CUDA)
  names.push_back("cuda");
#endif
#if defined(BNCHECK_HAVE_CUDNN)
  names.push_back("cudnn");
#endif
#if defined(BNCHECK_HAVE_ONEDNN)
  names.push_back("onednn");
#endif
#if defined(BNCHECK_HAVE_LIBTORCH)
  names.push_back("libtorch");
#endif
#if defined(BNCHECK_HAVE_DLIB)
  names.push_back("dlib");
#endif
  return names;
}

std::unique_ptr<kernel> kernel_by_name(const std::string& name) {
  std::unique_ptr<kernel> k = make_kernel(name);
  if (!k) k = mutants::make_mutant(name);
  if (!k) k = mutants::make_control(name);
  if (k) return k;
  std::string known;
  for (const auto& n : kernel_names()) known += (known.empty() ? "" : ", ") + n;
  throw input_error("unknown kernel '" + name + "' (known: " + known +
                    "; the mutants and controls that `bncheck mutants` lists; a plugin path ending in .so; or "
                    "'exec:CMD ARGS...', a worker process: docs/protocol.md)");
}

bool isolated(const std::string& name, const open_options& o) {
  if (exec::is_exec_kernel(name)) return true;  // a worker process: its own isolation
  switch (o.isolate) {
    case open_options::isolation::always: return true;
    case open_options::isolation::never: return false;
    case open_options::isolation::automatic: break;
  }
  return abi::is_plugin_path(name);
}

std::unique_ptr<kernel> open_kernel(const std::string& name, const open_options& o) {
  if (exec::is_exec_kernel(name)) return exec::make_exec_kernel(name, o.timeout_seconds);
  std::unique_ptr<kernel> k = abi::is_plugin_path(name) ? abi::load_plugin(name) : kernel_by_name(name);
  if (!isolated(name, o)) return k;
  isolation_options io;
  io.timeout_seconds = o.timeout_seconds;
  return std::make_unique<owning_isolated_kernel>(std::move(k), io);
}

}  // namespace bncheck
