// The bodies of the fast data loops (fast.hpp), included once per instruction
// set by isa_*.cpp with BNC_ISA naming the variant and BNC_CL_WIDTH the
// number of channels a channel-last loop handles per vector. Everything here
// lives in a namespace of its own per variant and uses no shared inline code
// (no Eigen, no std algorithms), so the linker can never merge an AVX-512
// copy of a function into the baseline variant.
//
// Arithmetic: GCC vector extensions, lane by lane IEEE double operations,
// which -ffp-contract=off keeps from fusing; a vector of 8 doubles is one
// AVX-512 register, two AVX2 or four SSE2 registers, with the same results.
// The order of operations is that of reduction.hpp (chunks of 256 values,
// value k of a chunk into lane k % 8, lanes combined by a fixed tree, chunks
// merged by the binary-counter tree) and routines.hpp.
#include <immintrin.h>  // non-temporal stores and _mm_sfence

#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "impl/eigen/fast/fast.hpp"

#ifndef BNC_ISA
#error "define BNC_ISA (the variant's name) before including kernels-inl.hpp"
#endif
#define BNC_STR2(x) #x
#define BNC_STR(x) BNC_STR2(x)

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
using v8 = vd<8>;

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

template <int W>
inline vd<W> splat(double a) {
  if constexpr (W == 1) {
    return a;
  } else {
    vd<W> v;
    for (int i = 0; i < W; ++i) v[i] = a;
    return v;
  }
}

template <int W>
inline void to_array(vd<W> v, double* out) {
  std::memcpy(out, &v, sizeof(double) * W);
}

/// reduction.hpp: combine_lanes, on one channel's 8 lanes.
inline double combine(v8 l) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}
/// The same tree over 8 lane vectors, one channel per vector element.
template <class V>
inline V combine(const V* l) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
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

// ---------------------------------------------------------------------------
// Channel-first: a channel's values are n runs of s contiguous elements. A
// block of channels is streamed in memory order and each channel's values are
// decoded, in logical order, into a buffer of G chunks; G chunks are summed
// together so that their lane additions (each a chain of 32 dependent
// additions) overlap.

constexpr int group = 4;

template <class T>
inline void decode(const T* src, int64_t n, double* dst) {
  for (int64_t k = 0; k < n; ++k) dst[k] = static_cast<double>(src[k]);
}

// Moments of one chunk of len <= 256 values (stats.cpp: chunk_stats).
moments chunk_stats(const double* b, int64_t len) {
  const double k = b[0];
  const v8 kv = splat<8>(k);
  v8 s = splat<8>(0.0);
  int64_t i = 0;
  for (; i + lanes <= len; i += lanes) s += load<8>(b + i) - kv;
  for (int l = 0; l < len - i; ++l) s[l] += b[i + l] - k;
  const double m = k + combine(s) / static_cast<double>(len);
  const v8 mv = splat<8>(m);
  v8 dev = splat<8>(0.0), sq = splat<8>(0.0);
  i = 0;
  for (; i + lanes <= len; i += lanes) {
    const v8 d = load<8>(b + i) - mv;
    dev += d;
    sq += d * d;
  }
  for (int l = 0; l < len - i; ++l) {
    const double d = b[i + l] - m;
    dev[l] += d;
    sq[l] += d * d;
  }
  return chunk_moments(static_cast<double>(len), m, combine(dev), combine(sq));
}

