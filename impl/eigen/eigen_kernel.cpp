// The Eigen kernel's entry point: checks a call, dispatches once on the data
// format, splits the channels (or rows) among threads, and does the
// per-channel algebra of each op (factors, saved and running statistics)
// around the data loops: the vectorized ones of fast/ for f32 and f64 data,
// those of routines.hpp for f16 and bf16. f64 data (and f16, bf16) is summed
// in double in the order of reduction.hpp; f32 data in f32 lanes
// (fast/f32_chunks-inl.hpp, docs/cpu-kernel.md).
#include "impl/eigen/eigen_kernel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.hpp"
#include "impl/eigen/caches.hpp"
#include "impl/eigen/elements.hpp"
#include "impl/eigen/fast/fast.hpp"
#include "impl/eigen/merge.hpp"
#include "impl/eigen/parallel.hpp"
#include "impl/eigen/reduction.hpp"
#include "impl/eigen/routines.hpp"

namespace bncheck::eigen {
namespace {

using channel_vector = std::vector<double>;

// Per-channel tensors are f32 or f64 (checked before any of this runs).
channel_vector load_channels(const problem& p, const void* src) {
  channel_vector v(static_cast<std::size_t>(p.c));
  for (int64_t c = 0; c < p.c; ++c)
    v[c] = p.param_type == dtype::f64 ? static_cast<const double*>(src)[c]
                                      : static_cast<double>(static_cast<const float*>(src)[c]);
  return v;
}

// Rounds once to the parameter format; a null destination is an output the
// caller did not ask for.
void store_channels(const problem& p, const channel_vector& v, void* dst) {
  if (dst == nullptr) return;
  if (p.param_type == dtype::f64)
    std::memcpy(dst, v.data(), v.size() * sizeof(double));
  else
    encode(v.data(), p.c, static_cast<float*>(dst));
}

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

// The data loops for T: fast/ (selected instruction set) for f32 and f64,
// routines.hpp otherwise.
template <class T>
constexpr bool has_fast = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
const fast::ops<T>& fast_ops() {
  if constexpr (std::is_same_v<T, float>)
    return fast::selected().f32;
  else
    return fast::selected().f64;
}

// The output's store instructions and the backwards blocks come from the
// machine's caches, the backward sums' prefetch from its maker (caches.hpp).
// writes: the pass writes a data tensor (y or dx). backwards: an elementwise
// pass that follows a channel-last statistics pass (fast.hpp: dims).
fast::dims dims_of(const problem& p, bool writes, bool backwards = false) {
  static const bool prefetch_part_rows = prefetches_part_rows(cpu_maker());
  const cache_sizes c = caches();
  const int64_t count = element_count(p);
  const int64_t bytes = count * static_cast<int64_t>(size_of(p.data_type));
  const bool stream = writes && streams_output(bytes, threads_for(count), c);
  fast::dims d{p.n, p.c, spatial_size(p), stream, backwards, backwards_block_bytes(c)};
  d.prefetch_part_rows = prefetch_part_rows;
  return d;
}

// Channel-last statistics (sums) of all channels on n threads. The fast loops
// split the rows: each thread computes every channel's results for a range of
// whole chunks, reading contiguous memory instead of a share of every row;
// the chunk results are then pushed per channel, in chunk order, into
// reduction.hpp's tree (the same bits as any other split). The tree's shape
// and weights depend only on the chunk lengths, the same for every channel,
// so a thread's channels go through it together as arrays. Chunks go in
// windows whose results take at most 16 MiB. The generic loops split the
// channels.
constexpr int64_t chunk_results_budget = int64_t{16} << 20;
std::atomic<int64_t> window_override{0};  // set_chunk_window

Eigen::Map<const Eigen::ArrayXd> channels_of(const std::vector<double>& a, int64_t k, int64_t C,
                                             channel_range r) {
  return {a.data() + k * C + r.begin, r.end - r.begin};
}

// The two per-channel arrays of a merged item.
const Eigen::ArrayXd& first_of(const moments<Eigen::ArrayXd>& m) { return m.mean; }
const Eigen::ArrayXd& second_of(const moments<Eigen::ArrayXd>& m) { return m.m2; }
const Eigen::ArrayXd& first_of(const sum_pair<Eigen::ArrayXd>& s) { return s.first; }
const Eigen::ArrayXd& second_of(const sum_pair<Eigen::ArrayXd>& s) { return s.second; }

// For windows of chunks: compute(k0, k1, a, b) on n threads, each a share of
// the window's chunks with about the same number of rows (chunk_part),
// writing chunk k's results for every channel at a[(k - k0) * C + ch] and
// b[...]; then, on n threads, thread t pushes make(k, a_k, b_k) for each
// chunk in order into its tree, with a_k and b_k the arrays of its channels
// (part t of n). After the last window each tree's merged item goes to
// first[ch] and second[ch].
template <class Item, class Compute, class Make>
void merge_by_chunks(int64_t M, int64_t C, int n, Compute&& compute, Make&& make, double* first,
                     double* second) {
  const int64_t K = (M + chunk_length - 1) / chunk_length;
  const int64_t chosen = window_override.load();
  const int64_t window =
      std::clamp<int64_t>(chosen > 0 ? chosen : chunk_results_budget / (16 * C), 1, K);
  std::vector<double> a(static_cast<std::size_t>(window * C)), b(a.size());
  std::vector<pairwise_tree<Item>> trees(static_cast<std::size_t>(n));
  for (int64_t k0 = 0; k0 < K; k0 += window) {
    const int64_t k1 = std::min(K, k0 + window);
    parallel(n, [&](int t) {
      const channel_range ks = chunk_part(k0, k1, M, chunk_length, t, n);
      compute(ks.begin, ks.end, a.data() + (ks.begin - k0) * C, b.data() + (ks.begin - k0) * C);
    });
    parallel(n, [&](int t) {
      const channel_range r = part(0, C, t, n);
      if (r.end == r.begin) return;
      pairwise_tree<Item>& tree = trees[static_cast<std::size_t>(t)];
      for (int64_t k = k0; k < k1; ++k)
        tree.push(make(k, channels_of(a, k - k0, C, r), channels_of(b, k - k0, C, r)));
      if (k1 < K) return;
      const Item all = tree.finish();
      Eigen::Map<Eigen::ArrayXd>(first + r.begin, r.end - r.begin) = first_of(all);
      Eigen::Map<Eigen::ArrayXd>(second + r.begin, r.end - r.begin) = second_of(all);
    });
  }
}

template <class T>
void moments_cl_all(const problem& p, const T* x, int n, double* mean, double* m2) {
  const int64_t M = reduction_size(p), C = p.c;
  if constexpr (has_fast<T>) {
    merge_by_chunks<moments<Eigen::ArrayXd>>(
        M, C, n,
        [&](int64_t k0, int64_t k1, double* a, double* b) {
          fast_ops<T>().chunk_moments_cl(dims_of(p, false), x, k0, k1, a, b);
        },
        [&](int64_t k, const auto& a, const auto& b) {
          const auto len = static_cast<double>(std::min(chunk_length, M - k * chunk_length));
          return moments<Eigen::ArrayXd>{len, a, b};
        },
        mean, m2);
  } else {
    parallel(n, [&](int t) { batch_moments(p, x, part(0, C, t, n), mean, m2); });
  }
}

template <class T>
void sums_cl_all(const problem& p, const T* x, const T* dy, int n, const double* mean,
                 double* sum_dy, double* sum_dy_xc) {
  const int64_t M = reduction_size(p), C = p.c;
  if constexpr (has_fast<T>) {
    merge_by_chunks<sum_pair<Eigen::ArrayXd>>(
        M, C, n,
        [&](int64_t k0, int64_t k1, double* a, double* b) {
          fast_ops<T>().chunk_sums_cl(dims_of(p, false), x, dy, k0, k1, mean, a, b);
        },
        [](int64_t, const auto& a, const auto& b) { return sum_pair<Eigen::ArrayXd>{a, b}; },
        sum_dy, sum_dy_xc);
  } else {
    parallel(n, [&](int t) {
      backward_sums(p, x, dy, part(0, C, t, n), mean, sum_dy, sum_dy_xc);
    });
  }
}

// Elementwise passes over part t of n: rows of a channel-last tensor for the
// fast loops (each thread then streams contiguous memory), channels otherwise.
// after_statistics: the rows were just read by the statistics (training).
template <class T>
void normalize_part(const problem& p, const T* x, T* y, int t, int n, const double* shift,
                    const double* scale, const double* bias, bool after_statistics) {
  if constexpr (has_fast<T>) {
    const auto& o = fast_ops<T>();
    if (channel_last(p.lay)) {
      const channel_range rows = part(0, reduction_size(p), t, n);
      o.normalize_cl(dims_of(p, true, after_statistics), x, y, rows.begin, rows.end, shift,
                     scale, bias);
    } else {
      const channel_range r = part(0, p.c, t, n);
      o.normalize_cf(dims_of(p, true), x, y, r.begin, r.end, shift, scale, bias);
    }
  } else {
    normalize(p, x, y, part(0, p.c, t, n), shift, scale, bias);
  }
}

// dx of a channel-last tensor, part t of n: rows for the fast loops (each
// thread then streams contiguous memory), channels for the generic ones.
template <class T>
void dx_part_cl(const problem& p, const T* x, const T* dy, T* dx, int t, int n,
                const double* mean, const double* dy_mean, const double* coef,
                const double* scale) {
  if constexpr (has_fast<T>) {
    const channel_range rows = part(0, reduction_size(p), t, n);
    fast_ops<T>().dx_cl(dims_of(p, true, true), x, dy, dx, rows.begin, rows.end, mean, dy_mean,
                        coef, scale);
  } else {
    backward_dx(p, x, dy, dx, part(0, p.c, t, n), mean, dy_mean, coef, scale);
  }
}

// The fast loops' block_fn for a callable taking a channel_range.
template <class F>
void call_block(void* ctx, int64_t c0, int64_t c1) {
  (*static_cast<F*>(ctx))(channel_range{c0, c1});
}

// Channels processed together (channel-first): a block is read from memory
// once for its statistics and again, from L2, for the elementwise pass, which
// the f32/f64 loops run while the next block is read (fast.hpp: train_cf),
// so two blocks' data tensors share one core's L2 with the output's staging
// and the fast loops' 4-8 KB per channel and tensor of decoded values:
// caches.hpp's channel_block_bytes of data and at most 16 channels per
// tensor (e.g. with 128 KiB: 1 channel of N32 C256 28x28 f32, 100 KB; 5 of
// N32 C512 14x14; 16 of N32 C2048 7x7, 6 KB each).
// Channel-last channels are interleaved in memory and go all together.
int64_t channel_block(const problem& p, int tensors) {
  if (channel_last(p.lay)) return p.c;
  const int64_t cache_budget = channel_block_bytes(caches());
  constexpr int64_t max_channels = 16;
  const int64_t per_channel =
      reduction_size(p) * static_cast<int64_t>(size_of(p.data_type)) * tensors;
  return std::clamp<int64_t>(cache_budget / per_channel, 1, max_channels / tensors);
}

// Running statistics in place, per profile (core/problem.hpp):
//   onnx:           rm' = m rm + (1-m) mean,  rv' = m rv + (1-m) var
//   pytorch, cudnn: rm' = (1-m) rm + m mean,  rv' = (1-m) rv + m var_unbiased
// with var = M2/M and var_unbiased = M2/(M-1), undefined (NaN) for M = 1.
void update_running(const problem& p, const channel_vector& mean, const channel_vector& m2,
                    const kernel_io& io) {
  const double M = static_cast<double>(reduction_size(p));
  const double m = p.momentum;
  if (io.running_mean != nullptr) {
    channel_vector rm = load_channels(p, io.running_mean);
    for (int64_t c = 0; c < p.c; ++c)
      rm[c] = p.prof == profile::onnx ? m * rm[c] + (1 - m) * mean[c]
                                      : (1 - m) * rm[c] + m * mean[c];
    store_channels(p, rm, io.running_mean);
  }
  if (io.running_var != nullptr) {
    channel_vector rv = load_channels(p, io.running_var);
    for (int64_t c = 0; c < p.c; ++c) {
      if (p.prof == profile::onnx) {
        rv[c] = m * rv[c] + (1 - m) * (m2[c] / M);
      } else {
        const double unbiased =
            M > 1 ? m2[c] / (M - 1) : std::numeric_limits<double>::quiet_NaN();
        rv[c] = (1 - m) * rv[c] + m * unbiased;
      }
    }
    store_channels(p, rv, io.running_var);
  }
}

template <class T>
void forward_training(const problem& p, const kernel_io& io) {
  require(io.x && io.gamma && io.beta && io.y, "forward_training needs x, gamma, beta and y");
  const auto* x = static_cast<const T*>(io.x);
  auto* y = static_cast<T*>(io.y);
  const double M = static_cast<double>(reduction_size(p));
  const channel_vector gamma = load_channels(p, io.gamma);
  const channel_vector beta = load_channels(p, io.beta);
  channel_vector mean(gamma.size()), m2(gamma.size()), var(gamma.size()),
      invstd(gamma.size()), scale(gamma.size());
  // var, invstd and scale of the channels of r, once their moments are known.
  auto factors = [&](channel_range r) {
    for (int64_t c = r.begin; c < r.end; ++c) {
      var[c] = m2[c] / M;
      invstd[c] = 1.0 / std::sqrt(var[c] + p.eps);
      scale[c] = gamma[c] * invstd[c];
    }
  };
  const int n = threads_for(element_count(p));
  if (channel_last(p.lay)) {
    // No channel is complete before the last row: statistics, then y.
    moments_cl_all(p, x, n, mean.data(), m2.data());
    factors({0, p.c});
    parallel(n, [&](int t) {
      normalize_part(p, x, y, t, n, mean.data(), scale.data(), beta.data(), true);
    });
  } else if constexpr (has_fast<T>) {
    const int64_t block = channel_block(p, 1);
    parallel(n, [&](int t) {
      const channel_range mine = part(0, p.c, t, n);
      fast_ops<T>().train_cf(dims_of(p, true), x, y, mine.begin, mine.end, block, mean.data(),
                             m2.data(), call_block<decltype(factors)>, &factors, mean.data(),
                             scale.data(), beta.data());
    });
  } else {
    const int64_t block = channel_block(p, 1);
    parallel(n, [&](int t) {
      const channel_range mine = part(0, p.c, t, n);
      for (int64_t c0 = mine.begin; c0 < mine.end; c0 += block) {
        const channel_range r{c0, std::min(mine.end, c0 + block)};
        batch_moments(p, x, r, mean.data(), m2.data());
        factors(r);
        normalize(p, x, y, r, mean.data(), scale.data(), beta.data());
      }
    });
  }
  store_channels(p, mean, io.mean);
  store_channels(p, var, io.var);
  store_channels(p, invstd, io.invstd);
  update_running(p, mean, m2, io);
}

// y = gamma (x - rm) / sqrt(rv + eps) + beta, as (x - rm) * scale + beta.
template <class T>
void forward_inference(const problem& p, const kernel_io& io) {
  require(io.x && io.gamma && io.beta && io.y && io.running_mean && io.running_var,
          "forward_inference needs x, gamma, beta, running_mean, running_var and y");
  const channel_vector gamma = load_channels(p, io.gamma);
  const channel_vector beta = load_channels(p, io.beta);
  const channel_vector rm = load_channels(p, io.running_mean);
  const channel_vector rv = load_channels(p, io.running_var);
  channel_vector scale(gamma.size());
  for (int64_t c = 0; c < p.c; ++c) scale[c] = gamma[c] * (1.0 / std::sqrt(rv[c] + p.eps));
  const int n = threads_for(element_count(p));
  parallel(n, [&](int t) {
    normalize_part(p, static_cast<const T*>(io.x), static_cast<T*>(io.y), t, n, rm.data(),
                   scale.data(), beta.data(), false);
  });
}

// With the saved mean and invstd, xhat = (x - mean) invstd:
//   dbeta = sum(dy),  dgamma = sum(dy (x - mean)) invstd,
//   dx = gamma invstd (dy - dbeta/M - xhat dgamma/M)
//      = scale ((dy - dy_mean) - (x - mean) coef)
// with scale = gamma invstd, dy_mean = dbeta/M, coef = invstd dgamma/M. The
// two subtracted terms are the paths through the mean and the variance.
template <class T>
void backward(const problem& p, const kernel_io& io) {
  require(io.x && io.dy && io.gamma && io.mean && io.dx && (io.invstd || io.var),
          "backward needs x, dy, gamma, mean, invstd (or var) and dx");
  const auto* x = static_cast<const T*>(io.x);
  const auto* dy = static_cast<const T*>(io.dy);
  const double M = static_cast<double>(reduction_size(p));
  const channel_vector gamma = load_channels(p, io.gamma);
  const channel_vector mean = load_channels(p, io.mean);
  channel_vector invstd;
  if (io.invstd != nullptr) {
    invstd = load_channels(p, io.invstd);
  } else {
    invstd = load_channels(p, io.var);
    for (double& v : invstd) v = 1.0 / std::sqrt(v + p.eps);
  }
  channel_vector dgamma(gamma.size()), dbeta(gamma.size()), sum_dy_xc(gamma.size()),
      dy_mean(gamma.size()), coef(gamma.size()), scale(gamma.size());
  auto* dx = static_cast<T*>(io.dx);
  auto factors = [&](channel_range r) {
    for (int64_t c = r.begin; c < r.end; ++c) {
      dgamma[c] = sum_dy_xc[c] * invstd[c];
      dy_mean[c] = dbeta[c] / M;
      coef[c] = (invstd[c] * dgamma[c]) / M;
      scale[c] = gamma[c] * invstd[c];
    }
  };
  const int n = threads_for(element_count(p));
  if (channel_last(p.lay)) {
    sums_cl_all(p, x, dy, n, mean.data(), dbeta.data(), sum_dy_xc.data());
    factors({0, p.c});
    parallel(n, [&](int t) {
      dx_part_cl(p, x, dy, dx, t, n, mean.data(), dy_mean.data(), coef.data(), scale.data());
    });
  } else if constexpr (has_fast<T>) {
    const int64_t block = channel_block(p, 2);
    parallel(n, [&](int t) {
      const channel_range mine = part(0, p.c, t, n);
      fast_ops<T>().backward_cf(dims_of(p, true), x, dy, dx, mine.begin, mine.end, block,
                                mean.data(), dbeta.data(), sum_dy_xc.data(),
                                call_block<decltype(factors)>, &factors, dy_mean.data(),
                                coef.data(), scale.data());
    });
  } else {
    const int64_t block = channel_block(p, 2);
    parallel(n, [&](int t) {
      const channel_range mine = part(0, p.c, t, n);
      for (int64_t c0 = mine.begin; c0 < mine.end; c0 += block) {
        const channel_range r{c0, std::min(mine.end, c0 + block)};
        backward_sums(p, x, dy, r, mean.data(), dbeta.data(), sum_dy_xc.data());
        factors(r);
        backward_dx(p, x, dy, dx, r, mean.data(), dy_mean.data(), coef.data(), scale.data());
      }
    });
  }
  store_channels(p, dgamma, io.dgamma);
  store_channels(p, dbeta, io.dbeta);
}

template <class T>
void run_typed(const problem& p, const kernel_io& io) {
  switch (p.op) {
    case op_kind::forward_training: return forward_training<T>(p, io);
    case op_kind::forward_inference: return forward_inference<T>(p, io);
    case op_kind::backward: return backward<T>(p, io);
    case op_kind::merge_statistics: return merge_statistics(p, io);  // no data tensor: T unused
  }
  throw std::invalid_argument("unknown op");
}

class eigen_kernel final : public kernel {
 public:
  std::string name() const override { return "eigen"; }

