// The channel-first (nchw, ncdhw) loops of the fast kernels, for one variant
// (BNC_ISA): statistics and backward sums by streamed blocks, elementwise
// passes by runs.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "impl/eigen/fast/common-inl.hpp"

#ifndef BNC_ISA
#error "included by kernels-inl.hpp, once per variant"
#endif

namespace bncheck::eigen::fast::BNC_ISA {
namespace {

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
/// f32 data is summed in f32 (f32_chunks-inl.hpp): its buffer is a plain
/// copy, in fixed-size pieces that compile to vector moves (a memcpy of a
/// run of 49 values, N32 C2048 7x7, cost more than the arithmetic).
inline void decode(const float* src, int64_t n, float* dst) {
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) std::memcpy(dst + k, src + k, 16 * sizeof(float));
  if (n - k >= 8) std::memcpy(dst + k, src + k, 8 * sizeof(float)), k += 8;
  if (n - k >= 4) std::memcpy(dst + k, src + k, 4 * sizeof(float)), k += 4;
  if (n - k >= 2) std::memcpy(dst + k, src + k, 2 * sizeof(float)), k += 2;
  if (n - k >= 1) std::memcpy(dst + k, src + k, sizeof(float));
}

/// What a channel's buffer holds: doubles, except f32 data's own values.
template <class T>
using buffer_t = std::conditional_t<std::is_same_v<T, float>, float, double>;

// Moments of one chunk of len <= 256 values (stats.cpp: chunk_stats). The
// lanes are lanes8 (common-inl.hpp); a short chunk's last values go into the
// lanes as an array.
moments chunk_stats(const double* b, int64_t len) {
  const double k = b[0];
  const lanes8 kv = lanes8::all(k);
  lanes8 s = lanes8::all(0.0);
  int64_t i = 0;
  for (; i + lanes <= len; i += lanes) s += lanes8::load(b + i) - kv;
  double sl[lanes];
  s.to(sl);
  for (int l = 0; l < len - i; ++l) sl[l] += b[i + l] - k;
  const double m = k + combine(sl) / static_cast<double>(len);
  const lanes8 mv = lanes8::all(m);
  lanes8 dev = lanes8::all(0.0), sq = lanes8::all(0.0);
  i = 0;
  for (; i + lanes <= len; i += lanes) {
    const lanes8 d = lanes8::load(b + i) - mv;
    dev += d;
    sq += d * d;
  }
  double dl[lanes], ql[lanes];
  dev.to(dl);
  sq.to(ql);
  for (int l = 0; l < len - i; ++l) {
    const double d = b[i + l] - m;
    dl[l] += d;
    ql[l] += d * d;
  }
  return chunk_moments(static_cast<double>(len), m, combine(dl), combine(ql));
}

// chunk_stats of `group` full chunks, chunk g at b + g*chunk, interleaved.
void group_stats(const double* b, moments* out) {
  lanes8 kv[group], s[group], mv[group], dev[group], sq[group];
  double m[group];
  for (int g = 0; g < group; ++g) kv[g] = lanes8::all(b[g * chunk]), s[g] = lanes8::all(0.0);
  for (int64_t i = 0; i < chunk; i += lanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) s[g] += lanes8::load(b + g * chunk + i) - kv[g];
  for (int g = 0; g < group; ++g) {
    m[g] = b[g * chunk] + combine(s[g]) / static_cast<double>(chunk);
    mv[g] = lanes8::all(m[g]);
    dev[g] = sq[g] = lanes8::all(0.0);
  }
  for (int64_t i = 0; i < chunk; i += lanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) {
      const lanes8 d = lanes8::load(b + g * chunk + i) - mv[g];
      dev[g] += d;
      sq[g] += d * d;
    }
  for (int g = 0; g < group; ++g)
    out[g] = chunk_moments(static_cast<double>(chunk), m[g], combine(dev[g]), combine(sq[g]));
}

// sum(dy) and sum(dy * (x - mu)) of one chunk (backward.cpp: chunk_sums).
sums chunk_sums(const double* bx, const double* bdy, int64_t len, double mu) {
  const lanes8 muv = lanes8::all(mu);
  lanes8 a = lanes8::all(0.0), b = lanes8::all(0.0);
  int64_t i = 0;
  for (; i + lanes <= len; i += lanes) {
    const lanes8 g = lanes8::load(bdy + i);
    a += g;
    b += g * (lanes8::load(bx + i) - muv);
  }
  double al[lanes], bl[lanes];
  a.to(al);
  b.to(bl);
  for (int l = 0; l < len - i; ++l) {
    al[l] += bdy[i + l];
    bl[l] += bdy[i + l] * (bx[i + l] - mu);
  }
  return {combine(al), combine(bl)};
}

void group_sums(const double* bx, const double* bdy, double mu, sums* out) {
  const lanes8 muv = lanes8::all(mu);
  lanes8 a[group], b[group];
  for (int g = 0; g < group; ++g) a[g] = b[g] = lanes8::all(0.0);
  for (int64_t i = 0; i < chunk; i += lanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) {
      const lanes8 gy = lanes8::load(bdy + g * chunk + i);
      a[g] += gy;
      b[g] += gy * (lanes8::load(bx + g * chunk + i) - muv);
    }
  for (int g = 0; g < group; ++g) out[g] = {combine(a[g]), combine(b[g])};
}

}  // namespace
}  // namespace bncheck::eigen::fast::BNC_ISA

