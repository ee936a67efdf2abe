// The elementwise half of the forward pass: y = (x - shift) * scale + bias per
// channel, over contiguous runs (channel-first) or columns (channel-last), in
// double, rounded once to the storage type. Plain loops rather than Eigen
// expressions: Eigen 3.4 does not vectorize cast<>(), and on the development
// machine (bench/RESULTS.md) a fused loop that the compiler vectorizes took
// 3.1 ms for 6.4 M floats, the Eigen expression with casts 5.7 ms and a
// decode/Eigen/encode buffer 6.5 ms.
#include "impl/eigen/elements.hpp"
#include "impl/eigen/routines.hpp"

namespace bncheck::eigen {
namespace {

// One contiguous run of one channel.
template <class T>
void affine_run(const T* x, T* y, int64_t n, double shift, double scale, double bias) {
  for (int64_t k = 0; k < n; ++k) y[k] = from_double<T>((to_double(x[k]) - shift) * scale + bias);
}

template <class T>
void normalize_channel_first(const problem& p, const T* x, T* y, channel_range r,
                             const double* shift, const double* scale, const double* bias) {
  // Sample-major, so that a range of several channels is read in memory order.
  const int64_t S = spatial_size(p);
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t c = r.begin; c < r.end; ++c) {
      const int64_t at = (i * p.c + c) * S;
      affine_run(x + at, y + at, S, shift[c], scale[c], bias[c]);
    }
}

// Channel-last data is a channels x positions column-major matrix: column by
// column, with the per-channel factors read along it.
template <class T>
void normalize_channel_last(const problem& p, const T* x, T* y, channel_range r,
                            const double* shift, const double* scale, const double* bias) {
  const int64_t rows = r.end - r.begin;
  const int64_t cols = reduction_size(p);
  const double* sh = shift + r.begin;
  const double* sc = scale + r.begin;
  const double* bi = bias + r.begin;
  for (int64_t j = 0; j < cols; ++j) {
    const T* in = x + j * p.c + r.begin;
    T* out = y + j * p.c + r.begin;
    for (int64_t k = 0; k < rows; ++k) out[k] = from_double<T>((to_double(in[k]) - sh[k]) * sc[k] + bi[k]);
  }
}

}  // namespace

template <class T>
void normalize(const problem& p, const T* x, T* y, channel_range r, const double* shift,
               const double* scale, const double* bias) {
  if (channel_last(p.lay))
    normalize_channel_last(p, x, y, r, shift, scale, bias);
  else
    normalize_channel_first(p, x, y, r, shift, scale, bias);
}

template void normalize<double>(const problem&, const double*, double*, channel_range,
                                const double*, const double*, const double*);
template void normalize<float>(const problem&, const float*, float*, channel_range,
                               const double*, const double*, const double*);
template void normalize<f16>(const problem&, const f16*, f16*, channel_range, const double*,
                             const double*, const double*);
template void normalize<bf16>(const problem&, const bf16*, bf16*, channel_range, const double*,
                              const double*, const double*);

}  // namespace bncheck::eigen
