// Which compiled variant of the fast loops runs: the best one the processor
// supports, or the one named by set_isa or the environment variable
// BNCHECK_EIGEN_ISA (sse2, avx2, avx512), so that tests can compare variants.
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "impl/eigen/eigen_kernel.hpp"
#include "impl/eigen/fast/fast.hpp"

namespace bncheck::eigen {
namespace {

bool cpu_has(const std::string& name) {
#if defined(__x86_64__) || defined(__i386__)
  if (name == "sse2") return true;
  if (name == "avx2") return __builtin_cpu_supports("avx2");
  if (name == "avx512")
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  return false;
#else
  return name == "sse2";
#endif
}

const fast::table* by_name(const std::string& name) {
  if (name == "sse2") return &fast::table_sse2();
  if (name == "avx2") return &fast::table_avx2();
  if (name == "avx512") return &fast::table_avx512();
  return nullptr;
}

// Set by set_isa; null means automatic.
std::atomic<const fast::table*> chosen{nullptr};

const fast::table& automatic() {
  static const fast::table* const best = [] {
    if (const char* env = std::getenv("BNCHECK_EIGEN_ISA"); env != nullptr && *env != '\0') {
      if (const fast::table* t = by_name(env); t != nullptr && cpu_has(env)) return t;
    }
    for (const char* name : {"avx512", "avx2"})
      if (cpu_has(name)) return by_name(name);
    return &fast::table_sse2();
  }();
  return *best;
}

}  // namespace

namespace fast {
const table& selected() {
  const table* t = chosen.load(std::memory_order_relaxed);
  return t != nullptr ? *t : automatic();
}
}  // namespace fast

std::vector<std::string> supported_isas() {
  std::vector<std::string> names;
  for (const char* name : {"sse2", "avx2", "avx512"})
    if (cpu_has(name)) names.emplace_back(name);
  return names;
}

bool set_isa(const std::string& name) {
  if (name.empty()) {
    chosen.store(nullptr);
    return true;
  }
  const fast::table* t = by_name(name);
  if (t == nullptr || !cpu_has(name)) return false;
  chosen.store(t);
  return true;
}

std::string isa() { return fast::selected().name; }

}  // namespace bncheck::eigen
