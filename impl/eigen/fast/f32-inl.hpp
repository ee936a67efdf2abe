// The loops of f32 data that differ from f64 data's, for one variant
// (BNC_ISA and BNC_CL_FLOATS): channel-last statistics and backward sums in
// f32 lanes, and the elementwise passes of both layouts in f32 arithmetic.
// The order is that of f32_chunks-inl.hpp; channel-last takes BNC_CL_FLOATS
// channels per vector with the 16 lanes as 16 accumulator vectors (row r of
// a chunk into lane r % 16), so nchw and nhwc give the same bits.
//
// Elementwise, per channel, with shift = hi + lo (split_of):
//   y  = ((x - hi) - lo) * scale + bias
//   dx = ((dy - dy_mean) - ((x - hi) - lo) * coef) * scale
// in f32. A channel whose factors f32 does not hold (a shift or an addend
// beyond its range, a scale or coef that would round to a subnormal or to
// zero) uses the f64 formula of channel_first-inl.hpp, and so does any
// element whose f32 result is not finite (an overflow in between), so these
// edges are what they were before f32 arithmetic.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "impl/eigen/fast/channel_first-inl.hpp"
#include "impl/eigen/fast/channel_last-inl.hpp"

#ifndef BNC_ISA
#error "included by kernels-inl.hpp, once per variant"
#endif

namespace bncheck::eigen::fast::BNC_ISA {
namespace {

// ---- factors ---------------------------------------------------------------

/// A multiplying factor f32 holds: finite, and normal unless exactly zero.
inline bool holds_factor(double v, float f) {
  return finite(f) && (f != 0.0f ? __builtin_fabsf(f) >= 0x1p-126f : v == 0.0);
}

struct affine32 {
  split shift;
  float scale, bias;
  bool ok;
};
inline affine32 affine_of(double shift, double scale, double bias) {
  const split sh = split_of(shift);
  const auto sc = static_cast<float>(scale), bi = static_cast<float>(bias);
  return {sh, sc, bi, finite(sh.hi) && holds_factor(scale, sc) && finite(bi)};
}

struct dx32 {
  split mean;
  float dy_mean, coef, scale;
  bool ok;
};
inline dx32 dx_of(double mean, double dy_mean, double coef, double scale) {
  const split mu = split_of(mean);
  const auto dm = static_cast<float>(dy_mean), co = static_cast<float>(coef),
             sc = static_cast<float>(scale);
  return {mu, dm, co, sc,
          finite(mu.hi) && finite(dm) && holds_factor(coef, co) && holds_factor(scale, sc)};
}

/// The f32 formulas of every elementwise loop (the header's comment), for
/// one value (V = float) or one vector of values: the one place their order
/// is written, so that every path gives an element the same bits.
template <class V>
inline V affine_f32(V x, V hi, V lo, V sc, V bi) {
  return ((x - hi) - lo) * sc + bi;
}
template <class V>
inline V dx_f32(V x, V dy, V hi, V lo, V dm, V co, V sc) {
  return ((dy - dm) - ((x - hi) - lo) * co) * sc;
}

// The f64 formulas (channel_first-inl.hpp: affine_run, dx_run) for one element.
inline float affine_wide(float x, double shift, double scale, double bias) {
  return static_cast<float>((static_cast<double>(x) - shift) * scale + bias);
}
inline float dx_wide(float x, float dy, double mu, double dy_mean, double coef, double scale) {
  return static_cast<float>(
      ((static_cast<double>(dy) - dy_mean) - (static_cast<double>(x) - mu) * coef) * scale);
}

/// The vector of the elementwise passes: the variant's own register (WF
/// floats), since an element's result does not depend on the width. A vf<16>
/// there is four SSE2 or two AVX2 registers, and GCC kept it on the stack
/// and moved it through general registers (docs/cpu-kernel.md, "The
/// elementwise vector of AVX2 and SSE2").
using ve = vf<WF>;

/// NaN if any lane of the check vector saw a result that was not finite
/// (r - r is 0 for a finite r, NaN otherwise).
inline bool all_finite(ve check, float tail) {
  float l[WF];
  std::memcpy(l, &check, sizeof l);
  for (int w = 0; w < WF; ++w) tail += l[w];
  return finite(tail);
}

/// Stores v at dst (aligned to its size) non-temporally.
inline void stream_ve(float* dst, ve v) {
#if defined(__AVX512F__)
  static_assert(WF == 16);
  _mm512_stream_ps(dst, reinterpret_cast<__m512>(v));
#elif defined(__AVX__)
  static_assert(WF == 8);
  _mm256_stream_ps(dst, reinterpret_cast<__m256>(v));
#else
  static_assert(WF == 4);
  _mm_stream_ps(dst, reinterpret_cast<__m128>(v));
#endif
}

/// Stores v at dst: non-temporally (aligned) for a streamed output (S),
/// else with a regular store.
template <bool S>
inline void put_ve(float* dst, ve v) {
  if constexpr (S)
    stream_ve(dst, v);
  else
    storef<WF>(dst, v);
}

// ---- channel-first elementwise ------------------------------------------

// y over one run of a channel f32 holds; returns the check sum of its results.
inline ve affine_run_f32(const float* x, float* y, int64_t n, const affine32& f, float& tail) {
  const ve hi = splatf<WF>(f.shift.hi), lo = splatf<WF>(f.shift.lo),
           sc = splatf<WF>(f.scale), bi = splatf<WF>(f.bias);
  ve check = splatf<WF>(0.0f);
  int64_t k = 0;
  for (; k + WF <= n; k += WF) {
    const ve r = affine_f32(loadf<WF>(x + k), hi, lo, sc, bi);
    storef<WF>(y + k, r);
    check += r - r;
  }
  for (; k < n; ++k) {
    const float r = affine_f32(x[k], f.shift.hi, f.shift.lo, f.scale, f.bias);
    y[k] = r;
    tail += r - r;
  }
  return check;
}

/// Visits every element of the channels [c0, c1) of the samples [i0, i1)
/// of a channel-first tensor whose output is not finite, after the pass that
/// wrote them (fenced first: the pass may have streamed them).
template <class F>
void fix_cf(dims d, float* out, int64_t c0, int64_t c1, int64_t i0, int64_t i1, F&& fix) {
  _mm_sfence();
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t ch = c0; ch < c1; ++ch) {
      const int64_t at = (i * d.c + ch) * d.s;
      for (int64_t j = 0; j < d.s; ++j)
        if (!finite(out[at + j])) out[at + j] = fix(ch, at + j);
    }
}

/// Integer lanes of the elementwise vector, for masks of its lanes.
typedef int32_t vei __attribute__((vector_size(sizeof(ve))));

/// 0, 1, ..., WF - 1.
inline vei lane_numbers() {
  vei v;
  for (int w = 0; w < WF; ++w) v[w] = w;
  return v;
}

/// The K f32 factors of one channel for the elementwise passes over whole
/// regions (affine: hi, lo, scale, bias; dx: hi, lo, dy_mean, coef, scale).
template <int K>
using factors_f32 = std::array<float, K>;

/// The channels [c0, c1) of the samples [i0, i1) of a channel-first f32
/// output where every run fills a vector (d.s >= WF): each sample's
/// channels are one region, taken in vectors aligned to the output that may
/// span two channels, the lanes before the boundary with one channel's
/// factors and the rest with the next's (f[k] for channel c0 + k, with one
/// extra entry after the last). vec(at, g) gives the WF results from
/// element `at` with g the factors lane by lane, one(at, fk) one result;
/// the vectors are stored non-temporally if S. Runs of 49 values then cost
/// no loop, staging or set-up of their own (docs/cpu-kernel.md,
/// "Channel-first elementwise passes over whole regions"). Each element gets
/// its channel's factors in the formula its run would give it: the same
/// bits. Returns the check sum of the vectors' results (one adds its own).
template <bool S, int K, class Vec, class One>
ve over_regions_f32(dims d, float* out, int64_t c0, int64_t c1, int64_t i0, int64_t i1,
                    const factors_f32<K>* f, Vec&& vec, One&& one) {
  const vei lane = lane_numbers();
  const int64_t s = d.s, len = (c1 - c0) * s;
  ve check = splatf<WF>(0.0f);
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t start = (i * d.c + c0) * s;
    const auto off = static_cast<int64_t>(reinterpret_cast<uintptr_t>(out + start) /
                                          sizeof(float) % WF);
    const int64_t head = min64(len, (WF - off) % WF);
    int64_t q = 0, k = 0, b = s;  // channel c0 + k holds the elements [b - s, b)
    for (; q < head; ++q) out[start + q] = one(start + q, f[0]);  // head < WF <= s
    ve g0[K], g1[K], g[K];
    for (int j = 0; j < K; ++j) g0[j] = splatf<WF>(f[0][j]), g1[j] = splatf<WF>(f[1][j]);
    for (; q + WF <= len; q += WF) {
      if (q >= b) {  // at most one boundary per vector: WF <= s
        ++k, b += s;
        for (int j = 0; j < K; ++j) g0[j] = g1[j], g1[j] = splatf<WF>(f[k + 1][j]);
      }
      const vei mine = lane < static_cast<int32_t>(min64(b - q, WF));
      for (int j = 0; j < K; ++j) g[j] = mine ? g0[j] : g1[j];
      const ve r = vec(start + q, g);
      put_ve<S>(out + start + q, r);
      check += r - r;
    }
    for (; q < len; ++q) {
      if (q >= b) ++k, b += s;
      out[start + q] = one(start + q, f[k]);
    }
  }
  return check;
}