// chunk_stats of `group` full chunks, chunk g at b + g*chunk, interleaved.
void group_stats(const double* b, moments* out) {
  v8 kv[group], s[group], mv[group], dev[group], sq[group];
  double m[group];
  for (int g = 0; g < group; ++g) kv[g] = splat<8>(b[g * chunk]), s[g] = splat<8>(0.0);
  for (int64_t i = 0; i < chunk; i += lanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) s[g] += load<8>(b + g * chunk + i) - kv[g];
  for (int g = 0; g < group; ++g) {
    m[g] = b[g * chunk] + combine(s[g]) / static_cast<double>(chunk);
    mv[g] = splat<8>(m[g]);
    dev[g] = sq[g] = splat<8>(0.0);
  }
  for (int64_t i = 0; i < chunk; i += lanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) {
      const v8 d = load<8>(b + g * chunk + i) - mv[g];
      dev[g] += d;
      sq[g] += d * d;
    }
  for (int g = 0; g < group; ++g)
    out[g] = chunk_moments(static_cast<double>(chunk), m[g], combine(dev[g]), combine(sq[g]));
}

/// One channel's state while a block is streamed: its next `group` chunks,
/// decoded, and its chunk tree.
template <class Item>
struct channel_state {
  double buf[group * chunk];
  int64_t fill = 0;
  tree<Item> t;
};

/// Streams the channels [c0, c1) of a channel-first tensor in memory order
/// (sample by sample; the channels of a sample are one contiguous region,
/// which the hardware prefetcher follows while the chunks are computed) and
/// decodes each channel's values, in logical order, into its state's buffer.
/// Calls full(state) when a buffer holds `group` chunks, and rest(state)
/// once at the end with the remaining state.fill < group * chunk values.
template <class T, class State, class Full, class Rest>
void stream_block(dims d, const T* x, int64_t c0, int64_t c1, State* states, Full&& full,
                  Rest&& rest) {
  const int64_t B = c1 - c0;
  for (int64_t i = 0; i < d.n; ++i) {
    const T* run = x + (i * d.c + c0) * d.s;
    for (int64_t b = 0; b < B; ++b) {
      State& st = states[b];
      for (int64_t left = d.s; left > 0;) {
        const int64_t take = min64(left, group * chunk - st.fill);
        decode(run, take, st.buf + st.fill);
        st.fill += take;
        run += take;
        left -= take;
        if (st.fill == group * chunk) {
          full(b, st);
          st.fill = 0;
        }
      }
    }
  }
  for (int64_t b = 0; b < B; ++b) rest(b, states[b]);
}

template <class T>
void moments_cf(dims d, const T* x, int64_t c0, int64_t c1, double* mean, double* m2) {
  using state = channel_state<moments>;
  const std::unique_ptr<state[]> states(new state[c1 - c0]);
  stream_block(
      d, x, c0, c1, states.get(),
      [](int64_t, state& st) {
        moments r[group];
        group_stats(st.buf, r);
        for (int g = 0; g < group; ++g) st.t.push(r[g]);
      },
      [&](int64_t b, state& st) {
        const int64_t full = st.fill / chunk;
        for (int64_t g = 0; g < full; ++g) st.t.push(chunk_stats(st.buf + g * chunk, chunk));
        if (st.fill % chunk) st.t.push(chunk_stats(st.buf + full * chunk, st.fill % chunk));
        const moments all = st.t.finish();
        mean[c0 + b] = all.mean;
        m2[c0 + b] = all.m2;
      });
}

// sum(dy) and sum(dy * (x - mu)) of one chunk (backward.cpp: chunk_sums).
sums chunk_sums(const double* bx, const double* bdy, int64_t len, double mu) {
  const v8 muv = splat<8>(mu);
  v8 a = splat<8>(0.0), b = splat<8>(0.0);
  int64_t i = 0;
  for (; i + lanes <= len; i += lanes) {
    const v8 g = load<8>(bdy + i);
    a += g;
    b += g * (load<8>(bx + i) - muv);
  }
  for (int l = 0; l < len - i; ++l) {
    a[l] += bdy[i + l];
    b[l] += bdy[i + l] * (bx[i + l] - mu);
  }
  return {combine(a), combine(b)};
}

