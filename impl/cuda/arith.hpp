// The arithmetic of the CUDA kernel, shared word for word by the device code
// (impl/cuda/cuda_kernel.cu) and its serial host emulation (host_emulation.cpp):
// element decode/encode, a run's moments and sums, the Chan merge, and the
// per-channel finalization. Every function is __host__ __device__ and uses
// only IEEE-exact operations (+ - * /, sqrt, conversions, all round to
// nearest), with FMA contraction off on both sides (-ffp-contract=off on the
// host, -fmad=false on the device), so host and device compute the same bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__CUDACC__)
#define BNC_HD __host__ __device__ __forceinline__
#else
#define BNC_HD inline
#endif
#if defined(__CUDA_ARCH__)
#define BNC_UNROLL _Pragma("unroll")
#else
#define BNC_UNROLL
#endif

namespace bncheck::cuda {

/// IEEE binary16 and bfloat16 elements, held as their bit patterns.
struct f16 {
  uint16_t bits;
};
struct bf16 {
  uint16_t bits;
};

BNC_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

BNC_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

/// The value of an element in the accumulation format, exactly.
BNC_HD double decode(double v) { return v; }
BNC_HD float decode(float v) { return v; }
BNC_HD float decode(bf16 h) { return bits_float(static_cast<uint32_t>(h.bits) << 16); }
BNC_HD float decode(f16 h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  const uint32_t exponent = (h.bits >> 10) & 0x1fu;
  const uint32_t fraction = h.bits & 0x3ffu;
  if (exponent == 0x1f) return bits_float(sign | 0x7f800000u | (fraction << 13));
  if (exponent == 0) {  // zero or subnormal: fraction * 2^-24, exact in float
    const float f = static_cast<float>(fraction) * 0x1p-24f;
    return sign ? -f : f;
  }
  return bits_float(sign | ((exponent + 112u) << 23) | (fraction << 13));  // rebias 15 -> 127
}

/// Rounds a float to binary16, to nearest even, with gradual underflow and
/// overflow to infinity; NaN stays a quiet NaN with its sign.
BNC_HD uint16_t f16_bits_of(float f) {
  const uint32_t u = float_bits(f);
  const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds up to infinity
  if (a <= 0x33000000u) return sign;                                   // <= 2^-25 rounds to zero
  if (a < 0x38800000u) {
    // Below 2^-14: a multiple of 2^-24. With value = m 2^(e-150), the result
    // is m 2^(e-126) rounded: drop shift = 126 - e (14 to 24) low bits.
    const int e = static_cast<int>(a >> 23);
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const int shift = 126 - e;
    uint32_t kept = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    kept += (rest > half || (rest == half && (kept & 1u))) ? 1u : 0u;
    return static_cast<uint16_t>(sign | kept);  // reaching 0x400 is the smallest normal
  }
  // Normal: rebias 127 -> 15 and keep 10 fraction bits; a carry runs into
  // the exponent, and overflow was excluded above.
  uint32_t kept = (a - 0x38000000u) >> 13;
  const uint32_t rest = a & 0x1fffu;
  kept += (rest > 0x1000u || (rest == 0x1000u && (kept & 1u))) ? 1u : 0u;
  return static_cast<uint16_t>(sign | kept);
}

/// Rounds a float to bfloat16, to nearest even (same exponent range as float,
/// so subnormals and overflow need nothing special); NaN stays quiet.
BNC_HD uint16_t bf16_bits_of(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/// Rounds an accumulation-format value to the storage format T, once.
template <class T, class A>
BNC_HD T encode(A v) {
  if constexpr (std::is_same_v<T, f16>) {
    return f16{f16_bits_of(v)};
  } else if constexpr (std::is_same_v<T, bf16>) {
    return bf16{bf16_bits_of(v)};
  } else {
    return static_cast<T>(v);
  }
}

/// The accumulation format of storage format T: f32 for f32, f16, bf16 data
/// (u_a = 2^-24 as docs/tolerances.md 2.1 requires), f64 for f64 data.
template <class T>
struct accumulator {
  using type = float;
};
template <>
struct accumulator<double> {
  using type = double;
};
template <class T>
using acc_t = typename accumulator<T>::type;

/// True for a finite value (inf - inf and NaN - NaN are NaN); the same on
/// host and device without a library call.
template <class A>
BNC_HD bool finite(A v) {
  return v - v == A(0);
}

/// Count, mean and M2 = sum((x - mean)^2) of a set of values. The count is
/// an exact integer (a float count would be inexact beyond 2^24 values).
/// M2 is held in double: the accumulation format computes it, and where
/// that overflows although the data are finite (float data near 2^64 and
/// beyond: PyTorch PR #178123's invstd 0) it is recomputed in double
/// (docs/cuda.md, "The edges of float's range").
template <class A>
struct moments {
  int64_t count;
  A mean;
  double m2;
};

/// Merges b (the later values) into a by Chan, Golub and LeVeque's pairwise
/// update: delta = mean_b - mean_a, mean = mean_a + delta w,
/// M2 = (M2_a + M2_b) + delta^2 na w, with w = nb/(na+nb). The weights are
/// computed in double from the exact counts and rounded once to A. Every M2
/// term is non-negative (nothing cancels); equal means give delta = 0 and
/// leave mean and M2 exact, so a constant channel stays exact. An empty side
/// is the identity, exactly (no rounding), so padding a tree with empty
/// leaves does not change its result. Where A overflows (a mean or an M2
/// beyond float) the same formulas run in double; with finite data they are
/// then finite, and an M2 already beyond float stays in double.
template <class A>
BNC_HD moments<A> merge(const moments<A>& a, const moments<A>& b) {
  if (b.count == 0) return a;
  if (a.count == 0) return b;
  const double n = static_cast<double>(a.count) + static_cast<double>(b.count);
  const double wd = static_cast<double>(b.count) / n;
  const A w = static_cast<A>(wd);
  const A cross = static_cast<A>(static_cast<double>(a.count) * wd);
  const A delta = b.mean - a.mean;
  A mean = a.mean + delta * w;
  const A m2 = (static_cast<A>(a.m2) + static_cast<A>(b.m2)) + (delta * delta) * cross;
  double m2_out = static_cast<double>(m2);
  if constexpr (!std::is_same_v<A, double>) {
    if (!finite(mean) || !finite(m2)) {
      const double dd = static_cast<double>(b.mean) - static_cast<double>(a.mean);
      const auto mean_d = static_cast<A>(static_cast<double>(a.mean) + dd * wd);
      const double m2_d = (a.m2 + b.m2) + (dd * dd) * (static_cast<double>(a.count) * wd);
      if (!finite(mean) && finite(mean_d)) mean = mean_d;
      if (!finite(m2) && finite(m2_d)) m2_out = m2_d;
    }
  }
  return {a.count + b.count, mean, m2_out};
}

/// Backward's per-channel sums: sum(dy) and sum(dy (x - mean)).
/// sum(dy (x - mean)) is held in double like M2: computed in A, and in
/// double where A overflows (large dy times x - mean near float's top).
template <class A>
struct sum_pair {
  int64_t count;
  A dy;
  double dy_xc;
};

template <class A>
BNC_HD sum_pair<A> merge(const sum_pair<A>& a, const sum_pair<A>& b) {
  if (b.count == 0) return a;
  if (a.count == 0) return b;
  const A xc = static_cast<A>(a.dy_xc) + static_cast<A>(b.dy_xc);
  double xc_out = static_cast<double>(xc);
  if constexpr (!std::is_same_v<A, double>) {
    if (!finite(xc) && finite(a.dy_xc + b.dy_xc)) xc_out = a.dy_xc + b.dy_xc;
  }
  return {a.count + b.count, a.dy + b.dy, xc_out};
}

/// The two passes of a run in format T: with k the run's first value,
/// m = k + sum(v - k)/len, then c = sum(v - m) and q = sum((v - m)^2), each
/// sequential over the run (at most run_length - 1 roundings).
template <class T, int max_len, class A>
BNC_HD void two_pass(const A (&v)[max_len], int len, T& m, T& c, T& q) {
  const T k = static_cast<T>(v[0]);
  T s = T(0);
BNC_UNROLL
  for (int r = 0; r < max_len; ++r)
    if (r < len) s = s + (static_cast<T>(v[r]) - k);
  m = k + s / static_cast<T>(len);
  c = T(0), q = T(0);
BNC_UNROLL
  for (int r = 0; r < max_len; ++r)
    if (r < len) {
      const T d = static_cast<T>(v[r]) - m;
      c = c + d;
      q = q + d * d;
    }
}

/// Moments of one run of len (1..run_length) values, all in registers: the
/// corrected two-pass algorithm (two_pass), then mean = m + c/len,
/// M2 = q - c^2/len (Chan, Golub and LeVeque 1983), clamped at 0 (keeping
/// NaN). A constant run gives mean = k and M2 = 0 exactly. Where float
/// overflows (v - k, or the squares) although the values are finite, the
/// same steps run in double.
template <int max_len, class A>
BNC_HD moments<A> run_moments(const A (&v)[max_len], int len) {
  if (len == 0) return {0, A(0), 0.0};
  A m, c, q;
  two_pass<A>(v, len, m, c, q);
  const A fl = static_cast<A>(len);
  const A m2 = q - (c * c) / fl;
  moments<A> out{len, m + c / fl, m2 < A(0) ? 0.0 : static_cast<double>(m2)};
  if constexpr (!std::is_same_v<A, double>) {
    if (!finite(out.mean) || !finite(m2)) {
      double md, cd, qd;
      two_pass<double>(v, len, md, cd, qd);
      const double dl = static_cast<double>(len);
      const double m2d = qd - (cd * cd) / dl;
      const auto mean_d = static_cast<A>(md + cd / dl);
      if (!finite(out.mean) && finite(mean_d)) out.mean = mean_d;
      if (!finite(m2) && finite(m2d)) out.m2 = m2d < 0 ? 0.0 : m2d;
    }
  }
  return out;
}

/// Per-channel tensors (gamma, beta, saved and running statistics) are f32
/// or f64; loads are exact, stores round once.
BNC_HD double load_param(const void* p, bool f64, int64_t c) {
  return f64 ? static_cast<const double*>(p)[c] : static_cast<double>(static_cast<const float*>(p)[c]);
}
BNC_HD void store_param(void* p, bool f64, int64_t c, double v) {
  if (p == nullptr) return;
  if (f64)
    static_cast<double*>(p)[c] = v;
  else
    static_cast<float*>(p)[c] = static_cast<float>(v);
}

/// The positive quiet NaN (the reference's undefined value).
BNC_HD double quiet_nan() {
  const uint64_t u = 0x7ff8000000000000u;
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double d;
  std::memcpy(&d, &u, 8);
  return d;
#endif
}

/// The per-call scalars the per-channel finalization needs.
struct channel_params {
  int64_t C;
  int64_t M;          ///< reduction length per channel
  double eps;
  double momentum;
  int profile;        ///< 0 onnx, 1 pytorch, 2 cudnn (core/problem.hpp's order)
  bool param_f64;
};

/// Per-channel factors of the elementwise passes, in the accumulation format.
///   forward:  y = (x - shift) * scale + bias
///   backward: dx = ((dy - dy_mean) - (x - shift) * coef) * scale
template <class A>
struct factors {
  A* shift;
  A* scale;
  A* bias;     ///< forward: beta; backward: dy_mean
  A* coef;     ///< backward only
};

/// Pointers of one call's per-channel tensors (device or host memory).
struct channel_io {
  const void* gamma;
  const void* beta;
  void* mean;
  void* var;
  void* invstd;
  void* running_mean;
  void* running_var;
  void* dgamma;
  void* dbeta;
};

/// Forward training, channel c, from the channel's merged moments: the
/// saved statistics (var = M2/M biased, invstd = 1/sqrt(var + eps)), the
/// running statistics per profile exactly as impl/eigen's update_running
/// (onnx: r' = m r + (1-m) stat, biased var; pytorch, cudnn: r' = (1-m) r +
/// m stat with the unbiased M2/(M-1), NaN for M = 1), all in double and
/// rounded once to the parameter format, and the factors of y.
template <class A>
BNC_HD void finalize_training(int64_t c, const moments<A>& all, const channel_params& cp, const channel_io& io,
                              const factors<A>& f) {
  const double M = static_cast<double>(cp.M);
  const double mean = static_cast<double>(all.mean);
  const double m2 = static_cast<double>(all.m2);
  const double var = m2 / M;
  const double invstd = 1.0 / sqrt(var + cp.eps);
  store_param(io.mean, cp.param_f64, c, mean);
  store_param(io.var, cp.param_f64, c, var);
  store_param(io.invstd, cp.param_f64, c, invstd);
  const double m = cp.momentum;
  if (io.running_mean != nullptr) {
    const double rm = load_param(io.running_mean, cp.param_f64, c);
    store_param(io.running_mean, cp.param_f64, c, cp.profile == 0 ? m * rm + (1 - m) * mean : (1 - m) * rm + m * mean);
  }
  if (io.running_var != nullptr) {
    const double rv = load_param(io.running_var, cp.param_f64, c);
    double out;
    if (cp.profile == 0) {
      out = m * rv + (1 - m) * (m2 / M);
    } else {
      const double unbiased = M > 1 ? m2 / (M - 1) : quiet_nan();
      out = (1 - m) * rv + m * unbiased;
    }
    store_param(io.running_var, cp.param_f64, c, out);
  }
  const double gamma = load_param(io.gamma, cp.param_f64, c);
  f.shift[c] = all.mean;
  f.scale[c] = static_cast<A>(gamma * invstd);
  f.bias[c] = static_cast<A>(load_param(io.beta, cp.param_f64, c));
}

/// Forward inference, channel c: y = (x - rm) * (gamma / sqrt(rv + eps)) + beta.
template <class A>
BNC_HD void finalize_inference(int64_t c, const channel_params& cp, const channel_io& io, const factors<A>& f) {
  const double rv = load_param(io.running_var, cp.param_f64, c);
  const double gamma = load_param(io.gamma, cp.param_f64, c);
  f.shift[c] = static_cast<A>(load_param(io.running_mean, cp.param_f64, c));
  f.scale[c] = static_cast<A>(gamma * (1.0 / sqrt(rv + cp.eps)));
  f.bias[c] = static_cast<A>(load_param(io.beta, cp.param_f64, c));
}

/// Backward, before the sums: the saved mean in the accumulation format (the
/// shift of sum(dy (x - mean))).
template <class A>
BNC_HD void prepare_backward(int64_t c, const channel_params& cp, const void* mean, const factors<A>& f) {
  f.shift[c] = static_cast<A>(load_param(mean, cp.param_f64, c));
}

/// Backward, channel c, from its merged sums. With s = invstd (saved, or
/// from the saved var when invstd is absent):
///   dbeta = sum(dy), dgamma = sum(dy (x - mean)) s,
///   dx = (gamma s) ((dy - dbeta/M) - (x - mean) (s dgamma / M)),
/// the two subtracted terms being the paths through the mean and the variance.
template <class A>
BNC_HD void finalize_backward(int64_t c, const sum_pair<A>& all, const channel_params& cp, const void* invstd_in,
                              const void* var_in, const channel_io& io, const factors<A>& f) {
  const double M = static_cast<double>(cp.M);
  const double s = invstd_in != nullptr ? load_param(invstd_in, cp.param_f64, c)
                                        : 1.0 / sqrt(load_param(var_in, cp.param_f64, c) + cp.eps);
  const double dbeta = static_cast<double>(all.dy);
  const double dgamma = static_cast<double>(all.dy_xc) * s;
  store_param(io.dgamma, cp.param_f64, c, dgamma);
  store_param(io.dbeta, cp.param_f64, c, dbeta);
  f.bias[c] = static_cast<A>(dbeta / M);
  f.coef[c] = static_cast<A>((s * dgamma) / M);
  f.scale[c] = static_cast<A>(load_param(io.gamma, cp.param_f64, c) * s);
}

/// y of one element: subtract, multiply, add in A, one rounding to T.
template <class T, class A>
BNC_HD T affine_element(T x, A shift, A scale, A bias) {
  return encode<T, A>((decode(x) - shift) * scale + bias);
}

/// dx of one element, in A, one rounding to T.
template <class T, class A>
BNC_HD T dx_element(T x, T dy, A shift, A dy_mean, A coef, A scale) {
  return encode<T, A>(((decode(dy) - dy_mean) - (decode(x) - shift) * coef) * scale);
}

}  // namespace bncheck::cuda