/// Runs over_regions_f32 where it applies: every run fills a vector and
/// make(ch, fk) found every channel's factors held. Otherwise false, having
/// written nothing.
template <int K, class Make, class Vec, class One>
bool by_regions_f32(dims d, float* out, int64_t c0, int64_t c1, int64_t i0, int64_t i1,
                    Make&& make, Vec&& vec, One&& one, ve& check) {
  if (d.s < WF || c1 <= c0) return false;
  constexpr int64_t few = 64;
  factors_f32<K> local[few + 1];
  std::unique_ptr<factors_f32<K>[]> many;
  if (c1 - c0 > few) many.reset(new factors_f32<K>[c1 - c0 + 1]);
  factors_f32<K>* const f = many ? many.get() : local;
  for (int64_t ch = c0; ch < c1; ++ch)
    if (!make(ch, f[ch - c0])) return false;
  f[c1 - c0] = f[c1 - c0 - 1];
  check = d.stream ? over_regions_f32<true, K>(d, out, c0, c1, i0, i1, f, vec, one)
                   : over_regions_f32<false, K>(d, out, c0, c1, i0, i1, f, vec, one);
  return true;
}

/// y of f32 data for the channels [c0, c1) of the samples [i0, i1), unfenced
/// (channel_first-inl.hpp: normalize_samples, for f64 data).
void normalize_samples(dims d, const float* x, float* y, int64_t c0, int64_t c1, int64_t i0,
                       int64_t i1, const double* shift, const double* scale, const double* bias) {
  ve check = splatf<WF>(0.0f);
  float tail = 0.0f;
  const bool regions = by_regions_f32<4>(
      d, y, c0, c1, i0, i1,
      [&](int64_t ch, factors_f32<4>& g) {
        const affine32 f = affine_of(shift[ch], scale[ch], bias[ch]);
        g = {f.shift.hi, f.shift.lo, f.scale, f.bias};
        return f.ok;
      },
      [&](int64_t at, const ve(&g)[4]) {
        return affine_f32(loadf<WF>(x + at), g[0], g[1], g[2], g[3]);
      },
      [&](int64_t at, const factors_f32<4>& g) {
        const float r = affine_f32(x[at], g[0], g[1], g[2], g[3]);
        tail += r - r;
        return r;
      },
      check);
  if (!regions)
    for_each_run_cf(d, y, c0, c1, i0, i1, [&](int64_t ch, int64_t from, int64_t to, float* out) {
      const affine32 f = affine_of(shift[ch], scale[ch], bias[ch]);
      if (f.ok)
        check += affine_run_f32(x + from, out, to - from, f, tail);
      else
        affine_run<float>(x + from, out, to - from, shift[ch], scale[ch], bias[ch]);
    });
  if (all_finite(check, tail)) return;
  fix_cf(d, y, c0, c1, i0, i1, [=](int64_t ch, int64_t at) {
    return affine_wide(x[at], shift[ch], scale[ch], bias[ch]);
  });
}

void normalize_cf_f32(dims d, const float* x, float* y, int64_t c0, int64_t c1,
                      const double* shift, const double* scale, const double* bias) {
  normalize_samples(d, x, y, c0, c1, 0, d.n, shift, scale, bias);
  _mm_sfence();
}

