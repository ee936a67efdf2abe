// The backward pass over the data: the per-channel sums of dy and dy*(x - mean)
// in the fixed chunked order of reduction.hpp (Eigen lane arrays), and the
// elementwise dx in double, rounded once (plain loops the compiler vectorizes:
// see normalize.cpp for why not Eigen casts).
#include <algorithm>
#include <array>
#include <vector>

#include "impl/eigen/chunks.hpp"
#include "impl/eigen/routines.hpp"

namespace bncheck::eigen {
namespace {

// sum(dy) and sum(dy * (x - mu)) of one chunk of len decoded values.
sum_pair<double> chunk_sums(const double* bx, const double* bdy, int64_t len, double mu) {
  lane_sums s_dy = lane_sums::Zero();
  lane_sums s_dy_xc = lane_sums::Zero();
  int64_t i = 0;
  for (; i + lanes <= len; i += lanes) {
    const Eigen::Map<const lane_sums> g(bdy + i);
    s_dy += g;
    s_dy_xc += g * (Eigen::Map<const lane_sums>(bx + i) - mu);
  }
  for (int l = 0; l < len - i; ++l) {  // tail: fewer than lanes values
    s_dy(l) += bdy[i + l];
    s_dy_xc(l) += bdy[i + l] * (bx[i + l] - mu);
  }
  return {combine_lanes(s_dy), combine_lanes(s_dy_xc)};
}

template <class T>
void sums_channel_first(const problem& p, const T* x, const T* dy, channel_range r,
                        const double* mean, double* sum_dy, double* sum_dy_xc) {
  std::vector<pairwise_tree<sum_pair<double>>> trees(static_cast<std::size_t>(r.end - r.begin));
  auto on_chunk = [&](int64_t c, const std::array<const double*, 2>& b, int64_t len) {
    trees[static_cast<std::size_t>(c - r.begin)].push(chunk_sums(b[0], b[1], len, mean[c]));
  };
  for_each_chunk_channel_first<2>(p, std::array<const T*, 2>{x, dy}, r, on_chunk);
  for (int64_t c = r.begin; c < r.end; ++c) {
    const sum_pair<double> all = trees[static_cast<std::size_t>(c - r.begin)].finish();
    sum_dy[c] = all.first;
    sum_dy_xc[c] = all.second;
  }
}

// Row c performs exactly the operations chunk_sums performs for channel c.
template <class T>
void sums_channel_last(const problem& p, const T* x, const T* dy, channel_range r,
                       const double* mean, double* sum_dy_out, double* sum_dy_xc_out) {
  const int64_t M = reduction_size(p);
  const int64_t rows = r.end - r.begin;
  Eigen::ArrayXd scratch_x(rows), scratch_dy(rows);
  pairwise_tree<sum_pair<Eigen::ArrayXd>> tree;
  Eigen::ArrayXXd s_dy(rows, lanes), s_dy_xc(rows, lanes);
  const Eigen::Map<const Eigen::ArrayXd> mu(mean + r.begin, rows);
  const column_reader<T> col_x{x, p.c, r.begin, rows, scratch_x.data()};
  const column_reader<T> col_dy{dy, p.c, r.begin, rows, scratch_dy.data()};
  for (int64_t j0 = 0; j0 < M; j0 += chunk_length) {
    const int64_t len = std::min(chunk_length, M - j0);
    s_dy.setZero();
    s_dy_xc.setZero();
    for (int64_t j = 0; j < len; ++j) {
      s_dy.col(j % lanes) += col_dy(j0 + j);
      s_dy_xc.col(j % lanes) += col_dy(j0 + j) * (col_x(j0 + j) - mu);
    }
    tree.push({combine_lanes(s_dy), combine_lanes(s_dy_xc)});
  }
  const sum_pair<Eigen::ArrayXd> all = tree.finish();
  Eigen::Map<Eigen::ArrayXd>(sum_dy_out + r.begin, rows) = all.first;
  Eigen::Map<Eigen::ArrayXd>(sum_dy_xc_out + r.begin, rows) = all.second;
}

// dx of one element, in double, rounded once.
template <class T>
T dx_of(T x, T dy, double mu, double dy_mean, double coef, double scale) {
  return from_double<T>(((to_double(dy) - dy_mean) - (to_double(x) - mu) * coef) * scale);
}

// One contiguous run of one channel.
template <class T>
void dx_run(const T* x, const T* dy, T* dx, int64_t n, double mu, double dy_mean, double coef,
            double scale) {
  for (int64_t k = 0; k < n; ++k) dx[k] = dx_of(x[k], dy[k], mu, dy_mean, coef, scale);
}

// Column by column, with the per-channel factors read along each column.
template <class T>
void dx_channel_last(const problem& p, const T* x, const T* dy, T* dx, channel_range r,
                     const double* mean, const double* dy_mean, const double* xc_coef,
                     const double* scale) {
  const int64_t rows = r.end - r.begin;
  const int64_t cols = reduction_size(p);
  const double* mu = mean + r.begin;
  const double* dym = dy_mean + r.begin;
  const double* coef = xc_coef + r.begin;
  const double* sc = scale + r.begin;
  for (int64_t j = 0; j < cols; ++j) {
    const int64_t at = j * p.c + r.begin;
    for (int64_t k = 0; k < rows; ++k)
      dx[at + k] = dx_of(x[at + k], dy[at + k], mu[k], dym[k], coef[k], sc[k]);
  }
}

}  // namespace

template <class T>
void backward_sums(const problem& p, const T* x, const T* dy, channel_range r,
                   const double* mean, double* sum_dy, double* sum_dy_xc) {
  if (channel_last(p.lay))
    sums_channel_last(p, x, dy, r, mean, sum_dy, sum_dy_xc);
  else
    sums_channel_first(p, x, dy, r, mean, sum_dy, sum_dy_xc);
}

template <class T>
void backward_dx(const problem& p, const T* x, const T* dy, T* dx, channel_range r,
                 const double* mean, const double* dy_mean, const double* xc_coef,
                 const double* scale) {
  if (channel_last(p.lay)) {
    dx_channel_last(p, x, dy, dx, r, mean, dy_mean, xc_coef, scale);
    return;
  }
  // Sample-major, so that a range of several channels is read in memory order.
  const int64_t S = spatial_size(p);
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t c = r.begin; c < r.end; ++c) {
      const int64_t at = (i * p.c + c) * S;
      dx_run(x + at, dy + at, dx + at, S, mean[c], dy_mean[c], xc_coef[c], scale[c]);
    }
}

#define BNC_INSTANTIATE(T)                                                                    \
  template void backward_sums<T>(const problem&, const T*, const T*, channel_range,          \
                                 const double*, double*, double*);                            \
  template void backward_dx<T>(const problem&, const T*, const T*, T*, channel_range,        \
                               const double*, const double*, const double*, const double*);
BNC_INSTANTIATE(double)
BNC_INSTANTIATE(float)
BNC_INSTANTIATE(f16)
BNC_INSTANTIATE(bf16)
#undef BNC_INSTANTIATE

}  // namespace bncheck::eigen
