// The channel-last (nhwc, ndhwc, nc) loops of the fast kernels, for one
// variant (BNC_ISA and BNC_CL_WIDTH): statistics and backward sums by chunks
// of 256 rows with prefetched successors, elementwise passes by rows.
#pragma once

#include <cstdint>
#include <memory>

#include "impl/eigen/fast/common-inl.hpp"

#ifndef BNC_ISA
#error "included by kernels-inl.hpp, once per variant"
#endif

namespace bncheck::eigen::fast::BNC_ISA {
namespace {

// Channel-last: a chunk is 256 consecutive rows; WD channels are processed
// together, element w of every vector belonging to channel cb + w, with the
// 8 lanes of reduction.hpp as 8 accumulator vectors (row r into lane r % 8).
// Channels are taken in groups whose chunk (256 rows of the group's columns)
// fits in L2, chunk by chunk within a group, so the rows of a chunk are read
// from memory once: the vectors of one WD-channel column stay in L1 between
// the two passes, and neighbouring columns share their cache lines.

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

/// Channels per unit: 256 rows of a unit's columns take 512 KB.
template <class T>
constexpr int64_t cl_group = (int64_t{512} << 10) / (chunk * static_cast<int64_t>(sizeof(T)));

// Statistics and sums by chunks of every channel (chunk_moments_cl,
// chunk_sums_cl): a thread takes whole chunks, so that it reads one
// contiguous range of rows, and leaves the chunk results, in the chunk's
// order, to be merged per channel by the caller (eigen_kernel.cpp).

/// A unit of work: rows [j0, j0 + len) of the channels [g0, g1).
struct unit_cl {
  int64_t j0, len, g0, g1;
};

/// The units of the chunks [k0, k1), chunk after chunk, `width` channels at
/// a time from channel 0; f(unit, next) gets each unit and the one after it
/// (empty after the last), whose rows the unit's prefetcher brings in.
template <class F>
void for_each_unit_cl(dims d, int64_t k0, int64_t k1, int64_t width, F&& f) {
  const int64_t M = d.m(), C = d.c;
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t j0 = k * chunk, len = min64(chunk, M - j0);
    for (int64_t g0 = 0; g0 < C; g0 += width) {
      const unit_cl u{j0, len, g0, min64(C, g0 + width)};
      unit_cl next{0, 0, 0, 0};
      if (u.g1 < C)
        next = {j0, len, u.g1, min64(C, u.g1 + width)};
      else if (k + 1 < k1)
        next = {j0 + len, min64(chunk, M - j0 - len), 0, min64(C, width)};
      f(u, next);
    }
  }
}

template <class T>
void chunk_moments_cl(dims d, const T* x, int64_t k0, int64_t k1, double* mean, double* m2) {
  const int64_t C = d.c;
  double m[WD], c[WD], q[WD];
  for_each_unit_cl(d, k0, k1, cl_group<T>, [&](const unit_cl& u, const unit_cl& nx) {
    const T* rows = x + u.j0 * C;
    const auto len_d = static_cast<double>(u.len);
    double* const mo = mean + (u.j0 / chunk - k0) * C;
    double* const qo = m2 + (u.j0 / chunk - k0) * C;
    const int64_t steps = ((u.g1 - u.g0) / WD + (u.g1 - u.g0) % WD) * 2 * (u.len / lanes);
    prefetcher next = next_rows(d, x, nx.j0, nx.len, nx.g0, nx.g1, steps);
    auto put = [&](int64_t ch, int w) {
      const moments r = chunk_moments(len_d, m[w], c[w], q[w]);
      mo[ch] = r.mean;
      qo[ch] = r.m2;
    };
    int64_t cb = u.g0;
    for (; cb + WD <= u.g1; cb += WD) {
      cl_chunk_moments<WD>(rows + cb, C, u.len, next, m, c, q);
      for (int w = 0; w < WD; ++w) put(cb + w, w);
    }
    for (; cb < u.g1; ++cb) {
      cl_chunk_moments<1>(rows + cb, C, u.len, next, m, c, q);
      put(cb, 0);
    }
  });
}

template <class T>
void chunk_sums_cl(dims d, const T* x, const T* dy, int64_t k0, int64_t k1, const double* mean,
                   double* sum_dy, double* sum_dy_xc) {
  const int64_t C = d.c;
  double a[WD], b[WD];
  for_each_unit_cl(d, k0, k1, cl_group<T> / 2, [&](const unit_cl& u, const unit_cl& nx) {
    const T* xr = x + u.j0 * C;
    const T* dyr = dy + u.j0 * C;
    double* const ao = sum_dy + (u.j0 / chunk - k0) * C;
    double* const bo = sum_dy_xc + (u.j0 / chunk - k0) * C;
    const int64_t steps = ((u.g1 - u.g0) / WD + (u.g1 - u.g0) % WD) * (u.len / lanes);
    prefetcher next_x = next_rows(d, x, nx.j0, nx.len, nx.g0, nx.g1, steps);
    prefetcher next_dy = next_rows(d, dy, nx.j0, nx.len, nx.g0, nx.g1, steps);
    int64_t cb = u.g0;
    for (; cb + WD <= u.g1; cb += WD) {
      cl_chunk_sums<WD>(xr + cb, dyr + cb, C, u.len, mean + cb, next_x, next_dy, a, b);
      for (int w = 0; w < WD; ++w) ao[cb + w] = a[w], bo[cb + w] = b[w];
    }
    for (; cb < u.g1; ++cb) {
      cl_chunk_sums<1>(xr + cb, dyr + cb, C, u.len, mean + cb, next_x, next_dy, a, b);
      ao[cb] = a[0], bo[cb] = b[0];
    }
  });
}

/// Calls f(r, ch0, ch1, out) for segments of the rows [r0, r1), f writing
/// channels [ch0, ch1) of row r at out (the output itself, or a staging
/// buffer that stream_copy empties), in row_blocks order.
template <class T, class F>
void for_each_segment_cl(dims d, T* y, int64_t r0, int64_t r1, F&& f) {
  const int64_t C = d.c;
  alignas(64) T stage[stage_bytes / sizeof(T)];
  constexpr int64_t room = stage_bytes / sizeof(T);
  row_blocks(d, sizeof(T), r0, r1, [&](int64_t s, int64_t e) {
    if (!d.stream) {
      for (int64_t r = s; r < e; ++r) f(r, 0, C, y + r * C);
      return;
    }
    T* const base = y + s * C;
    const int64_t len = (e - s) * C;
    for (int64_t a = 0; a < len;) {
      const int64_t b = piece_end(base, a, room, len);
      for (int64_t q = a; q < b;) {
        const int64_t r = s + q / C, ch = q % C;
        const int64_t end = min64(b, q - ch + C);
        f(r, ch, ch + (end - q), stage + (q - a));
        q = end;
      }
      stream_copy(base + a, stage, b - a);
      a = b;
    }
  });
  if (d.stream) _mm_sfence();
}

// The elementwise loops over channel-last segments take every pointer as an
// argument: the stores may alias anything, so values read through a
// lambda's closure would be reloaded at every vector.
template <class T>
void normalize_segment(const T* x, T* out, int64_t n, const double* shift, const double* scale,
                       const double* bias) {
  int64_t ch = 0;
  for (; ch + WD <= n; ch += WD)
    store<WD>(out + ch, (load<WD>(x + ch) - load<WD>(shift + ch)) * load<WD>(scale + ch) +
                            load<WD>(bias + ch));
  for (; ch < n; ++ch)
    out[ch] = static_cast<T>((static_cast<double>(x[ch]) - shift[ch]) * scale[ch] + bias[ch]);
}

template <class T>
void dx_segment(const T* x, const T* dy, T* out, int64_t n, const double* mean,
                const double* dy_mean, const double* coef, const double* scale) {
  int64_t ch = 0;
  for (; ch + WD <= n; ch += WD)
    store<WD>(out + ch, ((load<WD>(dy + ch) - load<WD>(dy_mean + ch)) -
                         (load<WD>(x + ch) - load<WD>(mean + ch)) * load<WD>(coef + ch)) *
                            load<WD>(scale + ch));
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

}  // namespace
}  // namespace bncheck::eigen::fast::BNC_ISA