inline ve dx_run_f32(const float* x, const float* dy, float* dx, int64_t n, const dx32& f,
                     float& tail) {
  const ve hi = splatf<WF>(f.mean.hi), lo = splatf<WF>(f.mean.lo),
           dm = splatf<WF>(f.dy_mean), co = splatf<WF>(f.coef), sc = splatf<WF>(f.scale);
  ve check = splatf<WF>(0.0f);
  int64_t k = 0;
  for (; k + WF <= n; k += WF) {
    const ve r = dx_f32(loadf<WF>(x + k), loadf<WF>(dy + k), hi, lo, dm, co, sc);
    storef<WF>(dx + k, r);
    check += r - r;
  }
  for (; k < n; ++k) {
    const float r = dx_f32(x[k], dy[k], f.mean.hi, f.mean.lo, f.dy_mean, f.coef, f.scale);
    dx[k] = r;
    tail += r - r;
  }
  return check;
}

/// dx of f32 data for the channels [c0, c1) of the samples [i0, i1), unfenced.
void dx_samples(dims d, const float* x, const float* dy, float* dx, int64_t c0, int64_t c1,
                int64_t i0, int64_t i1, const double* mean, const double* dy_mean,
                const double* coef, const double* scale) {
  ve check = splatf<WF>(0.0f);
  float tail = 0.0f;
  const bool regions = by_regions_f32<5>(
      d, dx, c0, c1, i0, i1,
      [&](int64_t ch, factors_f32<5>& g) {
        const dx32 f = dx_of(mean[ch], dy_mean[ch], coef[ch], scale[ch]);
        g = {f.mean.hi, f.mean.lo, f.dy_mean, f.coef, f.scale};
        return f.ok;
      },
      [&](int64_t at, const ve(&g)[5]) {
        return dx_f32(loadf<WF>(x + at), loadf<WF>(dy + at), g[0], g[1], g[2], g[3], g[4]);
      },
      [&](int64_t at, const factors_f32<5>& g) {
        const float r = dx_f32(x[at], dy[at], g[0], g[1], g[2], g[3], g[4]);
        tail += r - r;
        return r;
      },
      check);
  if (!regions)
    for_each_run_cf(d, dx, c0, c1, i0, i1, [&](int64_t ch, int64_t from, int64_t to, float* out) {
      const dx32 f = dx_of(mean[ch], dy_mean[ch], coef[ch], scale[ch]);
      if (f.ok)
        check += dx_run_f32(x + from, dy + from, out, to - from, f, tail);
      else
        dx_run<float>(x + from, dy + from, out, to - from, mean[ch], dy_mean[ch], coef[ch],
                      scale[ch]);
    });
  if (all_finite(check, tail)) return;
  fix_cf(d, dx, c0, c1, i0, i1, [=](int64_t ch, int64_t at) {
    return dx_wide(x[at], dy[at], mean[ch], dy_mean[ch], coef[ch], scale[ch]);
  });
}

void dx_cf_f32(dims d, const float* x, const float* dy, float* dx, int64_t c0, int64_t c1,
               const double* mean, const double* dy_mean, const double* coef,
               const double* scale) {
  dx_samples(d, x, dy, dx, c0, c1, 0, d.n, mean, dy_mean, coef, scale);
  _mm_sfence();
}

// ---- channel-first forward training and backward, pipelined -------------

// Blocks of channels alternate a reading phase (statistics or sums: x, and
// dy, from memory) and a writing phase (y or dx from the block, now in L2).
// Done one after the other, memory idles in each phase the direction the
// other needs; here the writing phase of block b runs sample by sample
// between the samples of block b + 1's reading phase, so both directions
// stream at once. Every channel gets exactly the operations of moments_cf
// and normalize_cf (sums_cf and dx_cf): the same bits.

template <class T>
void train_cf(dims d, const T* x, T* y, int64_t c0, int64_t c1, int64_t block, double* mean,
              double* m2, block_fn factors, void* ctx, const double* shift,
              const double* scale, const double* bias) {
  using state = channel_state<moments, buffer_t<T>>;
  const std::unique_ptr<state[]> states(new state[block]);
  int64_t p0 = 0, p1 = 0;  // the block whose y is still to be written
  for (int64_t b0 = c0; b0 < c1; b0 += block) {
    const int64_t b1 = min64(c1, b0 + block);
    for (int64_t i = 0; i < d.n; ++i) {
      stream_sample(d, x, i, b0, b1 - b0, states.get(), push_group<buffer_t<T>>);
      if (p1 > p0) normalize_samples(d, x, y, p0, p1, i, i + 1, shift, scale, bias);
    }
    for (int64_t ch = b0; ch < b1; ++ch) {
      const moments all = finish_moments(states[ch - b0]);
      mean[ch] = all.mean;
      m2[ch] = all.m2;
    }
    factors(ctx, b0, b1);
    p0 = b0, p1 = b1;
  }
  if (p1 > p0) normalize_samples(d, x, y, p0, p1, 0, d.n, shift, scale, bias);
  _mm_sfence();
}

template <class T>
void backward_cf(dims d, const T* x, const T* dy, T* dx, int64_t c0, int64_t c1, int64_t block,
                 const double* mean, double* sum_dy, double* sum_dy_xc, block_fn factors,
                 void* ctx, const double* dy_mean, const double* coef, const double* scale) {
  using state = pair_state<buffer_t<T>>;
  const std::unique_ptr<state[]> states(new state[block]);
  int64_t p0 = 0, p1 = 0;  // the block whose dx is still to be written
  for (int64_t b0 = c0; b0 < c1; b0 += block) {
    const int64_t b1 = min64(c1, b0 + block);
    for (int64_t i = 0; i < d.n; ++i) {
      stream_pair_sample(d, x, dy, i, b0, b1 - b0, mean, states.get());
      if (p1 > p0)
        dx_samples(d, x, dy, dx, p0, p1, i, i + 1, mean, dy_mean, coef, scale);
    }
    for (int64_t ch = b0; ch < b1; ++ch) {
      const sums all = finish_sums(states[ch - b0], mean[ch]);
      sum_dy[ch] = all.first;
      sum_dy_xc[ch] = all.second;
    }
    factors(ctx, b0, b1);
    p0 = b0, p1 = b1;
  }
  if (p1 > p0) dx_samples(d, x, dy, dx, p0, p1, 0, d.n, mean, dy_mean, coef, scale);
  _mm_sfence();
}

// ---- channel-last statistics and sums -----------------------------------