  // Data tensors in another storage are computed dense in p.lay (docs/cpu-kernel.md).
  bool takes_strides() const override { return true; }

  kernel_result run(const problem& given, const kernel_io& given_io) override {
    return error_result_of("eigen", [&]() -> kernel_result {
      validate(given);
      return run_densified(given, given_io, [&](const problem& p, const kernel_io& io) { return run_dense(p, io); });
    });
  }

 private:
  kernel_result run_dense(const problem& p, const kernel_io& io) {
    {
      if (p.param_type != dtype::f32 && p.param_type != dtype::f64)
        return {kernel_status::unimplemented,
                "eigen: parameters in " + std::string(to_string(p.param_type)) +
                    " are not supported (f32 or f64 only)"};
      switch (p.data_type) {
        case dtype::f64: run_typed<double>(p, io); break;
        case dtype::f32: run_typed<float>(p, io); break;
        case dtype::f16: run_typed<f16>(p, io); break;
        case dtype::bf16: run_typed<bf16>(p, io); break;
      }
      return {};
    }
  }
};

}  // namespace

std::unique_ptr<kernel> make_eigen_kernel() { return std::make_unique<eigen_kernel>(); }

void set_chunk_window(int64_t chunks) { window_override.store(std::max<int64_t>(chunks, 0)); }

}  // namespace bncheck::eigen
