// The chunk functions of f32 data, for one variant (BNC_ISA): a chunk's
// moments and backward sums in f32 arithmetic, 16 lanes, finished in double
// (docs/cpu-kernel.md, "f32 data"). Included by channel_first-inl.hpp between
// the f64 chunk functions, which are the fallback here, and the streaming
// loops, which call these by overload on their f32 buffers.
//
// The order, which impl/eigen/f32_model.hpp restates as plain scalar code:
// in a chunk of len <= 256 values (logical order), value i goes to lane
// i % 16; each lane adds its values left to right from +0 in f32; the 16
// lanes combine by the fixed tree of tree16. Pass 1 sums x - k (k the chunk's
// first value) and gives m = f32(k + S/len) (the right side in double); pass
// 2 sums c = x - m and q = (x - m)^2. The chunk's moments are then, in
// double, mean = m + C/len and M2 = max(Q - C^2/len, 0). If m, C or Q is not
// finite (an f32 overflow: |x - m| above 1.8e19 squares to infinity) the
// chunk is computed again by the f64 chunk function, as f64 data would be.
#pragma once

#include <cstdint>
#include <cstring>

#include "impl/eigen/fast/common-inl.hpp"

#ifndef BNC_ISA
#error "included by channel_first-inl.hpp, once per variant"
#endif