// A unit (chunk x channel group) is read row by row, in memory order: a
// column of one vector of channels over 256 rows (one line per row, a row
// apart) is a pattern neither the hardware prefetcher nor the L1 (whose sets
// a row stride aliases) serves well; measured on the development machine,
// column sweeps read 27 GB/s where rows read 53. Lane l of the unit's
// channel j then lives in memory, at acc[l * G + j]: row r adds into lane
// r % 16 as before, so a lane's additions keep their order and the bits
// are those of f32_chunks-inl.hpp.
//
// Pass 2 reads the unit again, from L2 where pass 1 left it, so it can take
// the rows in any order: it runs lane by lane instead (lane l: rows l,
// l + 16, l + 32, ...), a strip of channels at a time, with the strip's
// lanes in registers, stored once. The additions and their order are the
// same; row by row, each vector cost a load and a store of each of its two
// lanes in L1. Pass 1 and the backward sums, whose rows the prefetcher of
// the unit before brought into L2 (the hardware's, for the sums of units of
// whole rows), go by blocks of 64 rows: lane l takes its
// four rows of a block (l, l + 16, l + 32, l + 48) in one step, in order, so
// that its lanes are loaded and stored once per four rows; a unit's last
// 0-63 rows go one at a time (docs/cpu-kernel.md,
// "Lanes in registers" and "Four rows of one lane per step").

/// Channels per unit: two lane arrays of 16 x 256 floats (32 KiB) stay in
/// the L1 beside the row being read.
constexpr int64_t cl_lanes_width = 256;

/// Lane arrays of one unit.
struct cl_lanes {
  alignas(64) float a[flanes * cl_lanes_width];
  alignas(64) float b[flanes * cl_lanes_width];
  alignas(64) float k[cl_lanes_width];  ///< pass 1's shift, then the first means
  alignas(64) float s[cl_lanes_width];
  alignas(64) float t[cl_lanes_width];
};

inline void zero_lanes(float* acc, int64_t G) {
  std::memset(acc, 0, static_cast<std::size_t>(flanes * G) * sizeof(float));
}

/// out[j] = the lane tree (tree16) of channel j's 16 lanes in acc.
inline void lane_tree(const float* acc, int64_t G, float* out) {
  int64_t j = 0;
  for (; j + WF <= G; j += WF) {
    vf<WF> l[flanes];
    for (int q = 0; q < flanes; ++q) l[q] = loadf<WF>(acc + q * G + j);
    storef<WF>(out + j, tree16(l));
  }
  for (; j < G; ++j) {
    float l[flanes];
    for (int q = 0; q < flanes; ++q) l[q] = acc[q * G + j];
    out[j] = tree16(l);
  }
}

/// a + b, rounded once, computed as fma(a, one, b) where one holds 1.0f in
/// every element: a * 1 is exact, so the result is the sum's, bit for bit.
/// On Zen 4 an FMA runs on the two multiply pipes, an addition on the two
/// others; the passes below had more additions than multiplications.
template <int W>
inline vf<W> add_fma(vf<W> a, vf<W> b, vf<W> one) {
#ifdef __AVX512F__
  if constexpr (W == 16) return (vf<W>)_mm512_fmadd_ps((__m512)a, (__m512)one, (__m512)b);
#endif
  (void)one;
  return a + b;
}
/// 1.0f in every element, hidden from the compiler so that it keeps the FMA.
template <int W>
inline vf<W> hidden_one() {
  vf<W> one = splatf<W>(1.0f);
  if constexpr (W > 1) asm("" : "+v"(one));
  return one;
}

/// Pass 1 of the P rows r, r + 16, ... at xr (P = 4 within a block of 64
/// rows, 1 after the last block), all of lane r % 16 at a: a[j] += x[j] -
/// k[j] for each row in turn, so the lane's additions keep their order; the
/// lane and k are loaded and stored once for the P rows.
template <int P>
inline void first_pass_lane(const float* xr, int64_t C, const float* k, float* a, int64_t G) {
  const vf<WF> one = hidden_one<WF>();
  const int64_t S = flanes * C;
  int64_t j = 0;
  for (; j + WF <= G; j += WF) {
    const vf<WF> kv = loadf<WF>(k + j);
    vf<WF> v = loadf<WF>(a + j);
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q) v = add_fma<WF>(loadf<WF>(xr + q * S + j) - kv, v, one);
    storef<WF>(a + j, v);
  }
  for (; j < G; ++j)
    for (int q = 0; q < P; ++q) a[j] += xr[q * S + j] - k[j];
}

/// Vectors of channels per strip of pass 2: its lanes and means stay in
/// registers (32 AVX-512 registers, 16 for AVX2 and SSE2).
constexpr int cl_strip = WF == 16 ? 8 : 4;

/// f.operator()<W, NV>(j) for the strips of G channels: strips of cl_strip
/// vectors of WF channels while they fit, then at most one each of 4, 2 and
/// 1 vectors (so that a narrow unit keeps several independent chains of
/// additions), then single channels (W = 1).
template <class F>
inline void for_each_strip(int64_t G, F&& f) {
  int64_t j = 0;
  for (; j + cl_strip * WF <= G; j += cl_strip * WF) f.template operator()<WF, cl_strip>(j);
  auto one = [&]<int NV>() {
    if (j + NV * WF <= G) f.template operator()<WF, NV>(j), j += NV * WF;
  };
  if constexpr (cl_strip > 4) one.template operator()<4>();
  if constexpr (cl_strip > 2) one.template operator()<2>();
  one.template operator()<1>();
  for (; j < G; ++j) f.template operator()<1, 1>(j);
}

/// Pass 2 of lane l of a unit (the rows l, l + 16, ... below len) for the
/// NV * W channels at x (row stride C): e = x - m; the lane's c += e and
/// q += e * e, from +0, stored at dv and qv. The first strip of a unit calls
/// step() once per row, so that the prefetches of the next unit spread over
/// the pass as they did row by row.
template <int W, int NV, class Step>
inline void second_pass_strip(const float* x, int64_t C, int64_t len, int l, const float* m,
                              float* dv, float* qv, Step&& step) {
  vf<W> mv[NV], c[NV], q[NV];
  const vf<W> one = hidden_one<W>();
  for (int n = 0; n < NV; ++n)
    mv[n] = loadf<W>(m + n * W), c[n] = splatf<W>(0.0f), q[n] = splatf<W>(0.0f);
  for (int64_t r = l; r < len; r += flanes) {
    step();
    const float* xr = x + r * C;
#pragma GCC unroll 8
    for (int n = 0; n < NV; ++n) {
      const vf<W> e = loadf<W>(xr + n * W) - mv[n];
      c[n] = add_fma<W>(e, c[n], one);
      q[n] += e * e;
    }
  }
  for (int n = 0; n < NV; ++n) storef<W>(dv + n * W, c[n]), storef<W>(qv + n * W, q[n]);
}

