// The arithmetic of the Eigen kernel on f32 data (impl/eigen/fast/
// f32_chunks-inl.hpp and f32-inl.hpp), restated as plain scalar code, one
// value at a time and one channel at a time: the oracle the vectorized
// variants must reproduce bit for bit (dispatch_test.cpp). Only the chunk
// tree and the moments merge come from impl/eigen/reduction.hpp, which the
// f64 path shares and exactness_test.cpp checks.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "impl/eigen/reduction.hpp"

namespace bncheck::eigen::f32_model {

inline float tree16(const float* l) {
  return (((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) +
         (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15])));
}
inline double tree8(const double* l) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/// f64 data's chunk (reduction.hpp), the fallback of an f32 chunk that overflows.
inline eigen::moments<double> wide_chunk(const float* v, int64_t len) {
  const double k = v[0];
  double s[8] = {}, c[8] = {}, q[8] = {};
  for (int64_t i = 0; i < len; ++i) s[i % 8] += static_cast<double>(v[i]) - k;
  const double m = k + tree8(s) / static_cast<double>(len);
  for (int64_t i = 0; i < len; ++i) {
    const double d = static_cast<double>(v[i]) - m;
    c[i % 8] += d;
    q[i % 8] += d * d;
  }
  return eigen::chunk_moments(static_cast<double>(len), m, tree8(c), tree8(q));
}

inline eigen::moments<double> chunk(const float* v, int64_t len) {
  const float k = v[0];
  float s[16] = {}, c[16] = {}, q[16] = {};
  for (int64_t i = 0; i < len; ++i) s[i % 16] += v[i] - k;
  const auto m = static_cast<float>(static_cast<double>(k) +
                                    static_cast<double>(tree16(s)) / static_cast<double>(len));
  for (int64_t i = 0; i < len; ++i) {
    const float d = v[i] - m;
    c[i % 16] += d;
    q[i % 16] += d * d;
  }
  const float C = tree16(c), Q = tree16(q);
  if (!std::isfinite(m) || !std::isfinite(C) || !std::isfinite(Q)) return wide_chunk(v, len);
  const double n = static_cast<double>(len), cd = C;
  return {n, static_cast<double>(m) + cd / n, eigen::clamp_negative(static_cast<double>(Q) - cd * cd / n)};
}

/// Mean and M2 of one channel's values in logical order.
inline void moments(const std::vector<float>& v, double& mean, double& m2) {
  eigen::pairwise_tree<eigen::moments<double>> t;
  const auto M = static_cast<int64_t>(v.size());
  for (int64_t j = 0; j < M; j += eigen::chunk_length)
    t.push(chunk(v.data() + j, std::min(eigen::chunk_length, M - j)));
  const eigen::moments<double> all = t.finish();
  mean = all.mean;
  m2 = all.m2;
}

struct split {
  float hi, lo;
};
inline split split_of(double mu) {
  const auto hi = static_cast<float>(mu);
  return {hi, std::isfinite(hi) ? static_cast<float>(mu - static_cast<double>(hi)) : 0.0f};
}

inline eigen::sum_pair<double> chunk_sums(const float* x, const float* dy, int64_t len,
                                          double mu) {
  const split sp = split_of(mu);
  float a[16] = {}, b[16] = {};
  for (int64_t i = 0; i < len; ++i) {
    a[i % 16] += dy[i];
    b[i % 16] += dy[i] * ((x[i] - sp.hi) - sp.lo);
  }
  const float A = tree16(a), B = tree16(b);
  if (std::isfinite(A) && std::isfinite(B)) return {A, B};
  double wa[8] = {}, wb[8] = {};
  for (int64_t i = 0; i < len; ++i) {
    wa[i % 8] += static_cast<double>(dy[i]);
    wb[i % 8] += static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - mu);
  }
  return {tree8(wa), tree8(wb)};
}

/// sum(dy) and sum(dy * (x - mu)) of one channel's values in logical order.
inline void sums(const std::vector<float>& x, const std::vector<float>& dy, double mu,
                 double& sum_dy, double& sum_dy_xc) {
  eigen::pairwise_tree<eigen::sum_pair<double>> t;
  const auto M = static_cast<int64_t>(x.size());
  for (int64_t j = 0; j < M; j += eigen::chunk_length)
    t.push(chunk_sums(x.data() + j, dy.data() + j, std::min(eigen::chunk_length, M - j), mu));
  const eigen::sum_pair<double> all = t.finish();
  sum_dy = all.first;
  sum_dy_xc = all.second;
}

/// A multiplying factor f32 holds: finite, normal unless exactly zero.
inline bool holds(double v, float f) {
  return std::isfinite(f) && (f != 0.0f ? std::fabs(f) >= 0x1p-126f : v == 0.0);
}

inline float y(float x, double shift, double scale, double bias) {
  const auto wide = static_cast<float>((static_cast<double>(x) - shift) * scale + bias);
  const split sh = split_of(shift);
  const auto sc = static_cast<float>(scale), bi = static_cast<float>(bias);
  if (!std::isfinite(sh.hi) || !holds(scale, sc) || !std::isfinite(bi)) return wide;
  const float r = ((x - sh.hi) - sh.lo) * sc + bi;
  return std::isfinite(r) ? r : wide;
}

inline float dx(float x, float dy, double mean, double dy_mean, double coef, double scale) {
  const auto wide = static_cast<float>(
      ((static_cast<double>(dy) - dy_mean) - (static_cast<double>(x) - mean) * coef) * scale);
  const split mu = split_of(mean);
  const auto dm = static_cast<float>(dy_mean), co = static_cast<float>(coef),
             sc = static_cast<float>(scale);
  if (!std::isfinite(mu.hi) || !std::isfinite(dm) || !holds(coef, co) || !holds(scale, sc))
    return wide;
  const float r = ((dy - dm) - ((x - mu.hi) - mu.lo) * co) * sc;
  return std::isfinite(r) ? r : wide;
}

}  // namespace bncheck::eigen::f32_model