namespace bncheck::eigen::fast::BNC_ISA {
namespace {

constexpr int flanes = 16;  // f32 lanes per chunk

template <int W>
struct fvec {
  typedef float t __attribute__((vector_size(4 * W)));
};
template <>
struct fvec<1> {
  using t = float;
};
/// W floats (GCC splits a vector wider than the variant's registers).
template <int W>
using vf = typename fvec<W>::t;

template <int W>
inline vf<W> loadf(const float* p) {
  if constexpr (W == 1) {
    return *p;
  } else {
    vf<W> v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
}

template <int W>
inline void storef(float* p, vf<W> v) {
  if constexpr (W == 1)
    *p = v;
  else
    std::memcpy(p, &v, sizeof v);
}

/// W copies of a: a - (+0) is a exactly (-0 and NaN included), and compiles
/// to one broadcast, where assigning the elements one by one compiled to W
/// masked broadcasts.
template <int W>
inline vf<W> splatf(float a) {
  if constexpr (W == 1)
    return a;
  else
    return a - vf<W>{};
}

/// Element w of a vector (the vector itself for W = 1).
template <int W>
inline float& lane(vf<W>& v, int w) {
  if constexpr (W == 1) {
    (void)w;
    return v;
  } else {
    return reinterpret_cast<float*>(&v)[w];
  }
}

/// The fixed tree of the 16 lanes: element-wise over 16 lane vectors, one
/// channel per element (channel-last), or over the 16 lanes of one vector.
template <class V>
inline V tree16(const V* l) {
  return (((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) +
         (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15])));
}
/// Floats per register of this variant.
constexpr int WF = BNC_CL_FLOATS;
/// A chunk's 16 lanes in this variant's registers (lanes_of, common-inl.hpp).
using lanes16 = lanes_of<float, flanes, WF>;
inline float tree16(const lanes16& v) {
  float l[flanes];
  v.to(l);
  return tree16(l);
}

inline bool finite(float v) { return __builtin_isfinite(v); }

/// Pass 1's result: m = k + S/len, in double, rounded once to f32.
inline float first_mean(float k, float s, int64_t len) {
  return static_cast<float>(static_cast<double>(k) +
                            static_cast<double>(s) / static_cast<double>(len));
}

/// A chunk's moments from its f32 results; when one is not finite, the f64
/// chunk function on the chunk's len values, `stride` elements apart at b.
inline moments chunk_result(const float* b, int64_t stride, int64_t len, float m, float c,
                            float q) {
  if (finite(m) && finite(c) && finite(q)) {
    const double n = static_cast<double>(len), cd = c;
    return {n, static_cast<double>(m) + cd / n, clamp_negative(static_cast<double>(q) - cd * cd / n)};
  }
  double wide[chunk];
  for (int64_t i = 0; i < len; ++i) wide[i] = static_cast<double>(b[i * stride]);
  return chunk_stats(wide, len);
}

/// The shift of the f32 elementwise and backward arithmetic: mu as hi + lo,
/// hi = f32(mu), lo = f32(mu - hi) (0 where hi is not finite), so that
/// (x - hi) - lo keeps x - mu accurate to f32 at any offset.
struct split {
  float hi, lo;
};
inline split split_of(double mu) {
  const auto hi = static_cast<float>(mu);
  return {hi, finite(hi) ? static_cast<float>(mu - static_cast<double>(hi)) : 0.0f};
}

/// Backward sums of a chunk from their f32 results, or the f64 chunk function.
inline sums sums_result(const float* bx, const float* bdy, int64_t stride, int64_t len, double mu,
                        float a, float b) {
  if (finite(a) && finite(b)) return {static_cast<double>(a), static_cast<double>(b)};
  double wx[chunk], wdy[chunk];
  for (int64_t i = 0; i < len; ++i) {
    wx[i] = static_cast<double>(bx[i * stride]);
    wdy[i] = static_cast<double>(bdy[i * stride]);
  }
  return chunk_sums(wx, wdy, len, mu);
}

// Channel-first: a chunk is len consecutive floats of a buffer.

moments chunk_stats(const float* b, int64_t len) {
  const float k = b[0];
  const lanes16 kv = lanes16::all(k);
  lanes16 s = lanes16::all(0.0f);
  int64_t i = 0;
  for (; i + flanes <= len; i += flanes) s += lanes16::load(b + i) - kv;
  float sl[flanes];
  s.to(sl);
  for (int l = 0; l < len - i; ++l) sl[l] += b[i + l] - k;
  const float m = first_mean(k, tree16(sl), len);
  const lanes16 mv = lanes16::all(m);
  lanes16 dev = lanes16::all(0.0f), sq = lanes16::all(0.0f);
  for (i = 0; i + flanes <= len; i += flanes) {
    const lanes16 d = lanes16::load(b + i) - mv;
    dev += d;
    sq += d * d;
  }
  float dl[flanes], ql[flanes];
  dev.to(dl);
  sq.to(ql);
  for (int l = 0; l < len - i; ++l) {
    const float d = b[i + l] - m;
    dl[l] += d;
    ql[l] += d * d;
  }
  return chunk_result(b, 1, len, m, tree16(dl), tree16(ql));
}

// chunk_stats of `group` full chunks, chunk g at b + g*chunk, interleaved so
// that their lane chains overlap.
void group_stats(const float* b, moments* out) {
  lanes16 kv[group], s[group], mv[group], dev[group], sq[group];
  float m[group];
  for (int g = 0; g < group; ++g) kv[g] = lanes16::all(b[g * chunk]), s[g] = lanes16::all(0.0f);
  for (int64_t i = 0; i < chunk; i += flanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) s[g] += lanes16::load(b + g * chunk + i) - kv[g];
  for (int g = 0; g < group; ++g) {
    m[g] = first_mean(b[g * chunk], tree16(s[g]), chunk);
    mv[g] = lanes16::all(m[g]);
    dev[g] = sq[g] = lanes16::all(0.0f);
  }
  for (int64_t i = 0; i < chunk; i += flanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) {
      const lanes16 d = lanes16::load(b + g * chunk + i) - mv[g];
      dev[g] += d;
      sq[g] += d * d;
    }
  for (int g = 0; g < group; ++g)
    out[g] = chunk_result(b + g * chunk, 1, chunk, m[g], tree16(dev[g]), tree16(sq[g]));
}

// sum(dy) and sum(dy * ((x - hi) - lo)) of one chunk, in f32.
sums chunk_sums(const float* bx, const float* bdy, int64_t len, double mu) {
  const split sp = split_of(mu);
  const lanes16 hi = lanes16::all(sp.hi), lo = lanes16::all(sp.lo);
  lanes16 a = lanes16::all(0.0f), b = lanes16::all(0.0f);
  int64_t i = 0;
  for (; i + flanes <= len; i += flanes) {
    const lanes16 g = lanes16::load(bdy + i);
    a += g;
    b += g * ((lanes16::load(bx + i) - hi) - lo);
  }
  float al[flanes], bl[flanes];
  a.to(al);
  b.to(bl);
  for (int l = 0; l < len - i; ++l) {
    al[l] += bdy[i + l];
    bl[l] += bdy[i + l] * ((bx[i + l] - sp.hi) - sp.lo);
  }
  return sums_result(bx, bdy, 1, len, mu, tree16(al), tree16(bl));
}

void group_sums(const float* bx, const float* bdy, double mu, sums* out) {
  const split sp = split_of(mu);
  const lanes16 hi = lanes16::all(sp.hi), lo = lanes16::all(sp.lo);
  lanes16 a[group], b[group];
  for (int g = 0; g < group; ++g) a[g] = b[g] = lanes16::all(0.0f);
  for (int64_t i = 0; i < chunk; i += flanes)
#pragma GCC unroll 4
    for (int g = 0; g < group; ++g) {
      const lanes16 gy = lanes16::load(bdy + g * chunk + i);
      a[g] += gy;
      b[g] += gy * ((lanes16::load(bx + g * chunk + i) - hi) - lo);
    }
  for (int g = 0; g < group; ++g)
    out[g] = sums_result(bx + g * chunk, bdy + g * chunk, 1, chunk, mu, tree16(a[g]),
                         tree16(b[g]));
}

}  // namespace
}  // namespace bncheck::eigen::fast::BNC_ISA
