// Thread count (set_threads, BNCHECK_THREADS) and the fork-join helper, with
// its pool of worker threads.
#include "impl/eigen/parallel.hpp"

#if defined(__linux__)
#include <sched.h>
#endif
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cfenv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "impl/eigen/eigen_kernel.hpp"

namespace bncheck::eigen {
namespace {

std::atomic<int> configured{0};  // 0: the default

// Below this many elements (512 KB of floats) one thread does the work:
// starting a thread, or waking a worker that has gone to sleep, costs tens
// of microseconds, about what two cores save on such a tensor.
constexpr int64_t min_parallel_elements = int64_t{1} << 17;
constexpr int max_threads = 256;

// How long an idle worker, or a caller waiting for its workers, polls before
// it sleeps in the kernel. A call's regions follow one another within
// microseconds, and so do the calls of a benchmark or a harness sweep; a
// sleeping thread on the development VM takes tens of microseconds to wake
// (docs/cpu-kernel.md, "Threads").
constexpr auto spin_time = std::chrono::microseconds(200);

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Waits until `a` differs from `old`: polls for spin_time, then sleeps.
/// Returns the new value.
std::uint32_t await_change(const std::atomic<std::uint32_t>& a, std::uint32_t old) {
  const auto until = std::chrono::steady_clock::now() + spin_time;
  for (int k = 1;; ++k) {
    const std::uint32_t v = a.load(std::memory_order_acquire);
    if (v != old) return v;
    relax();
    if (k % 256 == 0 && std::chrono::steady_clock::now() > until) break;
  }
  for (;;) {
    a.wait(old, std::memory_order_acquire);
    const std::uint32_t v = a.load(std::memory_order_acquire);
    if (v != old) return v;
  }
}

using guarded_body = std::function<void(int)>;

/// Runs parts [1, n) on threads started here and part 0 on the caller; if
/// no more threads can be had, the caller runs the parts left over.
void on_fresh_threads(int n, const guarded_body& guarded) {
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
}

/// One thread of the pool: the k-th worker started always runs part k;
/// `ticket` changes when it is handed that part of a call.
struct worker {
  explicit worker(int t) : part(t) {}

  alignas(64) std::atomic<std::uint32_t> ticket{0};
  const int part;
  std::thread thread;
};

/// Threads that stay for the next call. One call at a time uses them (the
/// others, and calls from inside a body, start fresh threads). They are
/// joined when the process exits or the library that holds them is
/// unloaded (a plugin); a forked child leaves its parent's pool behind
/// (fork keeps only the forking thread) and starts its own.
struct pool {
  pool() { workers.reserve(max_threads); }  // push_back then never reallocates or throws

  std::atomic<bool> in_use{false};
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<worker>> workers;  // grows; touched only by the user
  const guarded_body* body = nullptr;            // the current job, written before the tickets
  std::fenv_t env{};                             // the caller's rounding and exception modes
  alignas(64) std::atomic<std::uint32_t> pending{0};
  pool* left_behind = nullptr;  // a parent's pool, kept reachable after fork
};

void work(pool* p, worker* w) {
  for (std::uint32_t seen = 0;;) {
    seen = await_change(w->ticket, seen);
    if (p->stop.load(std::memory_order_acquire)) return;
    std::fesetenv(&p->env);
    (*p->body)(w->part);
    if (p->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) p->pending.notify_one();
  }
}

std::atomic<pool*> the_pool{nullptr};
pool* left_behind = nullptr;

void after_fork_in_child() {
  pool* p = the_pool.load(std::memory_order_relaxed);
  if (p == nullptr) return;
  p->left_behind = left_behind;
  left_behind = p;
  the_pool.store(nullptr, std::memory_order_relaxed);
}

/// Stops and joins the pool's workers at exit or unload, so that none
/// outlives the code it runs, unless a call is using them then.
struct pool_owner {
  ~pool_owner() {
    pool* p = the_pool.load(std::memory_order_acquire);
    if (p == nullptr || p->in_use.exchange(true, std::memory_order_acquire)) return;
    p->stop.store(true, std::memory_order_release);
    for (const auto& w : p->workers) {
      w->ticket.fetch_add(1, std::memory_order_release);
      w->ticket.notify_one();
    }
    for (const auto& w : p->workers) w->thread.join();
    the_pool.store(nullptr, std::memory_order_release);
    delete p;
  }
} owner;

pool* get_pool() {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, after_fork_in_child); });
  pool* p = the_pool.load(std::memory_order_acquire);
  if (p != nullptr) return p;
  auto fresh = std::make_unique<pool>();
  if (the_pool.compare_exchange_strong(p, fresh.get(), std::memory_order_acq_rel))
    return fresh.release();
  return p;
}

/// Runs parts [1, n) on the pool's workers, starting any that are missing,
/// and part 0 on the caller. False if the pool is in use.
bool on_pool(int n, const guarded_body& guarded) {
  pool* p = get_pool();
  if (p->in_use.exchange(true, std::memory_order_acquire)) return false;
  struct release {
    pool* p;
    ~release() { p->in_use.store(false, std::memory_order_release); }
  } const releases{p};
  auto& ws = p->workers;
  try {
    while (static_cast<int>(ws.size()) < n - 1) {
      auto w = std::make_unique<worker>(static_cast<int>(ws.size()) + 1);
      w->thread = std::thread(work, p, w.get());
      ws.push_back(std::move(w));
    }
  } catch (const std::system_error&) {
    // As on_fresh_threads: the caller runs the parts without a worker.
  }
  const int handed = std::min(n - 1, static_cast<int>(ws.size()));
  p->body = &guarded;
  std::fegetenv(&p->env);
  p->pending.store(static_cast<std::uint32_t>(handed), std::memory_order_relaxed);
  for (int t = 1; t <= handed; ++t) {
    worker& w = *ws[static_cast<std::size_t>(t - 1)];
    w.ticket.fetch_add(1, std::memory_order_release);
    w.ticket.notify_one();
  }
  for (int t = handed + 1; t < n; ++t) guarded(t);
  guarded(0);
  for (std::uint32_t left; (left = p->pending.load(std::memory_order_acquire)) != 0;)
    await_change(p->pending, left);
  return true;
}

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
  const guarded_body guarded = [&](int t) {
    try {
      body(t);
    } catch (...) {
      errors[static_cast<std::size_t>(t)] = std::current_exception();
    }
  };
  if (!on_pool(n, guarded)) on_fresh_threads(n, guarded);
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

channel_range part(int64_t begin, int64_t end, int t, int n) {
  const int64_t count = end - begin, base = count / n, extra = count % n;
  const int64_t first = begin + t * base + std::min<int64_t>(t, extra);
  return {first, first + base + (t < extra ? 1 : 0)};
}

channel_range chunk_part(int64_t k0, int64_t k1, int64_t M, int64_t length, int t, int n) {
  const int64_t rows = std::min(M, k1 * length) - k0 * length;
  const auto boundary = [&](int u) {
    return u == n ? k1 : k0 + (rows * u / n + length / 2) / length;
  };
  return {boundary(t), boundary(t + 1)};
}

}  // namespace bncheck::eigen