/// Pass 2 of a unit of G channels at x, len rows: the lanes of e = x - m[j]
/// into dv and qv (lane l of channel j at l * G + j).
inline void second_pass_unit(const float* x, int64_t C, int64_t G, int64_t len, const float* m,
                             float* dv, float* qv, prefetcher& pf) {
  for (int l = 0; l < flanes; ++l)
    for_each_strip(G, [&]<int W, int NV>(int64_t j) {
      auto step = [&, first = j == 0] {
        if (first) pf.step();
      };
      second_pass_strip<W, NV>(x + j, C, len, l, m + j, dv + l * G + j, qv + l * G + j, step);
    });
}

/// The backward sums of the P rows r, r + 16, ... at xr and dr (as
/// first_pass_lane), all of lane r % 16 (at a and b), added in turn; the
/// lanes, hi and lo are loaded once for the P rows.
template <int P>
inline void sums_lane(const float* xr, const float* dr, int64_t C, const float* hi,
                      const float* lo, float* a, float* b, int64_t G) {
  const vf<WF> one = hidden_one<WF>();
  const int64_t S = flanes * C;
  int64_t j = 0;
  for (; j + WF <= G; j += WF) {
    const vf<WF> h = loadf<WF>(hi + j), l = loadf<WF>(lo + j);
    vf<WF> av = loadf<WF>(a + j), bv = loadf<WF>(b + j);
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q) {
      const vf<WF> g = loadf<WF>(dr + q * S + j);
      av = add_fma<WF>(g, av, one);
      bv = bv + g * ((loadf<WF>(xr + q * S + j) - h) - l);
    }
    storef<WF>(a + j, av);
    storef<WF>(b + j, bv);
  }
  for (; j < G; ++j)
    for (int q = 0; q < P; ++q) {
      const float g = dr[q * S + j];
      a[j] += g;
      b[j] += g * ((xr[q * S + j] - hi[j]) - lo[j]);
    }
}

/// sum(dy) and sum(dy * ((x - hi) - lo)) of the G channels at x and dy over
/// len rows (by blocks of 64 rows, four rows of one lane per step, then row
/// by row); hi and lo are the G channels' splits.
inline void cl_unit_sums_f32(const float* x, const float* dy, int64_t C, int64_t len, int64_t G,
                             const float* hi, const float* lo, prefetcher& pf_x,
                             prefetcher& pf_dy, cl_lanes& w) {
  zero_lanes(w.a, G);
  zero_lanes(w.b, G);
  int64_t r = 0;
  for (; r + 4 * flanes <= len; r += 4 * flanes)
    for (int l = 0; l < flanes; ++l) {
      for (int q = 0; q < 4; ++q) pf_x.step(), pf_dy.step();
      sums_lane<4>(x + (r + l) * C, dy + (r + l) * C, C, hi, lo, w.a + l * G, w.b + l * G, G);
    }
  for (; r < len; ++r) {
    pf_x.step();
    pf_dy.step();
    sums_lane<1>(x + r * C, dy + r * C, C, hi, lo, w.a + (r % flanes) * G,
                 w.b + (r % flanes) * G, G);
  }
  lane_tree(w.a, G, w.s);
  lane_tree(w.b, G, w.t);
}

void chunk_moments_cl_f32(dims d, const float* x, int64_t k0, int64_t k1, double* mean,
                          double* m2) {
  const int64_t C = d.c;
  const std::unique_ptr<cl_lanes> lanes(new cl_lanes);
  cl_lanes& w = *lanes;
  for_each_unit_cl(d, k0, k1, cl_lanes_width, [&](const unit_cl& u, const unit_cl& nx) {
    const int64_t G = u.g1 - u.g0;
    const float* rows = x + u.j0 * C;
    const float* xu = rows + u.g0;
    prefetcher next = next_rows(d, x, nx.j0, nx.len, nx.g0, nx.g1, 2 * u.len);
    zero_lanes(w.a, G);
    std::memcpy(w.k, xu, static_cast<std::size_t>(G) * sizeof(float));
    int64_t r = 0;
    for (; r + 4 * flanes <= u.len; r += 4 * flanes)
      for (int l = 0; l < flanes; ++l) {
        for (int q = 0; q < 4; ++q) next.step();
        first_pass_lane<4>(xu + (r + l) * C, C, w.k, w.a + l * G, G);
      }
    for (; r < u.len; ++r) {
      next.step();
      first_pass_lane<1>(xu + r * C, C, w.k, w.a + (r % flanes) * G, G);
    }
    lane_tree(w.a, G, w.s);
    for (int64_t j = 0; j < G; ++j) w.k[j] = first_mean(w.k[j], w.s[j], u.len);
    second_pass_unit(xu, C, G, u.len, w.k, w.a, w.b, next);
    lane_tree(w.a, G, w.s);
    lane_tree(w.b, G, w.t);
    double* const mo = mean + (u.j0 / chunk - k0) * C;
    double* const qo = m2 + (u.j0 / chunk - k0) * C;
    for (int64_t j = 0; j < G; ++j) {
      const int64_t ch = u.g0 + j;
      const moments r = chunk_result(rows + ch, C, u.len, w.k[j], w.s[j], w.t[j]);
      mo[ch] = r.mean;
      qo[ch] = r.m2;
    }
  });
}

void chunk_sums_cl_f32(dims d, const float* x, const float* dy, int64_t k0, int64_t k1,
                       const double* mean, double* sum_dy, double* sum_dy_xc) {
  const int64_t C = d.c;
  const std::unique_ptr<float[]> split_mean(new float[2 * C]);
  float* const hi = split_mean.get();
  float* const lo = hi + C;
  for (int64_t ch = 0; ch < C; ++ch) {
    const split sp = split_of(mean[ch]);
    hi[ch] = sp.hi;
    lo[ch] = sp.lo;
  }
  const std::unique_ptr<cl_lanes> w(new cl_lanes);
  // The rows of the next unit to prefetch. Where a unit is whole rows (C <=
  // cl_lanes_width), the next one is the next contiguous 256 rows, which the
  // hardware prefetchers bring: on the Intel VM a software prefetch of x and
  // dy there cost 1-12 % of a backward from memory. Parts of rows (runs of 1
  // KiB, 2-8 KiB apart) keep it where d.prefetch_part_rows says so: on the
  // AMD machine such runs read at half the speed of memory order without a
  // prefetch, on the Intel VM it cost 4-12 % (docs/cpu-kernel.md, "The
  // backward sums without software prefetch on whole rows" and "The
  // backward sums' prefetch by the CPU's maker").
  const bool prefetch = C > cl_lanes_width && d.prefetch_part_rows;
  for_each_unit_cl(d, k0, k1, cl_lanes_width, [&](const unit_cl& u, const unit_cl& nx) {
    const float* xr = x + u.j0 * C;
    const float* dyr = dy + u.j0 * C;
    double* const ao = sum_dy + (u.j0 / chunk - k0) * C;
    double* const bo = sum_dy_xc + (u.j0 / chunk - k0) * C;
    const int64_t ahead = prefetch ? nx.len : 0;
    prefetcher next_x = next_rows(d, x, nx.j0, ahead, nx.g0, nx.g1, u.len);
    prefetcher next_dy = next_rows(d, dy, nx.j0, ahead, nx.g0, nx.g1, u.len);
    const int64_t G = u.g1 - u.g0;
    cl_unit_sums_f32(xr + u.g0, dyr + u.g0, C, u.len, G, hi + u.g0, lo + u.g0, next_x, next_dy,
                     *w);
    for (int64_t j = 0; j < G; ++j) {
      const int64_t ch = u.g0 + j;
      const sums r = sums_result(xr + ch, dyr + ch, C, u.len, mean[ch], w->s[j], w->t[j]);
      ao[ch] = r.first;
      bo[ch] = r.second;
    }
  });
}

