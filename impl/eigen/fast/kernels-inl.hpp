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
// Channel-first: a channel's values are n runs of s contiguous elements. They
// are decoded, G chunks at a time, into an L1 buffer in logical order; G
// chunks are summed together so that their lane additions (each a chain of 32
// dependent additions) overlap.

constexpr int group = 4;

template <class T>
inline void decode(const T* src, int64_t n, double* dst) {
  for (int64_t k = 0; k < n; ++k) dst[k] = static_cast<double>(src[k]);
}

/// Reads one channel's values in logical order.
template <class T>
struct channel_cursor {
  const T* base;   // the channel's run in sample 0
  int64_t stride;  // elements from one sample's run to the next
  int64_t run;     // s
  int64_t i = 0, at = 0;

  void read(int64_t n, double* dst) {
    while (n > 0) {
      const int64_t r = min64(run - at, n);
      decode(base + i * stride + at, r, dst);
      dst += r;
      n -= r;
      at += r;
      if (at == run) at = 0, ++i;
    }
  }
};

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

template <class T>
void moments_cf(dims d, const T* x, int64_t c0, int64_t c1, double* mean, double* m2) {
  alignas(64) double buf[group * chunk];
  const int64_t M = d.m();
  for (int64_t ch = c0; ch < c1; ++ch) {
    tree<moments> t;
    channel_cursor<T> cur{x + ch * d.s, d.c * d.s, d.s};
    for (int64_t j0 = 0; j0 < M;) {
      const int64_t take = min64(M - j0, group * chunk);
      cur.read(take, buf);
      const int64_t full = take / chunk;
      if (full == group) {
        moments r[group];
        group_stats(buf, r);
        for (int g = 0; g < group; ++g) t.push(r[g]);
      } else {
        for (int64_t g = 0; g < full; ++g) t.push(chunk_stats(buf + g * chunk, chunk));
      }
      if (take % chunk) t.push(chunk_stats(buf + full * chunk, take % chunk));
      j0 += take;
    }
    const moments all = t.finish();
    mean[ch] = all.mean;
    m2[ch] = all.m2;
  }
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

template <class T>
void sums_cf(dims d, const T* x, const T* dy, int64_t c0, int64_t c1, const double* mean,
             double* sum_dy, double* sum_dy_xc) {
  alignas(64) double bx[group * chunk];
  alignas(64) double bdy[group * chunk];
  const int64_t M = d.m();
  for (int64_t ch = c0; ch < c1; ++ch) {
    tree<sums> t;
    channel_cursor<T> cx{x + ch * d.s, d.c * d.s, d.s};
    channel_cursor<T> cdy{dy + ch * d.s, d.c * d.s, d.s};
    const double mu = mean[ch];
    for (int64_t j0 = 0; j0 < M;) {
      const int64_t take = min64(M - j0, group * chunk);
      cx.read(take, bx);
      cdy.read(take, bdy);
      const int64_t full = take / chunk;
      if (full == group) {
        sums r[group];
        group_sums(bx, bdy, mu, r);
        for (int g = 0; g < group; ++g) t.push(r[g]);
      } else {
        for (int64_t g = 0; g < full; ++g)
          t.push(chunk_sums(bx + g * chunk, bdy + g * chunk, chunk, mu));
      }
      if (take % chunk)
        t.push(chunk_sums(bx + full * chunk, bdy + full * chunk, take % chunk, mu));
      j0 += take;
    }
    const sums all = t.finish();
    sum_dy[ch] = all.first;
    sum_dy_xc[ch] = all.second;
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

template <class T>
void normalize_cf(dims d, const T* x, T* y, int64_t c0, int64_t c1, const double* shift,
                  const double* scale, const double* bias) {
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t ch = c0; ch < c1; ++ch) {
      const int64_t at = (i * d.c + ch) * d.s;
      affine_run(x + at, y + at, d.s, shift[ch], scale[ch], bias[ch]);
    }
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
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t ch = c0; ch < c1; ++ch) {
      const int64_t at = (i * d.c + ch) * d.s;
      dx_run(x + at, dy + at, dx + at, d.s, mean[ch], dy_mean[ch], coef[ch], scale[ch]);
    }
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

/// Per-channel m (first pass), c = sum(x - m) and q = sum((x - m)^2) of the
/// chunk of len rows starting at x (row stride C), for the w channels at x.
template <int V, class T>
inline void cl_chunk_moments(const T* x, int64_t C, int64_t len, double* m_out, double* c_out,
                             double* q_out) {
  using vt = vd<V>;
  const vt k = load<V>(x);
  vt a[lanes];
  for (int l = 0; l < lanes; ++l) a[l] = splat<V>(0.0);
  int64_t r = 0;
  for (; r + lanes <= len; r += lanes)
#pragma GCC unroll 8
    for (int l = 0; l < lanes; ++l) a[l] += load<V>(x + (r + l) * C) - k;
#pragma GCC unroll 8
  for (int l = 0; l < lanes; ++l)
    if (l < len - r) a[l] += load<V>(x + (r + l) * C) - k;
  const vt m = k + combine(a) / splat<V>(static_cast<double>(len));
  vt dev[lanes], sq[lanes];
  for (int l = 0; l < lanes; ++l) dev[l] = sq[l] = splat<V>(0.0);
  r = 0;
  for (; r + lanes <= len; r += lanes)
#pragma GCC unroll 8
    for (int l = 0; l < lanes; ++l) {
      const vt dv = load<V>(x + (r + l) * C) - m;
      dev[l] += dv;
      sq[l] += dv * dv;
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
                          double* a_out, double* b_out) {
  using vt = vd<V>;
  const vt mu = load<V>(mean);
  vt a[lanes], b[lanes];
  for (int l = 0; l < lanes; ++l) a[l] = b[l] = splat<V>(0.0);
  int64_t r = 0;
  for (; r + lanes <= len; r += lanes)
#pragma GCC unroll 8
    for (int l = 0; l < lanes; ++l) {
      const vt g = load<V>(dy + (r + l) * C);
      a[l] += g;
      b[l] += g * (load<V>(x + (r + l) * C) - mu);
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
      int64_t cb = g0;
      for (; cb + W <= g1; cb += W) {
        cl_chunk_moments<W>(rows + cb, C, len, m, c, q);
        for (int w = 0; w < W; ++w) trees[cb + w - g0].push(chunk_moments(len_d, m[w], c[w], q[w]));
      }
      for (; cb < g1; ++cb) {
        cl_chunk_moments<1>(rows + cb, C, len, m, c, q);
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
      int64_t cb = g0;
      for (; cb + W <= g1; cb += W) {
        cl_chunk_sums<W>(xr + cb, dyr + cb, C, len, mean + cb, a, b);
        for (int w = 0; w < W; ++w) trees[cb + w - g0].push({a[w], b[w]});
      }
      for (; cb < g1; ++cb) {
        cl_chunk_sums<1>(xr + cb, dyr + cb, C, len, mean + cb, a, b);
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

template <class T>
void normalize_cl(dims d, const T* x, T* y, int64_t r0, int64_t r1, const double* shift,
                  const double* scale, const double* bias) {
  const int64_t C = d.c;
  for (int64_t r = r0; r < r1; ++r) {
    const T* in = x + r * C;
    T* out = y + r * C;
    int64_t ch = 0;
    for (; ch + 8 <= C; ch += 8)
      store<8>(out + ch,
               (load<8>(in + ch) - load<8>(shift + ch)) * load<8>(scale + ch) + load<8>(bias + ch));
    for (; ch < C; ++ch)
      out[ch] = static_cast<T>((static_cast<double>(in[ch]) - shift[ch]) * scale[ch] + bias[ch]);
  }
}

template <class T>
void dx_cl(dims d, const T* x, const T* dy, T* dx, int64_t r0, int64_t r1, const double* mean,
           const double* dy_mean, const double* coef, const double* scale) {
  const int64_t C = d.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t at = r * C;
    int64_t ch = 0;
    for (; ch + 8 <= C; ch += 8)
      store<8>(dx + at + ch, ((load<8>(dy + at + ch) - load<8>(dy_mean + ch)) -
                              (load<8>(x + at + ch) - load<8>(mean + ch)) * load<8>(coef + ch)) *
                                 load<8>(scale + ch));
    for (; ch < C; ++ch)
      dx[at + ch] = static_cast<T>(((static_cast<double>(dy[at + ch]) - dy_mean[ch]) -
                                    (static_cast<double>(x[at + ch]) - mean[ch]) * coef[ch]) *
                                   scale[ch]);
  }
}

template <class T>
constexpr ops<T> ops_of() {
  return {moments_cf<T>, moments_cl<T>, normalize_cf<T>, normalize_cl<T>,
          sums_cf<T>,    sums_cl<T>,    dx_cf<T>,        dx_cl<T>};
}

}  // namespace

const table variant{BNC_STR(BNC_ISA), ops_of<float>(), ops_of<double>()};

}  // namespace bncheck::eigen::fast::BNC_ISA
