// STREAM-like copy and triad, the bandwidth baselines of bench_cpu: plain
// loops (as STREAM's), each OpenMP thread on one contiguous slice; and the
// two passes of a channel-last kernel (stream_two_pass).
#include <emmintrin.h>

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

void stream_two_pass(float* out, const float* a, const float* b, float s, std::size_t n, std::size_t block,
                     int threads) {
  (void)threads;
  block = std::max<std::size_t>(16, block / 16 * 16);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
  {
    const auto [lo, hi] = my_slice(n);
    // Pass 1, forwards: 32 independent sums, which the compiler keeps in
    // vectors without reassociating anything.
    float part[32] = {};
    std::size_t i = lo;
    if (b != nullptr)
      for (; i + 32 <= hi; i += 32)
        for (int k = 0; k < 32; ++k) part[k] += a[i + k] + b[i + k];
    else
      for (; i + 32 <= hi; i += 32)
        for (int k = 0; k < 32; ++k) part[k] += a[i + k];
    float sum = 0.0f;
    for (float v : part) sum += v;
    for (; i < hi; ++i) sum += b != nullptr ? a[i] + b[i] : a[i];
    // Every thread's sums are needed before any output, as a kernel's
    // per-channel sums are.
#ifdef _OPENMP
#pragma omp barrier
#endif
    // Pass 2: blocks from the last to the first, so that the first block
    // read again is the one pass 1 read last; non-temporal stores. sum * 0
    // is not folded without -ffast-math, so pass 1 cannot be dropped.
    const float f = s + sum * 0.0f;
    const __m128 fv = _mm_set1_ps(f);
    const std::size_t blocks = hi > lo ? (hi - lo + block - 1) / block : 0;
    for (std::size_t k = blocks; k-- > 0;) {
      const std::size_t start = lo + k * block, end = std::min(hi, start + block);
      std::size_t j = start;
      if (b != nullptr) {
        for (; j + 4 <= end; j += 4)
          _mm_stream_ps(out + j, _mm_add_ps(_mm_load_ps(a + j), _mm_mul_ps(fv, _mm_load_ps(b + j))));
        for (; j < end; ++j) out[j] = a[j] + f * b[j];
      } else {
        for (; j + 4 <= end; j += 4) _mm_stream_ps(out + j, _mm_mul_ps(fv, _mm_load_ps(a + j)));
        for (; j < end; ++j) out[j] = f * a[j];
      }
    }
    _mm_sfence();
  }
}

}  // namespace bncheck::bench