// ---- channel-last elementwise -------------------------------------------

// The segment loops take every pointer as an argument (see normalize_segment)
// and return the check sum of their results.
inline ve affine_segment_f32(const float* x, float* out, int64_t n, const float* hi,
                             const float* lo, const float* sc, const float* bi, float& tail) {
  ve check = splatf<WF>(0.0f);
  int64_t ch = 0;
  for (; ch + WF <= n; ch += WF) {
    const ve r = affine_f32(loadf<WF>(x + ch), loadf<WF>(hi + ch), loadf<WF>(lo + ch),
                            loadf<WF>(sc + ch), loadf<WF>(bi + ch));
    storef<WF>(out + ch, r);
    check += r - r;
  }
  for (; ch < n; ++ch) {
    const float r = affine_f32(x[ch], hi[ch], lo[ch], sc[ch], bi[ch]);
    out[ch] = r;
    tail += r - r;
  }
  return check;
}

inline ve dx_segment_f32(const float* x, const float* dy, float* out, int64_t n,
                         const float* hi, const float* lo, const float* dm, const float* co,
                         const float* sc, float& tail) {
  ve check = splatf<WF>(0.0f);
  int64_t ch = 0;
  for (; ch + WF <= n; ch += WF) {
    const ve r = dx_f32(loadf<WF>(x + ch), loadf<WF>(dy + ch), loadf<WF>(hi + ch),
                        loadf<WF>(lo + ch), loadf<WF>(dm + ch), loadf<WF>(co + ch),
                        loadf<WF>(sc + ch));
    storef<WF>(out + ch, r);
    check += r - r;
  }
  for (; ch < n; ++ch) {
    const float r = dx_f32(x[ch], dy[ch], hi[ch], lo[ch], dm[ch], co[ch], sc[ch]);
    out[ch] = r;
    tail += r - r;
  }
  return check;
}

/// Rewrites, in the rows [r0, r1) of a channel-last output, every element of
/// a channel f32 does not hold and every element that is not finite.
template <class F>
void fix_cl(dims d, float* out, int64_t r0, int64_t r1, const bool* wide, F&& fix) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t ch = 0; ch < d.c; ++ch) {
      const int64_t at = r * d.c + ch;
      if (wide[ch] || !finite(out[at])) out[at] = fix(ch, at);
    }
}

/// Calls f(at, ch, n, out) for pieces of the rows [r0, r1) of a channel-last
/// tensor: n elements from element `at` of the tensor, starting with channel
/// ch and running on into the next rows, f writing them at out (the output,
/// or the staging buffer that stream_copy then empties), in row_blocks
/// order. A piece holds at
/// most `cl_room` elements; whole rows of a few dozen channels would make
/// the per-call overhead cost as much as the arithmetic (N32 C64 56x56).
constexpr int64_t cl_room = stage_bytes / sizeof(float);
template <class F>
void for_each_piece_cl(dims d, float* y, int64_t r0, int64_t r1, F&& f) {
  const int64_t C = d.c;
  alignas(64) float stage[cl_room];
  row_blocks(d, sizeof(float), r0, r1, [&](int64_t s, int64_t e) {
    float* const base = y + s * C;
    const int64_t len = (e - s) * C;
    int64_t ch = 0;
    for (int64_t a = 0; a < len;) {
      const int64_t b = d.stream ? piece_end(base, a, cl_room, len) : min64(len, a + cl_room);
      f(s * C + a, ch, b - a, d.stream ? stage : base + a);
      if (d.stream) stream_copy(base + a, stage, b - a);
      ch = (ch + (b - a)) % C;
      a = b;
    }
  });
  if (d.stream) _mm_sfence();
}

/// Per-channel factors laid out for for_each_piece_cl: K arrays of
/// C + cl_room floats, element j holding channel j % C's factor, so that a
/// piece starting at channel ch reads its factors contiguously from ch.
template <int K>
struct cl_factors {
  int64_t c, e;
  std::unique_ptr<float[]> data;
  std::unique_ptr<bool[]> wide;  ///< channels whose factors f32 does not hold
  bool any_wide = false;
  explicit cl_factors(int64_t channels)
      : c(channels), e(channels + cl_room), data(new float[K * (channels + cl_room)]),
        wide(new bool[channels]) {}
  float* operator[](int k) const { return data.get() + k * e; }
  /// Records whether f32 holds channel ch's factors.
  void mark(int64_t ch, bool ok) {
    wide[ch] = !ok;
    any_wide = any_wide || !ok;
  }
  /// Whether a pass whose results summed to check and tail needs no fix_cl.
  bool clean(ve check, float tail) const { return !any_wide && all_finite(check, tail); }
  /// Repeats the first c entries of every array up to e.
  void repeat() const {
    for (int k = 0; k < K; ++k) {
      float* f = (*this)[k];
      for (int64_t j = c; j < e; ++j) f[j] = f[j - c];
    }
  }
};

// Channel-last outputs whose rows are a whole number of lines (C a multiple
// of 16 floats) skip the pieces and the staging buffer: each row is then the
// same run of lines, starting `lead` elements in (the output's
// misalignment), so the passes take four rows at a time, one line of each
// per step, load the line's factors once for the four and store the results
// straight from the registers, non-temporally when the output is streamed.
// Through the staging buffer, every vector of results also cost its
// factors' loads and a second load and store; in pieces, unstreamed, still
// four factor loads per vector (docs/cpu-kernel.md, "Rows of whole lines").
// A streamed output takes four rows at a time only where a row fills a 4 KiB
// page: with shorter rows, the four interleaved runs of one page made
// streamed passes slower than one row at a time (N32 C256 28x28 nhwc, rows
// of 1 KiB: inference 1.50x, backward 1.35x; C512, 2 KiB: 1.22x, 1.12x),
// where with rows of 8 KiB (C2048) one row at a time was 1.12-1.21x slower.
constexpr int64_t four_rows_streamed_bytes = 4096;

