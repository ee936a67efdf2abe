// The Eigen kernel's fork-join helper and its pool of worker threads: every
// part runs exactly once, a body's exception reaches the caller, the workers
// stay for the next call and run in the caller's floating-point environment,
// and calls from several threads, from inside a body and from a forked child
// still run every part.
#include "impl/eigen/parallel.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bncheck::eigen {
namespace {

// parallel(n, ...) ran each of its n parts exactly once.
bool each_part_once(int n) {
  std::vector<std::atomic<int>> runs(static_cast<std::size_t>(n));
  parallel(n, [&](int t) { runs[static_cast<std::size_t>(t)].fetch_add(1); });
  for (const std::atomic<int>& r : runs)
    if (r.load() != 1) return false;
  return true;
}

TEST(eigen_parallel, every_part_runs_exactly_once_call_after_call) {
  for (int n : {2, 3, 2, 5, 8, 1, 4})
    for (int call = 0; call < 200; ++call) ASSERT_TRUE(each_part_once(n)) << n << " parts, call " << call;
}

TEST(eigen_parallel, a_bodys_exception_reaches_the_caller_and_the_next_call_runs) {
  EXPECT_THROW(parallel(3,
                        [](int t) {
                          if (t == 2) throw std::runtime_error("part 2");
                        }),
               std::runtime_error);
  EXPECT_TRUE(each_part_once(3));
}

// A thread's identifier can come back for a new thread once the old one is
// joined; a thread-local count cannot.
TEST(eigen_parallel, the_next_call_finds_the_same_worker_threads) {
  thread_local int parts_run_here = 0;
  int first = 0, second = 0;
  parallel(2, [&](int t) {
    if (t == 1) first = ++parts_run_here;
  });
  parallel(2, [&](int t) {
    if (t == 1) second = ++parts_run_here;
  });
  EXPECT_EQ(second, first + 1);
}

// A worker started under one rounding mode runs a later call's part under
// that call's mode, as a thread started for the call would.
TEST(eigen_parallel, workers_run_in_the_callers_rounding_mode) {
  ASSERT_TRUE(each_part_once(4));  // the workers exist, started to nearest
  std::vector<int> modes(4, -1);
  ASSERT_EQ(std::fesetround(FE_UPWARD), 0);
  parallel(4, [&](int t) { modes[static_cast<std::size_t>(t)] = std::fegetround(); });
  std::fesetround(FE_TONEAREST);
  for (int t = 0; t < 4; ++t) EXPECT_EQ(modes[static_cast<std::size_t>(t)], FE_UPWARD) << "part " << t;
}

TEST(eigen_parallel, calls_from_several_threads_at_once_each_run_every_part) {
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      for (int call = 0; call < 100; ++call)
        if (!each_part_once(2 + c)) failures.fetch_add(1);
    });
  for (std::thread& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(eigen_parallel, a_call_from_inside_a_body_runs_every_part) {
  std::vector<std::atomic<int>> inner(4);
  parallel(2, [&](int t) {
    parallel(2, [&](int u) { inner[static_cast<std::size_t>(2 * t + u)].fetch_add(1); });
  });
  for (const std::atomic<int>& r : inner) EXPECT_EQ(r.load(), 1);
}

// fork() keeps only the calling thread: the child must not wait for the
// parent's workers. A child that hangs is killed by its alarm.
TEST(eigen_parallel, a_forked_child_runs_every_part) {
  ASSERT_TRUE(each_part_once(2));  // the parent's pool exists
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    alarm(20);
    bool ok = true;
    for (int call = 0; call < 50; ++call) ok = ok && each_part_once(2 + call % 3);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child was killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(each_part_once(2));  // and the parent's pool still works
}

// chunk_part splits a window of chunks into contiguous parts that cover it,
// each within one chunk of an equal share of the rows, whatever the short
// last chunk; part() by chunk count gives N32 C2048 7x7 (1568 rows) 1024 +
// 544, which is what made one thread do two thirds of its statistics.
TEST(eigen_parallel, chunk_parts_share_the_rows_and_cover_the_window) {
  constexpr int64_t L = 256;
  for (const int64_t M : {int64_t{1}, int64_t{255}, int64_t{256}, int64_t{300}, int64_t{1568},
                          int64_t{6272}, int64_t{4096}, int64_t{100000}})
    for (const int64_t window : {int64_t{1}, int64_t{2}, int64_t{5}, int64_t{1000}})
      for (const int n : {1, 2, 3, 4, 8}) {
        const int64_t K = (M + L - 1) / L;
        for (int64_t k0 = 0; k0 < K; k0 += window) {
          const int64_t k1 = std::min(K, k0 + window);
          const int64_t rows = std::min(M, k1 * L) - k0 * L;
          int64_t next = k0;
          for (int t = 0; t < n; ++t) {
            const channel_range r = chunk_part(k0, k1, M, L, t, n);
            ASSERT_EQ(r.begin, next)
                << "M " << M << ", window at " << k0 << ", part " << t << " of " << n;
            ASSERT_LE(r.begin, r.end);
            const int64_t mine = std::min(M, r.end * L) - std::min(M, r.begin * L);
            EXPECT_LE(std::abs(static_cast<double>(mine) - static_cast<double>(rows) / n),
                      static_cast<double>(L))
                << "M " << M << ", chunks " << k0 << "-" << k1 << ", part " << t << " of " << n
                << ": " << mine << " rows";
            next = r.end;
          }
          EXPECT_EQ(next, k1) << "M " << M << ", window at " << k0 << ", " << n << " parts";
        }
      }
  EXPECT_EQ(chunk_part(0, 7, 1568, L, 0, 2).end, 3);  // 768 rows + 800
}

}  // namespace
}  // namespace bncheck::eigen