// The same chunk functions for f32 buffers, in f32 arithmetic.
#include "impl/eigen/fast/f32_chunks-inl.hpp"

namespace bncheck::eigen::fast::BNC_ISA {
namespace {

/// One channel's state while a block is streamed: its next `group` chunks,
/// decoded, and its chunk tree.
template <class Item, class B>
struct channel_state {
  B buf[group * chunk];
  int64_t fill = 0;
  tree<Item> t;
};

/// The run of channel c0 + b in sample i + 1 (null after the last sample),
/// whose lines are asked into L2 while the same run of sample i is read. A
/// block's region of one sample is a few KiB (3 of N32 C2048 7x7, 9 of N32
/// C256 28x28) and the next one is a whole sample further on, so the
/// hardware prefetcher, which stays inside a 4 KiB page, starts cold on
/// every region. Measured on the development machine (docs/cpu-kernel.md):
/// N32 C256 28x28 f32 training 2.70 -> 2.31 ms, C2048 7x7 1.99 -> 1.57;
/// two or eight samples ahead did no better.
template <class T>
inline const T* next_run(dims d, const T* x, int64_t i, int64_t c0, int64_t b) {
  return i + 1 < d.n ? x + ((i + 1) * d.c + c0 + b) * d.s : nullptr;
}

/// Prefetches into L2 the lines of n elements at p (none for a null p).
/// Callers pace it: at most `chunk` elements at a time, as they read as many.
template <class T>
inline void prefetch_elements(const T* p, int64_t n) {
  if (p == nullptr) return;
  const auto* c = reinterpret_cast<const char*>(p);
  const int64_t bytes = n * int64_t{sizeof(T)};
  for (int64_t o = 0; o < bytes; o += 64) __builtin_prefetch(c + o, 0, 2);
}

/// Streams sample i of the channels [c0, c0 + B) of a channel-first tensor
/// (one contiguous region) and decodes each channel's values, in logical
/// order, into its state's buffer, calling full(state) when a buffer holds
/// `group` chunks. Samples 0, 1, ... in turn give each channel its values in
/// order.
template <class T, class State, class Full>
void stream_sample(dims d, const T* x, int64_t i, int64_t c0, int64_t B, State* states,
                   Full&& full) {
  const T* run = x + (i * d.c + c0) * d.s;
  for (int64_t b = 0; b < B; ++b) {
    const T* ahead = next_run(d, x, i, c0, b);
    State& st = states[b];
    for (int64_t left = d.s; left > 0;) {
      const int64_t take = min64(min64(left, chunk), group * chunk - st.fill);
      prefetch_elements(ahead, take);
      decode(run, take, st.buf + st.fill);
      st.fill += take;
      run += take;
      if (ahead != nullptr) ahead += take;
      left -= take;
      if (st.fill == group * chunk) {
        full(st);
        st.fill = 0;
      }
    }
  }
}

// A channel's moments: `group` buffered chunks at a time, then the rest.
template <class B>
void push_group(channel_state<moments, B>& st) {
  moments r[group];
  group_stats(st.buf, r);
  for (int g = 0; g < group; ++g) st.t.push(r[g]);
}
template <class B>
moments finish_moments(channel_state<moments, B>& st) {
  const int64_t full = st.fill / chunk;
  for (int64_t g = 0; g < full; ++g) st.t.push(chunk_stats(st.buf + g * chunk, chunk));
  if (st.fill % chunk) st.t.push(chunk_stats(st.buf + full * chunk, st.fill % chunk));
  const moments all = st.t.finish();
  st.fill = 0;
  st.t.size = 0;
  return all;
}

template <class T>
void moments_cf(dims d, const T* x, int64_t c0, int64_t c1, double* mean, double* m2) {
  using state = channel_state<moments, buffer_t<T>>;
  const std::unique_ptr<state[]> states(new state[c1 - c0]);
  for (int64_t i = 0; i < d.n; ++i)
    stream_sample(d, x, i, c0, c1 - c0, states.get(), push_group<buffer_t<T>>);
  for (int64_t ch = c0; ch < c1; ++ch) {
    const moments all = finish_moments(states[ch - c0]);
    mean[ch] = all.mean;
    m2[ch] = all.m2;
  }
}

/// Two tensors streamed together: x's values in buf, dy's in buf_dy.
template <class B>
struct pair_state {
  B buf[group * chunk];
  B buf_dy[group * chunk];
  int64_t fill = 0;
  tree<sums> t;
};

/// Sample i of the channels [c0, c0 + B) of x and dy into the states, with
/// mean indexed by absolute channel.
template <class T, class B>
void stream_pair_sample(dims d, const T* x, const T* dy, int64_t i, int64_t c0, int64_t nb,
                        const double* mean, pair_state<B>* states) {
  const int64_t at = (i * d.c + c0) * d.s;
  const T* rx = x + at;
  const T* rdy = dy + at;
  for (int64_t b = 0; b < nb; ++b) {
    const T* ahead_x = next_run(d, x, i, c0, b);
    const T* ahead_dy = next_run(d, dy, i, c0, b);
    pair_state<B>& st = states[b];
    for (int64_t left = d.s; left > 0;) {
      const int64_t take = min64(min64(left, chunk), group * chunk - st.fill);
      prefetch_elements(ahead_x, take);
      prefetch_elements(ahead_dy, take);
      decode(rx, take, st.buf + st.fill);
      decode(rdy, take, st.buf_dy + st.fill);
      st.fill += take;
      rx += take;
      rdy += take;
      if (ahead_x != nullptr) ahead_x += take, ahead_dy += take;
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

template <class B>
sums finish_sums(pair_state<B>& st, double mu) {
  const int64_t full = st.fill / chunk;
  for (int64_t g = 0; g < full; ++g)
    st.t.push(chunk_sums(st.buf + g * chunk, st.buf_dy + g * chunk, chunk, mu));
  if (st.fill % chunk)
    st.t.push(chunk_sums(st.buf + full * chunk, st.buf_dy + full * chunk, st.fill % chunk, mu));
  const sums all = st.t.finish();
  st.fill = 0;
  st.t.size = 0;
  return all;
}

template <class T>
void sums_cf(dims d, const T* x, const T* dy, int64_t c0, int64_t c1, const double* mean,
             double* sum_dy, double* sum_dy_xc) {
  using state = pair_state<buffer_t<T>>;
  const std::unique_ptr<state[]> states(new state[c1 - c0]);
  for (int64_t i = 0; i < d.n; ++i)
    stream_pair_sample(d, x, dy, i, c0, c1 - c0, mean, states.get());
  for (int64_t ch = c0; ch < c1; ++ch) {
    const sums all = finish_sums(states[ch - c0], mean[ch]);
    sum_dy[ch] = all.first;
    sum_dy_xc[ch] = all.second;
  }
}

// y = (x - shift) * scale + bias over one contiguous run (normalize.cpp).
template <class T>
void affine_run(const T* x, T* y, int64_t n, double shift, double scale, double bias) {
  const vd<WD> sh = splat<WD>(shift), sc = splat<WD>(scale), bi = splat<WD>(bias);
  int64_t k = 0;
  for (; k + WD <= n; k += WD) store<WD>(y + k, (load<WD>(x + k) - sh) * sc + bi);
  for (; k < n; ++k) y[k] = static_cast<T>((static_cast<double>(x[k]) - shift) * scale + bias);
}

/// Calls f(ch, from, to, out) for the runs of the channels [c0, c1) of the
/// samples [i0, i1), f writing elements [from, to) of the tensor at out (the
/// output itself, or a staging buffer standing for it that stream_copy
/// empties). The caller fences (_mm_sfence) streamed output before another
/// thread may read it.
template <class T, class F>
void for_each_run_cf(dims d, T* y, int64_t c0, int64_t c1, int64_t i0, int64_t i1, F&& f) {
  if (!d.stream) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t ch = c0; ch < c1; ++ch) {
        const int64_t at = (i * d.c + ch) * d.s;
        f(ch, at, at + d.s, y + at);
      }
    return;
  }
  alignas(64) T stage[stage_bytes / sizeof(T)];
  constexpr int64_t room = stage_bytes / sizeof(T);
  for (int64_t i = i0; i < i1; ++i) {
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
}

/// y for the channels [c0, c1) of the samples [i0, i1), unfenced.
template <class T>
void normalize_samples(dims d, const T* x, T* y, int64_t c0, int64_t c1, int64_t i0, int64_t i1,
                       const double* shift, const double* scale, const double* bias) {
  for_each_run_cf(d, y, c0, c1, i0, i1, [=](int64_t ch, int64_t from, int64_t to, T* out) {
    affine_run(x + from, out, to - from, shift[ch], scale[ch], bias[ch]);
  });
}

template <class T>
void normalize_cf(dims d, const T* x, T* y, int64_t c0, int64_t c1, const double* shift,
                  const double* scale, const double* bias) {
  normalize_samples(d, x, y, c0, c1, 0, d.n, shift, scale, bias);
  _mm_sfence();
}

// dx = ((dy - dy_mean) - (x - mu) * coef) * scale over one run (backward.cpp).
template <class T>
void dx_run(const T* x, const T* dy, T* dx, int64_t n, double mu, double dy_mean, double coef,
            double scale) {
  const vd<WD> muv = splat<WD>(mu), dmv = splat<WD>(dy_mean), cov = splat<WD>(coef),
               scv = splat<WD>(scale);
  int64_t k = 0;
  for (; k + WD <= n; k += WD)
    store<WD>(dx + k, ((load<WD>(dy + k) - dmv) - (load<WD>(x + k) - muv) * cov) * scv);
  for (; k < n; ++k)
    dx[k] = static_cast<T>(
        ((static_cast<double>(dy[k]) - dy_mean) - (static_cast<double>(x[k]) - mu) * coef) * scale);
}

/// dx for the channels [c0, c1) of the samples [i0, i1), unfenced.
template <class T>
void dx_samples(dims d, const T* x, const T* dy, T* dx, int64_t c0, int64_t c1, int64_t i0,
                int64_t i1, const double* mean, const double* dy_mean, const double* coef,
                const double* scale) {
  for_each_run_cf(d, dx, c0, c1, i0, i1, [=](int64_t ch, int64_t from, int64_t to, T* out) {
    dx_run(x + from, dy + from, out, to - from, mean[ch], dy_mean[ch], coef[ch], scale[ch]);
  });
}

template <class T>
void dx_cf(dims d, const T* x, const T* dy, T* dx, int64_t c0, int64_t c1, const double* mean,
           const double* dy_mean, const double* coef, const double* scale) {
  dx_samples(d, x, dy, dx, c0, c1, 0, d.n, mean, dy_mean, coef, scale);
  _mm_sfence();
}

}  // namespace
}  // namespace bncheck::eigen::fast::BNC_ISA
