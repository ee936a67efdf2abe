// The vectorized data loops of the Eigen kernel for f32 and f64 data, compiled
// once per instruction set (isa_*.cpp) and chosen at run time (dispatch.cpp).
// Every variant performs, per channel, exactly the floating-point operations
// of one specification in the same order: reduction.hpp and routines.hpp for
// f64 data, impl/eigen/f32_model.hpp for f32 data (f32_chunks-inl.hpp). So
// all variants, all layouts and all thread counts give the same bits.
#pragma once

#include <cstdint>

namespace bncheck::eigen::fast {

/// A data tensor as n samples x c channels x s spatial positions; a channel
/// reduces over m() = n*s values. Channel-first: element (i, ch, j) at
/// (i*c + ch)*s + j. Channel-last: row r = i*s + j holds the c channels
/// contiguously, element (r, ch) at r*c + ch.
struct dims {
  int64_t n = 1, c = 1, s = 1;
  /// Write y and dx with non-temporal stores: for tensors too large to stay
  /// in cache, where a regular store would first read every output line.
  bool stream = false;
  /// Channel-last elementwise passes after a statistics pass: take the rows
  /// in blocks from the last to the first, so that the rows the statistics
  /// read last, still in the last-level cache, are read again first.
  bool backwards = false;
  /// Bytes of each tensor per block of a backwards pass: the L2 of one core
  /// (eigen_kernel.cpp, from caches.hpp).
  int64_t block_bytes = int64_t{1} << 20;
  /// Channel-last f32 backward sums: prefetch the next unit's rows where a
  /// unit is part of each row (caches.hpp: prefetches_part_rows). A hint
  /// only: the outputs are the same bits either way.
  bool prefetch_part_rows = true;
  int64_t m() const { return n * s; }
};

/// Called by the pipelined loops once a block's statistics or sums are
/// known: fills the per-channel factors of the channels [c0, c1).
using block_fn = void (*)(void* ctx, int64_t c0, int64_t c1);

/// The data loops for storage type T (float or double). Per-channel arrays
/// hold d.c doubles indexed by absolute channel; [c0, c1) is a channel range,
/// [r0, r1) a row range of a channel-last tensor.
template <class T>
struct ops {
  /// mean[ch], m2[ch] = sum((x - mean)^2), chunked two-pass (reduction.hpp).
  /// Channel-first loops keep 8 KB per channel and tensor of decoded values.
  void (*moments_cf)(dims d, const T* x, int64_t c0, int64_t c1, double* mean, double* m2);
  /// y = (x - shift) * scale + bias: in double, rounded once, for f64; in
  /// f32 with shift split in two for f32 (f32-inl.hpp).
  void (*normalize_cf)(dims d, const T* x, T* y, int64_t c0, int64_t c1, const double* shift,
                       const double* scale, const double* bias);
  void (*normalize_cl)(dims d, const T* x, T* y, int64_t r0, int64_t r1, const double* shift,
                       const double* scale, const double* bias);
  /// sum_dy[ch] = sum(dy), sum_dy_xc[ch] = sum(dy * (x - mean[ch])), chunked.
  void (*sums_cf)(dims d, const T* x, const T* dy, int64_t c0, int64_t c1, const double* mean,
                  double* sum_dy, double* sum_dy_xc);
  /// dx = ((dy - dy_mean) - (x - mean) * coef) * scale, likewise.
  void (*dx_cf)(dims d, const T* x, const T* dy, T* dx, int64_t c0, int64_t c1, const double* mean,
                const double* dy_mean, const double* coef, const double* scale);
  void (*dx_cl)(dims d, const T* x, const T* dy, T* dx, int64_t r0, int64_t r1, const double* mean,
                const double* dy_mean, const double* coef, const double* scale);
  /// Channel-last: the moments of the chunks [k0, k1) (256 rows each,
  /// reduction.hpp) of every channel, chunk k of channel ch at
  /// mean[(k - k0) * c + ch] and m2[...]. Pushed per channel in chunk order
  /// into reduction.hpp's tree they give moments_cf's bits for the same
  /// logical data.
  void (*chunk_moments_cl)(dims d, const T* x, int64_t k0, int64_t k1, double* mean, double* m2);
  /// The same for sums_cf: chunk sums of dy and dy * (x - mean[ch]).
  void (*chunk_sums_cl)(dims d, const T* x, const T* dy, int64_t k0, int64_t k1,
                        const double* mean, double* sum_dy, double* sum_dy_xc);
  /// Channel-first forward training of the channels [c0, c1) in blocks of
  /// `block`: moments_cf of a block, factors(ctx, b0, b1), then normalize_cf
  /// of it with shift/scale/bias, the last overlapped with the next block's
  /// statistics (the same bits as the three calls in turn).
  void (*train_cf)(dims d, const T* x, T* y, int64_t c0, int64_t c1, int64_t block, double* mean,
                   double* m2, block_fn factors, void* ctx, const double* shift,
                   const double* scale, const double* bias);
  /// Channel-first backward likewise: sums_cf, factors, dx_cf per block.
  void (*backward_cf)(dims d, const T* x, const T* dy, T* dx, int64_t c0, int64_t c1,
                      int64_t block, const double* mean, double* sum_dy, double* sum_dy_xc,
                      block_fn factors, void* ctx, const double* dy_mean, const double* coef,
                      const double* scale);
};

/// One compiled variant.
struct table {
  const char* name;  ///< "sse2", "avx2", "avx512"
  ops<float> f32;
  ops<double> f64;
};

const table& table_sse2();
const table& table_avx2();
const table& table_avx512();

/// The variant in use: set_isa's choice, else BNCHECK_EIGEN_ISA, else the best
/// the processor supports.
const table& selected();

}  // namespace bncheck::eigen::fast
