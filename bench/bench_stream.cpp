// STREAM-like copy and triad, the bandwidth baselines of bench_cpu: plain
// loops (as STREAM's), each OpenMP thread on one contiguous slice.
#include <algorithm>
#include <cstddef>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench/bench_case.hpp"

namespace bncheck::bench {
namespace {

// [begin, end) of this thread's slice of n, slices a multiple of 16 floats (64 bytes).
std::pair<std::size_t, std::size_t> my_slice(std::size_t n) {
#ifdef _OPENMP
  const auto t = static_cast<std::size_t>(omp_get_thread_num());
  const auto nt = static_cast<std::size_t>(omp_get_num_threads());
#else
  const std::size_t t = 0, nt = 1;
#endif
  const std::size_t per = (n / nt + 15) / 16 * 16;
  const std::size_t begin = std::min(n, t * per);
  return {begin, std::min(n, begin + per)};
}

}  // namespace

void stream_copy(float* a, const float* b, std::size_t n, int threads) {
  (void)threads;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
  {
    const auto [lo, hi] = my_slice(n);
    for (std::size_t i = lo; i < hi; ++i) a[i] = b[i];
  }
}

void stream_triad(float* a, const float* b, const float* c, float s, std::size_t n, int threads) {
  (void)threads;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
  {
    const auto [lo, hi] = my_slice(n);
    for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + s * c[i];
  }
}

}  // namespace bncheck::bench