// Rows of at most this many lines (C <= 64 floats) go through rows(): a
// whole block's rows in one call, every line's factors loaded once into
// registers for all of them (dx: 5 factors x 4 lines = 20 of AVX-512's 32
// registers; AVX2 and SSE2, with 2 and 4 vectors a line and 16 registers,
// keep some on the stack, a load each as before). Line by line, a 256-byte
// row paid its factors' loads (5 per vector of dx) and one call per row
// (docs/cpu-kernel.md, "Short rows: factors in registers").
constexpr int64_t register_row_lines = 4;

/// Calls f(std::integral_constant<int, NV>{}) for NV = nv, 1 <= nv <=
/// register_row_lines.
template <class F>
inline void with_row_lines(int64_t nv, F&& f) {
  static_assert(register_row_lines == 4);
  switch (nv) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    default: f(std::integral_constant<int, 4>{});
  }
}

/// Calls lines(at, ch, nv, q, s), rows(at, ch, n, nv, s) and part(at, ch, n)
/// over the rows [r0, r1) of a channel-last f32 output with C % 16 == 0, in
/// row_blocks order: where C / 16 <= register_row_lines, rows for n runs of
/// nv = C / 16 whole lines each (nv a std::integral_constant; C elements
/// apart), from element `at` whose channel is ch; else lines for q runs (q a
/// std::integral_constant, 4 or 1; C elements apart; 1 for a streamed output
/// whose rows are under 4 KiB) of nv whole lines each; lines also for the
/// whole lines short of a run at the end of a block. Both store
/// non-temporally if s (a std::bool_constant: d.stream). part for n < 16
/// elements at either end of a block that fill no whole line, written with
/// regular stores. Channels past C continue in the next row (cl_factors
/// repeats the factors).
template <class Lines, class Rows, class Part>
void for_each_line_group(dims d, const float* out, int64_t r0, int64_t r1, Lines&& lines,
                         Rows&& rows, Part&& part) {
  const int64_t C = d.c, per_row = C / flanes;
  const auto misalign = static_cast<int64_t>(reinterpret_cast<uintptr_t>(out) % 64);
  const int64_t lead = (64 - misalign) % 64 / static_cast<int64_t>(sizeof(float));
  auto blocks = [&](auto stream) {
    row_blocks(d, sizeof(float), r0, r1, [&](int64_t s, int64_t e) {
      int64_t at = s * C;
      const int64_t end = e * C;
      const int64_t head = min64(lead, end - at);
      if (head > 0) part(at, 0, head);
      at += head;
      constexpr std::integral_constant<int, 4> four;
      constexpr std::integral_constant<int, 1> one;
      if (per_row <= register_row_lines) {
        const int64_t n = (end - at) / C;
        if (n > 0) with_row_lines(per_row, [&](auto nv) { rows(at, lead, n, nv, stream); });
        at += n * C;
      }
      if (!decltype(stream)::value || C * int64_t{sizeof(float)} >= four_rows_streamed_bytes)
        for (; end - at >= 4 * C; at += 4 * C) lines(at, lead, per_row, four, stream);
      for (; end - at >= C; at += C) lines(at, lead, per_row, one, stream);
      const int64_t nv = (end - at) / flanes;
      if (nv > 0) lines(at, lead, nv, one, stream);
      at += nv * flanes;
      if (end > at) part(at, (lead + nv * flanes) % C, end - at);
    });
  };
  if (d.stream) {
    blocks(std::true_type{});
    _mm_sfence();
  } else {
    blocks(std::false_type{});
  }
}

/// y = ((x - hi) - lo) * sc + bi for q runs of nv lines (for_each_line_group),
/// with x and y at the run's first element and the factors at its channel:
/// a line's factors, one register at a time, are loaded once for the q runs.
/// The q runs' inputs are all loaded before any result is stored: with rows
/// a multiple of 4 KiB and page-aligned x and y, a store to run q followed
/// by the load of run q + 1 at the same column is a 4K alias, and the load
/// waits for the store (docs/cpu-kernel.md, "Two passes, and the arithmetic
/// beyond them").
template <int Q, bool S>
inline ve affine_lines_f32(const float* x, float* y, int64_t C, int64_t nv, const float* hi,
                           const float* lo, const float* sc, const float* bi) {
  ve check = splatf<WF>(0.0f);
  for (int64_t j = 0; j < nv * flanes; j += WF) {
    const ve h = loadf<WF>(hi + j), l = loadf<WF>(lo + j), m = loadf<WF>(sc + j),
             b = loadf<WF>(bi + j);
    ve r[Q];
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) r[q] = affine_f32(loadf<WF>(x + q * C + j), h, l, m, b);
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) put_ve<S>(y + q * C + j, r[q]), check += r[q] - r[q];
  }
  return check;
}

/// dx = ((dy - dm) - ((x - hi) - lo) * co) * sc likewise, loads before stores.
template <int Q, bool S>
inline ve dx_lines_f32(const float* x, const float* dy, float* dx, int64_t C, int64_t nv,
                       const float* hi, const float* lo, const float* dm, const float* co,
                       const float* sc) {
  ve check = splatf<WF>(0.0f);
  for (int64_t j = 0; j < nv * flanes; j += WF) {
    const ve h = loadf<WF>(hi + j), l = loadf<WF>(lo + j), a = loadf<WF>(dm + j),
             c = loadf<WF>(co + j), m = loadf<WF>(sc + j);
    ve r[Q];
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q)
      r[q] = dx_f32(loadf<WF>(x + q * C + j), loadf<WF>(dy + q * C + j), h, l, a, c, m);
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) put_ve<S>(dx + q * C + j, r[q]), check += r[q] - r[q];
  }
  return check;
}