void group_sums(const double* bx, const double* bdy, double mu, sums* out) {
  const v8 muv = splat<8>(mu);
  v8 a[group], b[group];
  for (int g = 0; g < group; ++g) a[g] = b[g] = splat<8>(0.0);
  for (int64_t i = 0; i < chunk; i += lanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) {
      const v8 gy = load<8>(bdy + g * chunk + i);
      a[g] += gy;
      b[g] += gy * (load<8>(bx + g * chunk + i) - muv);
    }
  for (int g = 0; g < group; ++g) out[g] = {combine(a[g]), combine(b[g])};
}

/// Two tensors streamed together: x's values in buf, dy's in buf_dy.
struct pair_state {
  double buf[group * chunk];
  double buf_dy[group * chunk];
  int64_t fill = 0;
  tree<sums> t;
};

template <class T>
void sums_cf(dims d, const T* x, const T* dy, int64_t c0, int64_t c1, const double* mean,
             double* sum_dy, double* sum_dy_xc) {
  const int64_t B = c1 - c0;
  const std::unique_ptr<pair_state[]> states(new pair_state[B]);
  for (int64_t i = 0; i < d.n; ++i) {
    const int64_t at = (i * d.c + c0) * d.s;
    const T* rx = x + at;
    const T* rdy = dy + at;
    for (int64_t b = 0; b < B; ++b) {
      pair_state& st = states[b];
      for (int64_t left = d.s; left > 0;) {
        const int64_t take = min64(left, group * chunk - st.fill);
        decode(rx, take, st.buf + st.fill);
        decode(rdy, take, st.buf_dy + st.fill);
        st.fill += take;
        rx += take;
        rdy += take;
        left -= take;
        if (st.fill == group * chunk) {
          sums r[group];
          group_sums(st.buf, st.buf_dy, mean[c0 + b], r);
          for (int g = 0; g < group; ++g) st.t.push(r[g]);
          st.fill = 0;
        }
      }
    }
  }
  for (int64_t b = 0; b < B; ++b) {
    pair_state& st = states[b];
    const double mu = mean[c0 + b];
    const int64_t full = st.fill / chunk;
    for (int64_t g = 0; g < full; ++g)
      st.t.push(chunk_sums(st.buf + g * chunk, st.buf_dy + g * chunk, chunk, mu));
    if (st.fill % chunk)
      st.t.push(chunk_sums(st.buf + full * chunk, st.buf_dy + full * chunk, st.fill % chunk, mu));
    const sums all = st.t.finish();
    sum_dy[c0 + b] = all.first;
    sum_dy_xc[c0 + b] = all.second;
  }
}

// y = (x - shift) * scale + bias over one contiguous run (normalize.cpp).
template <class T>
void affine_run(const T* x, T* y, int64_t n, double shift, double scale, double bias) {
  const v8 sh = splat<8>(shift), sc = splat<8>(scale), bi = splat<8>(bias);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) store<8>(y + k, (load<8>(x + k) - sh) * sc + bi);
  for (; k < n; ++k) y[k] = static_cast<T>((static_cast<double>(x[k]) - shift) * scale + bias);
}

/// Calls f(ch, from, to, out) for the runs of the channels [c0, c1) of every
/// sample, f writing elements [from, to) of the tensor at out (the output
/// itself, or a staging buffer standing for it that stream_copy empties).
template <class T, class F>
void for_each_run_cf(dims d, T* y, int64_t c0, int64_t c1, F&& f) {
  if (!d.stream) {
    for (int64_t i = 0; i < d.n; ++i)
      for (int64_t ch = c0; ch < c1; ++ch) {
        const int64_t at = (i * d.c + ch) * d.s;
        f(ch, at, at + d.s, y + at);
      }
    return;
  }
  alignas(64) T stage[stage_bytes / sizeof(T)];
  constexpr int64_t room = stage_bytes / sizeof(T);
  for (int64_t i = 0; i < d.n; ++i) {
    // The channels [c0, c1) of sample i are one contiguous region.
    const int64_t start = (i * d.c + c0) * d.s, len = (c1 - c0) * d.s;
    for (int64_t a = 0; a < len;) {
      const int64_t b = piece_end(y + start, a, room, len);
      for (int64_t q = a; q < b;) {
        const int64_t ch = c0 + q / d.s;
        const int64_t end = min64(b, (q / d.s + 1) * d.s);
        f(ch, start + q, start + end, stage + (q - a));
        q = end;
      }
      stream_copy(y + start + a, stage, b - a);
      a = b;
    }
  }
  _mm_sfence();
}

