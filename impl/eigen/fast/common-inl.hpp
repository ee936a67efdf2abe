// Building blocks of the fast loops, for one variant (BNC_ISA): vectors of
// doubles, exact loads and once-rounded stores, staged non-temporal output,
// and reduction.hpp's lane tree, moments, merges and chunk tree.
#pragma once

#include <immintrin.h>  // non-temporal stores and _mm_sfence

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "impl/eigen/fast/fast.hpp"

#ifndef BNC_ISA
#error "included by kernels-inl.hpp, once per variant"
#endif

namespace bncheck::eigen::fast::BNC_ISA {
namespace {


constexpr int64_t chunk = 256;  // reduction.hpp: chunk_length
constexpr int lanes = 8;        // reduction.hpp: lanes

template <int W>
struct vec;
template <>
struct vec<1> {
  using d = double;
  using f = float;
};
template <>
struct vec<2> {
  typedef double d __attribute__((vector_size(16)));
  typedef float f __attribute__((vector_size(8)));
};
template <>
struct vec<4> {
  typedef double d __attribute__((vector_size(32)));
  typedef float f __attribute__((vector_size(16)));
};
template <>
struct vec<8> {
  typedef double d __attribute__((vector_size(64)));
  typedef float f __attribute__((vector_size(32)));
};
template <int W>
using vd = typename vec<W>::d;

/// Doubles per register of this variant: the elementwise loops' vector. A
/// vd<8> there is two AVX2 or four SSE2 registers, which GCC handled as it
/// did the chunks' lanes (below; docs/cpu-kernel.md).
constexpr int WD = BNC_CL_WIDTH;

/// A chunk's N lanes of E (8 doubles or 16 floats) as N / W vectors of the
/// variant's own register, W elements each (BNC_CL_WIDTH doubles,
/// BNC_CL_FLOATS floats): lane l is element l % W of vector l / W. As one
/// 64-byte GCC vector, two AVX2 or four SSE2 registers, GCC kept the lanes
/// on the stack and moved their halves through general registers
/// (docs/cpu-kernel.md, "The chunk functions' lanes"). Every operation is
/// element by element, so each lane adds exactly what it added as an element
/// of the wide vector, in the same order: the bits do not change.
template <class E, int N, int W>
struct lanes_of {
  typedef E reg __attribute__((vector_size(sizeof(E) * W)));
  static constexpr int P = N / W;
  static_assert(P * W == N);
  reg p[P];

  /// N copies of a (a - (+0) is a exactly; one broadcast, see splat).
  static lanes_of all(E a) {
    lanes_of r;
    for (int k = 0; k < P; ++k) r.p[k] = a - reg{};
    return r;
  }
  /// One load per register: a memcpy of the whole array compiled to 16-byte
  /// copies through the stack, and the wider reloads then waited on them.
  static lanes_of load(const E* b) {
    lanes_of r;
    for (int k = 0; k < P; ++k) std::memcpy(&r.p[k], b + k * W, sizeof(reg));
    return r;
  }
  lanes_of& operator+=(const lanes_of& o) {
    for (int k = 0; k < P; ++k) p[k] += o.p[k];
    return *this;
  }
  friend lanes_of operator-(lanes_of a, const lanes_of& b) {
    for (int k = 0; k < P; ++k) a.p[k] -= b.p[k];
    return a;
  }
  friend lanes_of operator*(lanes_of a, const lanes_of& b) {
    for (int k = 0; k < P; ++k) a.p[k] *= b.p[k];
    return a;
  }
  /// The lanes in order, as N values (for a chunk's tail and lane tree).
  /// Element by element: as copies of whole registers, GCC moved the lanes
  /// of group_stats' trees through general registers, 13 % of an AVX-512
  /// moments_cf in L2.
  void to(E* out) const {
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) out[i] = p[i / W][i % W];
  }
};
/// A chunk's 8 lanes of doubles in this variant's registers.
using lanes8 = lanes_of<double, 8, WD>;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Outputs of a large tensor go through an L1 staging buffer and then to
// memory with non-temporal stores, whole 64-byte lines at a time: a regular
// store first reads the line it writes (a third transfer), and would evict
// the block the second pass is reading from L2. The buffer is small so that
// the stores of one piece drain while the next piece is loaded and computed
// (the store buffer holds a few dozen lines' worth, not 16 KiB).
constexpr int64_t stage_bytes = 2 << 10;

/// The end of a piece of output that starts at `from` (elements from dst)
/// and may hold `room` elements: from + room, moved back to a 64-byte
/// boundary of dst when that leaves a non-empty piece, so that pieces meet
/// at line boundaries and no line is written partly by two of them.
template <class T>
int64_t piece_end(const T* dst, int64_t from, int64_t room, int64_t limit) {
  const int64_t end = from + room;
  if (end >= limit) return limit;
  const auto tail = static_cast<int64_t>(reinterpret_cast<uintptr_t>(dst + end) % 64);
  const int64_t aligned = end - (tail % sizeof(T) ? 0 : tail / int64_t{sizeof(T)});
  return aligned > from ? aligned : end;
}

/// Stores the 64 bytes at src to the 64-byte aligned dst, non-temporally.
inline void stream_line(void* dst, const void* src) {
#if defined(__AVX512F__)
  _mm512_stream_si512(static_cast<__m512i*>(dst), _mm512_loadu_si512(src));
#elif defined(__AVX__)
  auto* d = static_cast<__m256i*>(dst);
  const auto* s = static_cast<const __m256i*>(src);
  _mm256_stream_si256(d, _mm256_loadu_si256(s));
  _mm256_stream_si256(d + 1, _mm256_loadu_si256(s + 1));
#else
  auto* d = static_cast<__m128i*>(dst);
  const auto* s = static_cast<const __m128i*>(src);
  for (int k = 0; k < 4; ++k) _mm_stream_si128(d + k, _mm_loadu_si128(s + k));
#endif
}

/// Copies n elements from src to dst: non-temporal stores for the whole
/// lines of dst, regular ones for partial lines at either end. Callers end
/// with _mm_sfence() before other threads may read dst.
template <class T>
void stream_copy(T* dst, const T* src, int64_t n) {
  constexpr int64_t per_line = 64 / sizeof(T);
  const auto misalign = static_cast<int64_t>(reinterpret_cast<uintptr_t>(dst) % 64);
  int64_t k = min64(n, misalign % sizeof(T) ? n : (64 - misalign) % 64 / int64_t{sizeof(T)});
  std::memcpy(dst, src, static_cast<std::size_t>(k) * sizeof(T));
  for (; k + per_line <= n; k += per_line) stream_line(dst + k, src + k);
  std::memcpy(dst + k, src + k, static_cast<std::size_t>(n - k) * sizeof(T));
}

/// Calls f(s, e) on the rows [r0, r1) of a channel-last tensor of d.c
/// elements of `size` bytes per row: once, or, when d.backwards, in blocks of
/// d.block_bytes of each tensor from the last rows to the first, so that
/// the hardware prefetcher still sees long runs and the first block read is
/// what the statistics left in this core's L2 (docs/cpu-kernel.md, "Cache
/// budgets from the machine").
template <class F>
void row_blocks(dims d, int64_t size, int64_t r0, int64_t r1, F&& f) {
  if (!d.backwards) {
    f(r0, r1);
    return;
  }
  const int64_t per_block = d.block_bytes / (size * d.c);
  const int64_t rows = per_block > 1 ? per_block : 1;
  for (int64_t e = r1; e > r0;) {
    const int64_t s = e - rows > r0 ? e - rows : r0;
    f(s, e);
    e = s;
  }
}

/// W consecutive elements at p as doubles (exact).
template <int W, class T>
inline vd<W> load(const T* p) {
  if constexpr (W == 1) {
    return static_cast<double>(*p);
  } else if constexpr (std::is_same_v<T, double>) {
    vd<W> v;
    std::memcpy(&v, p, sizeof v);
    return v;
  } else {
#if defined(__AVX512F__)
    // GCC 12 splits the generic conversion into two halves. (The maskz form
    // with every lane set is the same instruction; the plain intrinsic's
    // undefined source draws a -Wmaybe-uninitialized from GCC 12.)
    if constexpr (W == 8)
      return reinterpret_cast<vd<8>>(_mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(p)));
#endif
    typename vec<W>::f f;
    std::memcpy(&f, p, sizeof f);
    return __builtin_convertvector(f, vd<W>);
  }
}

