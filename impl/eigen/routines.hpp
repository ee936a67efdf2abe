// The loops of the Eigen kernel over the data tensors, templated on the
// storage type T (double, float, f16, bf16) and instantiated for those four in
// stats.cpp, normalize.cpp and backward.cpp. Arithmetic is in double; outputs
// are rounded once to T.
#pragma once

#include <cstdint>

#include "core/problem.hpp"

namespace bncheck::eigen {

/// Channels [begin, end) of a problem. Per-channel arrays passed with a range
/// are indexed by absolute channel number (they hold p.c doubles).
struct channel_range {
  int64_t begin = 0;
  int64_t end = 0;
};

/// Batch moments of x (dense in p.lay) for the channels of r: mean[c] and
/// m2[c] = sum((x - mean[c])^2) over the M = n*d*h*w values of channel c,
/// by the two-pass chunked algorithm of reduction.hpp. Identical bits for
/// every layout holding the same logical data.
template <class T>
void batch_moments(const problem& p, const T* x, channel_range r, double* mean, double* m2);

/// y = (x - shift[c]) * scale[c] + bias[c] for the channels of r, evaluated
/// in double in that order and rounded once to T. Subtracting first keeps the
/// result accurate when x sits far from zero (folding into a*x + b would
/// cancel catastrophically).
template <class T>
void normalize(const problem& p, const T* x, T* y, channel_range r, const double* shift,
               const double* scale, const double* bias);

/// The two reductions of the backward pass for the channels of r:
/// sum_dy[c] = sum(dy) and sum_dy_xc[c] = sum(dy * (x - mean[c])), in the
/// chunked order of reduction.hpp (identical bits for every layout).
template <class T>
void backward_sums(const problem& p, const T* x, const T* dy, channel_range r,
                   const double* mean, double* sum_dy, double* sum_dy_xc);

/// dx = ((dy - dy_mean[c]) - (x - mean[c]) * xc_coef[c]) * scale[c] for the
/// channels of r, in double, rounded once to T.
template <class T>
void backward_dx(const problem& p, const T* x, const T* dy, T* dx, channel_range r,
                 const double* mean, const double* dy_mean, const double* xc_coef,
                 const double* scale);

}  // namespace bncheck::eigen