template <class T>
void normalize_cf(dims d, const T* x, T* y, int64_t c0, int64_t c1, const double* shift,
                  const double* scale, const double* bias) {
  for_each_run_cf(d, y, c0, c1, [=](int64_t ch, int64_t from, int64_t to, T* out) {
    affine_run(x + from, out, to - from, shift[ch], scale[ch], bias[ch]);
  });
}

// dx = ((dy - dy_mean) - (x - mu) * coef) * scale over one run (backward.cpp).
template <class T>
void dx_run(const T* x, const T* dy, T* dx, int64_t n, double mu, double dy_mean, double coef,
            double scale) {
  const v8 muv = splat<8>(mu), dmv = splat<8>(dy_mean), cov = splat<8>(coef),
           scv = splat<8>(scale);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    store<8>(dx + k, ((load<8>(dy + k) - dmv) - (load<8>(x + k) - muv) * cov) * scv);
  for (; k < n; ++k)
    dx[k] = static_cast<T>(
        ((static_cast<double>(dy[k]) - dy_mean) - (static_cast<double>(x[k]) - mu) * coef) * scale);
}

template <class T>
void dx_cf(dims d, const T* x, const T* dy, T* dx, int64_t c0, int64_t c1, const double* mean,
           const double* dy_mean, const double* coef, const double* scale) {
  for_each_run_cf(d, dx, c0, c1, [=](int64_t ch, int64_t from, int64_t to, T* out) {
    dx_run(x + from, dy + from, out, to - from, mean[ch], dy_mean[ch], coef[ch], scale[ch]);
  });
}

// ---------------------------------------------------------------------------
// Channel-last: a chunk is 256 consecutive rows; W channels are processed
// together, element w of every vector belonging to channel cb + w, with the
// 8 lanes of reduction.hpp as 8 accumulator vectors (row r into lane r % 8).
// Channels are taken in groups whose chunk (256 rows of the group's columns)
// fits in L2, chunk by chunk within a group, so the rows of a chunk are read
// from memory once: the vectors of one W-channel column stay in L1 between
// the two passes, and neighbouring columns share their cache lines.

constexpr int W = BNC_CL_WIDTH;

/// Brings the next chunk's rows into L2 while the current chunk is computed,
/// a line or two per 8 rows of the current one, in memory order: `rows`
/// regions of `bytes` bytes, `stride` bytes apart. The current chunk is read
/// column by column (a line per row), a pattern no hardware prefetcher
/// follows; prefetched row by row, memory sees sequential streams, and
/// spreading the prefetches keeps them from filling the miss buffers at once.
struct prefetcher {
  const char* base = nullptr;
  int64_t stride = 0, bytes = 0, rows = 0, per_step = 0;
  int64_t i = 0, at = 0;

  prefetcher(const void* first, int64_t stride_bytes, int64_t region_bytes, int64_t regions,
             int64_t steps)
      : base(static_cast<const char*>(first)), stride(stride_bytes), bytes(region_bytes),
        rows(region_bytes > 0 ? regions : 0) {
    if (steps > 0) per_step = (rows * (bytes / 64 + 2) + steps - 1) / steps;
  }

  void step() {
    for (int64_t k = 0; k < per_step && i < rows; ++k) {
      __builtin_prefetch(base + i * stride + at, 0, 2);
      at += 64;
      if (at >= bytes) at = 0, ++i;
    }
  }
};