/// affine_lines_f32's arithmetic for n runs of NV lines each (C = 16 NV
/// elements apart, so the runs are contiguous), the factors of the NV lines
/// loaded once for all n.
template <int NV, bool S>
inline ve affine_rows_f32(const float* x, float* y, int64_t n, const float* hi, const float* lo,
                          const float* sc, const float* bi) {
  constexpr int V = NV * flanes / WF;  // vectors per run
  ve h[V], l[V], m[V], b[V];
#pragma GCC unroll 16
  for (int k = 0; k < V; ++k)
    h[k] = loadf<WF>(hi + k * WF), l[k] = loadf<WF>(lo + k * WF), m[k] = loadf<WF>(sc + k * WF),
    b[k] = loadf<WF>(bi + k * WF);
  ve check = splatf<WF>(0.0f);
  for (int64_t r = 0; r < n; ++r, x += V * WF, y += V * WF) {
    ve v[V];
#pragma GCC unroll 16
    for (int k = 0; k < V; ++k) v[k] = affine_f32(loadf<WF>(x + k * WF), h[k], l[k], m[k], b[k]);
#pragma GCC unroll 16
    for (int k = 0; k < V; ++k) put_ve<S>(y + k * WF, v[k]), check += v[k] - v[k];
  }
  return check;
}

/// dx_lines_f32's arithmetic for n runs of NV lines each, likewise.
template <int NV, bool S>
inline ve dx_rows_f32(const float* x, const float* dy, float* dx, int64_t n, const float* hi,
                      const float* lo, const float* dm, const float* co, const float* sc) {
  constexpr int V = NV * flanes / WF;
  ve h[V], l[V], a[V], c[V], m[V];
#pragma GCC unroll 16
  for (int k = 0; k < V; ++k)
    h[k] = loadf<WF>(hi + k * WF), l[k] = loadf<WF>(lo + k * WF), a[k] = loadf<WF>(dm + k * WF),
    c[k] = loadf<WF>(co + k * WF), m[k] = loadf<WF>(sc + k * WF);
  ve check = splatf<WF>(0.0f);
  for (int64_t r = 0; r < n; ++r, x += V * WF, dy += V * WF, dx += V * WF) {
    ve v[V];
#pragma GCC unroll 16
    for (int k = 0; k < V; ++k)
      v[k] = dx_f32(loadf<WF>(x + k * WF), loadf<WF>(dy + k * WF), h[k], l[k], a[k], c[k], m[k]);
#pragma GCC unroll 16
    for (int k = 0; k < V; ++k) put_ve<S>(dx + k * WF, v[k]), check += v[k] - v[k];
  }
  return check;
}

void normalize_cl_f32(dims d, const float* x, float* y, int64_t r0, int64_t r1,
                      const double* shift, const double* scale, const double* bias) {
  cl_factors<4> f(d.c);
  float *const hi = f[0], *const lo = f[1], *const sc = f[2], *const bi = f[3];
  for (int64_t ch = 0; ch < d.c; ++ch) {
    const affine32 a = affine_of(shift[ch], scale[ch], bias[ch]);
    hi[ch] = a.shift.hi, lo[ch] = a.shift.lo, sc[ch] = a.scale, bi[ch] = a.bias;
    f.mark(ch, a.ok);
  }
  f.repeat();
  ve check = splatf<WF>(0.0f);
  float tail = 0.0f;
  const int64_t C = d.c;
  if (C % flanes == 0) {
    for_each_line_group(
        d, y, r0, r1,
        [&](int64_t at, int64_t ch, int64_t nv, auto q, auto s) {
          check += affine_lines_f32<q(), s()>(x + at, y + at, C, nv, hi + ch, lo + ch, sc + ch,
                                              bi + ch);
        },
        [&](int64_t at, int64_t ch, int64_t n, auto nv, auto s) {
          check +=
              affine_rows_f32<nv(), s()>(x + at, y + at, n, hi + ch, lo + ch, sc + ch, bi + ch);
        },
        [&](int64_t at, int64_t ch, int64_t n) {
          check += affine_segment_f32(x + at, y + at, n, hi + ch, lo + ch, sc + ch, bi + ch, tail);
        });
  } else {
    for_each_piece_cl(d, y, r0, r1, [&](int64_t at, int64_t ch, int64_t n, float* out) {
      check += affine_segment_f32(x + at, out, n, hi + ch, lo + ch, sc + ch, bi + ch, tail);
    });
  }
  if (f.clean(check, tail)) return;
  fix_cl(d, y, r0, r1, f.wide.get(), [=](int64_t ch, int64_t at) {
    return affine_wide(x[at], shift[ch], scale[ch], bias[ch]);
  });
}

void dx_cl_f32(dims d, const float* x, const float* dy, float* dx, int64_t r0, int64_t r1,
               const double* mean, const double* dy_mean, const double* coef,
               const double* scale) {
  cl_factors<5> f(d.c);
  float *const hi = f[0], *const lo = f[1], *const dm = f[2], *const co = f[3], *const sc = f[4];
  for (int64_t ch = 0; ch < d.c; ++ch) {
    const dx32 a = dx_of(mean[ch], dy_mean[ch], coef[ch], scale[ch]);
    hi[ch] = a.mean.hi, lo[ch] = a.mean.lo, dm[ch] = a.dy_mean, co[ch] = a.coef,
    sc[ch] = a.scale;
    f.mark(ch, a.ok);
  }
  f.repeat();
  ve check = splatf<WF>(0.0f);
  float tail = 0.0f;
  const int64_t C = d.c;
  if (C % flanes == 0) {
    for_each_line_group(
        d, dx, r0, r1,
        [&](int64_t at, int64_t ch, int64_t nv, auto q, auto s) {
          check += dx_lines_f32<q(), s()>(x + at, dy + at, dx + at, C, nv, hi + ch, lo + ch,
                                          dm + ch, co + ch, sc + ch);
        },
        [&](int64_t at, int64_t ch, int64_t n, auto nv, auto s) {
          check += dx_rows_f32<nv(), s()>(x + at, dy + at, dx + at, n, hi + ch, lo + ch, dm + ch,
                                          co + ch, sc + ch);
        },
        [&](int64_t at, int64_t ch, int64_t n) {
          check += dx_segment_f32(x + at, dy + at, dx + at, n, hi + ch, lo + ch, dm + ch,
                                  co + ch, sc + ch, tail);
        });
  } else {
    for_each_piece_cl(d, dx, r0, r1, [&](int64_t at, int64_t ch, int64_t n, float* out) {
      check += dx_segment_f32(x + at, dy + at, out, n, hi + ch, lo + ch, dm + ch, co + ch,
                              sc + ch, tail);
    });
  }
  if (f.clean(check, tail)) return;
  fix_cl(d, dx, r0, r1, f.wide.get(), [=](int64_t ch, int64_t at) {
    return dx_wide(x[at], dy[at], mean[ch], dy_mean[ch], coef[ch], scale[ch]);
  });
}

}  // namespace
}  // namespace bncheck::eigen::fast::BNC_ISA
