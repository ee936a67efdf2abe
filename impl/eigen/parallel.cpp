// Thread count (set_threads, BNCHECK_THREADS) and the fork-join helper.
#include "impl/eigen/parallel.hpp"

#if defined(__linux__)
#include <sched.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#include "impl/eigen/eigen_kernel.hpp"

namespace bncheck::eigen {
namespace {

std::atomic<int> configured{0};  // 0: the default

// Below this many elements (512 KB of floats) one thread does the work: a
// thread start costs tens of microseconds, about what two cores save on
// such a tensor.
constexpr int64_t min_parallel_elements = int64_t{1} << 17;
constexpr int max_threads = 256;

}  // namespace

void set_threads(int n) { configured.store(std::clamp(n, 0, max_threads)); }

int threads() {
  if (const int n = configured.load(); n > 0) return n;
  if (const char* env = std::getenv("BNCHECK_THREADS"); env != nullptr) {
    const int n = std::atoi(env);
    if (n > 0) return std::min(n, max_threads);
  }
  // Two, as issue 5 asks for the two-core development machine, but never
  // more than the cores this process may run on.
  int cores = static_cast<int>(std::thread::hardware_concurrency());
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
#endif
  return cores <= 0 ? 2 : std::min(2, cores);
}

int threads_for(int64_t elements) { return elements < min_parallel_elements ? 1 : threads(); }

void parallel(int n, const std::function<void(int)>& body) {
  if (n <= 1) {
    body(0);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
  auto guarded = [&](int t) {
    try {
      body(t);
    } catch (...) {
      errors[static_cast<std::size_t>(t)] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(n - 1));
  int started = 1;
  try {
    for (; started < n; ++started) workers.emplace_back(guarded, started);
  } catch (const std::system_error&) {
    // No more threads to be had (a sandbox's limit): the calling thread does
    // the remaining parts itself, with the same results.
  }
  for (int t = started; t < n; ++t) guarded(t);
  guarded(0);
  for (std::thread& w : workers) w.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

channel_range part(int64_t begin, int64_t end, int t, int n) {
  const int64_t count = end - begin, base = count / n, extra = count % n;
  const int64_t first = begin + t * base + std::min<int64_t>(t, extra);
  return {first, first + base + (t < extra ? 1 : 0)};
}

}  // namespace bncheck::eigen