/// Rows [j, j + len) of the channels [g0, g1) of a channel-last tensor, over
/// `steps` calls of step().
template <class T>
prefetcher next_rows(dims d, const T* x, int64_t j, int64_t len, int64_t g0, int64_t g1,
                     int64_t steps) {
  const auto size = static_cast<int64_t>(sizeof(T));
  return {x + j * d.c + g0, d.c * size, (g1 - g0) * size, len, steps};
}

/// Per-channel m (first pass), c = sum(x - m) and q = sum((x - m)^2) of the
/// chunk of len rows starting at x (row stride C), for the w channels at x.
template <int V, class T>
inline void cl_chunk_moments(const T* x, int64_t C, int64_t len, prefetcher& pf, double* m_out,
                             double* c_out, double* q_out) {
  using vt = vd<V>;
  const vt k = load<V>(x);
  vt a[lanes];
  for (int l = 0; l < lanes; ++l) a[l] = splat<V>(0.0);
  int64_t r = 0;
  for (; r + lanes <= len; r += lanes) {
    pf.step();
#pragma GCC unroll 8
    for (int l = 0; l < lanes; ++l) a[l] += load<V>(x + (r + l) * C) - k;
  }
#pragma GCC unroll 8
  for (int l = 0; l < lanes; ++l)
    if (l < len - r) a[l] += load<V>(x + (r + l) * C) - k;
  const vt m = k + combine(a) / splat<V>(static_cast<double>(len));
  vt dev[lanes], sq[lanes];
  for (int l = 0; l < lanes; ++l) dev[l] = sq[l] = splat<V>(0.0);
  r = 0;
  for (; r + lanes <= len; r += lanes) {
    pf.step();
#pragma GCC unroll 8
    for (int l = 0; l < lanes; ++l) {
      const vt dv = load<V>(x + (r + l) * C) - m;
      dev[l] += dv;
      sq[l] += dv * dv;
    }
  }
#pragma GCC unroll 8
  for (int l = 0; l < lanes; ++l)
    if (l < len - r) {
      const vt dv = load<V>(x + (r + l) * C) - m;
      dev[l] += dv;
      sq[l] += dv * dv;
    }
  to_array<V>(m, m_out);
  to_array<V>(combine(dev), c_out);
  to_array<V>(combine(sq), q_out);
}

template <int V, class T>
inline void cl_chunk_sums(const T* x, const T* dy, int64_t C, int64_t len, const double* mean,
                          prefetcher& pf_x, prefetcher& pf_dy, double* a_out, double* b_out) {
  using vt = vd<V>;
  const vt mu = load<V>(mean);
  vt a[lanes], b[lanes];
  for (int l = 0; l < lanes; ++l) a[l] = b[l] = splat<V>(0.0);
  int64_t r = 0;
  for (; r + lanes <= len; r += lanes) {
    pf_x.step();
    pf_dy.step();
#pragma GCC unroll 8
    for (int l = 0; l < lanes; ++l) {
      const vt g = load<V>(dy + (r + l) * C);
      a[l] += g;
      b[l] += g * (load<V>(x + (r + l) * C) - mu);
    }
  }
#pragma GCC unroll 8
  for (int l = 0; l < lanes; ++l)
    if (l < len - r) {
      const vt g = load<V>(dy + (r + l) * C);
      a[l] += g;
      b[l] += g * (load<V>(x + (r + l) * C) - mu);
    }
  to_array<V>(combine(a), a_out);
  to_array<V>(combine(b), b_out);
}

/// Channels per group: 256 rows of a group's columns take 512 KB.
template <class T>
constexpr int64_t cl_group = (int64_t{512} << 10) / (chunk * static_cast<int64_t>(sizeof(T)));