/// Rounds W doubles once to T and stores them at p.
template <int W, class T>
inline void store(T* p, vd<W> v) {
  if constexpr (W == 1) {
    *p = static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, double>) {
    std::memcpy(p, &v, sizeof v);
  } else {
#if defined(__AVX512F__)
    if constexpr (W == 8) {
      _mm256_storeu_ps(p, _mm512_maskz_cvtpd_ps(0xff, reinterpret_cast<__m512d>(v)));
      return;
    }
#endif
    const typename vec<W>::f f = __builtin_convertvector(v, typename vec<W>::f);
    std::memcpy(p, &f, sizeof f);
  }
}

/// W copies of a (a - (+0) is a exactly; one broadcast, see splatf).
template <int W>
inline vd<W> splat(double a) {
  if constexpr (W == 1)
    return a;
  else
    return a - vd<W>{};
}

template <int W>
inline void to_array(vd<W> v, double* out) {
  std::memcpy(out, &v, sizeof(double) * W);
}

/// reduction.hpp: combine_lanes, on one channel's 8 lanes (V = double), or
/// the same tree over 8 lane vectors, one channel per vector element.
template <class V>
inline V combine(const V* l) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}
/// The same on a chunk's lanes8.
inline double combine(const lanes8& v) {
  double l[lanes];
  v.to(l);
  return combine(l);
}

inline double clamp_negative(double v) { return v < 0 ? 0.0 : v; }

// reduction.hpp: moments, merge, chunk_moments, sum_pair.
struct moments {
  double count, mean, m2;
};
inline void merge(moments& a, const moments& b) {
  const double n = a.count + b.count;
  const double w = b.count / n;
  const double cross = a.count * w;
  a.m2 = (a.m2 + b.m2) + ((b.mean - a.mean) * (b.mean - a.mean)) * cross;
  a.mean = a.mean + (b.mean - a.mean) * w;
  a.count = n;
}
inline moments chunk_moments(double len, double m, double c, double q) {
  return {len, m + c / len, clamp_negative(q - (c * c) / len)};
}
struct sums {
  double first, second;
};
inline void merge(sums& a, const sums& b) {
  a.first = a.first + b.first;
  a.second = a.second + b.second;
}

/// reduction.hpp: pairwise_tree, with a fixed stack (2^40 chunks at most).
template <class Item>
struct tree {
  int size = 0;
  int level[40];
  Item item[40];

  void push(Item it) {
    int lev = 0;
    while (size > 0 && level[size - 1] == lev) {
      Item earlier = item[--size];
      merge(earlier, it);
      it = earlier;
      ++lev;
    }
    level[size] = lev;
    item[size++] = it;
  }
  Item finish() {
    if (size == 0) return Item{};  // never: every channel has a chunk
    Item result = item[--size];
    while (size > 0) {
      Item earlier = item[--size];
      merge(earlier, result);
      result = earlier;
    }
    return result;
  }
};

}  // namespace
}  // namespace bncheck::eigen::fast::BNC_ISA