template <class T>
void moments_cl(dims d, const T* x, int64_t c0, int64_t c1, double* mean, double* m2) {
  const int64_t C = d.c, M = d.m();
  const std::unique_ptr<tree<moments>[]> trees(new tree<moments>[cl_group<T>]);
  double m[W], c[W], q[W];
  for (int64_t g0 = c0; g0 < c1; g0 += cl_group<T>) {
    const int64_t g1 = min64(c1, g0 + cl_group<T>);
    for (int64_t ch = g0; ch < g1; ++ch) trees[ch - g0].size = 0;
    for (int64_t j0 = 0; j0 < M; j0 += chunk) {
      const int64_t len = min64(chunk, M - j0);
      const T* rows = x + j0 * C;
      const auto len_d = static_cast<double>(len);
      // Two passes of len / 8 steps per column of W channels.
      const int64_t steps = ((g1 - g0) / W + (g1 - g0) % W) * 2 * (len / lanes);
      prefetcher next = next_rows(d, x, j0 + len, min64(chunk, M - j0 - len), g0, g1, steps);
      int64_t cb = g0;
      for (; cb + W <= g1; cb += W) {
        cl_chunk_moments<W>(rows + cb, C, len, next, m, c, q);
        for (int w = 0; w < W; ++w) trees[cb + w - g0].push(chunk_moments(len_d, m[w], c[w], q[w]));
      }
      for (; cb < g1; ++cb) {
        cl_chunk_moments<1>(rows + cb, C, len, next, m, c, q);
        trees[cb - g0].push(chunk_moments(len_d, m[0], c[0], q[0]));
      }
    }
    for (int64_t ch = g0; ch < g1; ++ch) {
      const moments all = trees[ch - g0].finish();
      mean[ch] = all.mean;
      m2[ch] = all.m2;
    }
  }
}

template <class T>
void sums_cl(dims d, const T* x, const T* dy, int64_t c0, int64_t c1, const double* mean,
             double* sum_dy, double* sum_dy_xc) {
  const int64_t C = d.c, M = d.m();
  constexpr int64_t width = cl_group<T> / 2;  // two tensors
  const std::unique_ptr<tree<sums>[]> trees(new tree<sums>[width]);
  double a[W], b[W];
  for (int64_t g0 = c0; g0 < c1; g0 += width) {
    const int64_t g1 = min64(c1, g0 + width);
    for (int64_t ch = g0; ch < g1; ++ch) trees[ch - g0].size = 0;
    for (int64_t j0 = 0; j0 < M; j0 += chunk) {
      const int64_t len = min64(chunk, M - j0);
      const T* xr = x + j0 * C;
      const T* dyr = dy + j0 * C;
      const int64_t next_len = min64(chunk, M - j0 - len);
      const int64_t steps = ((g1 - g0) / W + (g1 - g0) % W) * (len / lanes);
      prefetcher next_x = next_rows(d, x, j0 + len, next_len, g0, g1, steps);
      prefetcher next_dy = next_rows(d, dy, j0 + len, next_len, g0, g1, steps);
      int64_t cb = g0;
      for (; cb + W <= g1; cb += W) {
        cl_chunk_sums<W>(xr + cb, dyr + cb, C, len, mean + cb, next_x, next_dy, a, b);
        for (int w = 0; w < W; ++w) trees[cb + w - g0].push({a[w], b[w]});
      }
      for (; cb < g1; ++cb) {
        cl_chunk_sums<1>(xr + cb, dyr + cb, C, len, mean + cb, next_x, next_dy, a, b);
        trees[cb - g0].push({a[0], b[0]});
      }
    }
    for (int64_t ch = g0; ch < g1; ++ch) {
      const sums all = trees[ch - g0].finish();
      sum_dy[ch] = all.first;
      sum_dy_xc[ch] = all.second;
    }
  }
}

/// Calls f(r, ch0, ch1, out) for segments of the rows [r0, r1), f writing
/// channels [ch0, ch1) of row r at out (the output itself, or a staging
/// buffer that stream_copy empties). The rows are one contiguous range.
template <class T, class F>
void for_each_segment_cl(dims d, T* y, int64_t r0, int64_t r1, F&& f) {
  const int64_t C = d.c;
  if (!d.stream) {
    for (int64_t r = r0; r < r1; ++r) f(r, 0, C, y + r * C);
    return;
  }
  alignas(64) T stage[stage_bytes / sizeof(T)];
  constexpr int64_t room = stage_bytes / sizeof(T);
  T* const base = y + r0 * C;
  const int64_t len = (r1 - r0) * C;
  for (int64_t a = 0; a < len;) {
    const int64_t b = piece_end(base, a, room, len);
    for (int64_t q = a; q < b;) {
      const int64_t r = r0 + q / C, ch = q % C;
      const int64_t end = min64(b, q - ch + C);
      f(r, ch, ch + (end - q), stage + (q - a));
      q = end;
    }
    stream_copy(base + a, stage, b - a);
    a = b;
  }
  _mm_sfence();
}

// The elementwise loops over channel-last segments take every pointer as an
// argument: the stores may alias anything, so values read through a
// lambda's closure would be reloaded at every vector.
template <class T>
void normalize_segment(const T* x, T* out, int64_t n, const double* shift, const double* scale,
                       const double* bias) {
  int64_t ch = 0;
  for (; ch + 8 <= n; ch += 8)
    store<8>(out + ch,
             (load<8>(x + ch) - load<8>(shift + ch)) * load<8>(scale + ch) + load<8>(bias + ch));
  for (; ch < n; ++ch)
    out[ch] = static_cast<T>((static_cast<double>(x[ch]) - shift[ch]) * scale[ch] + bias[ch]);
}

template <class T>
void dx_segment(const T* x, const T* dy, T* out, int64_t n, const double* mean,
                const double* dy_mean, const double* coef, const double* scale) {
  int64_t ch = 0;
  for (; ch + 8 <= n; ch += 8)
    store<8>(out + ch, ((load<8>(dy + ch) - load<8>(dy_mean + ch)) -
                        (load<8>(x + ch) - load<8>(mean + ch)) * load<8>(coef + ch)) *
                           load<8>(scale + ch));
  for (; ch < n; ++ch)
    out[ch] = static_cast<T>(((static_cast<double>(dy[ch]) - dy_mean[ch]) -
                              (static_cast<double>(x[ch]) - mean[ch]) * coef[ch]) *
                             scale[ch]);
}

template <class T>
void normalize_cl(dims d, const T* x, T* y, int64_t r0, int64_t r1, const double* shift,
                  const double* scale, const double* bias) {
  const int64_t C = d.c;
  for_each_segment_cl(d, y, r0, r1, [=](int64_t r, int64_t ch0, int64_t ch1, T* out) {
    normalize_segment(x + r * C + ch0, out, ch1 - ch0, shift + ch0, scale + ch0, bias + ch0);
  });
}

template <class T>
void dx_cl(dims d, const T* x, const T* dy, T* dx, int64_t r0, int64_t r1, const double* mean,
           const double* dy_mean, const double* coef, const double* scale) {
  const int64_t C = d.c;
  for_each_segment_cl(d, dx, r0, r1, [=](int64_t r, int64_t ch0, int64_t ch1, T* out) {
    const int64_t at = r * C + ch0;
    dx_segment(x + at, dy + at, out, ch1 - ch0, mean + ch0, dy_mean + ch0, coef + ch0,
               scale + ch0);
  });
}

template <class T>
constexpr ops<T> ops_of() {
  return {moments_cf<T>, moments_cl<T>, normalize_cf<T>, normalize_cl<T>,
          sums_cf<T>,    sums_cl<T>,    dx_cf<T>,        dx_cl<T>};
}

}  // namespace

const table variant{BNC_STR(BNC_ISA), ops_of<float>(), ops_of<double>()};

}  // namespace bncheck::eigen::fast::BNC_ISA
