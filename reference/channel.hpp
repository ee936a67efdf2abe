// One channel of batch normalization: exact statistics, and every output as
// an exact numerator over an exact denominator or square root, evaluated at
// any working precision with a proven bound on its error.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/problem.hpp"
#include "reference/ziv.hpp"

namespace bncheck::reference {

/// num / den rounded once to precision q; num and den exact. Error kind:
/// exact when MPFR reports no rounding, else bounded by one ulp of the result.
approx quotient(const mpfr_float& num, const mpfr_float& den, mpfr_prec_t q);

/// The values num_i / sqrt(w) + add for exact num_i, w and add.
/// If sqrt(w) is a dyadic number (checked once) each value is one rounded
/// division (num_i + add*sqrt(w)) / sqrt(w), exact when it can be. Otherwise
/// r = 1/sqrt(w) is rounded once at the working precision and each value is
/// fma(num_i, r, add) rounded once, with the bound
///   |err| <= |num_i| * ulp(r)/2 + ulp(value)/2 <= 2^max(E(num_i)+E(r)-q, E(value)-q),
/// E the MPFR exponent (|v| < 2^E(v)); such a value is irrational unless
/// num_i = 0, where it is add, exactly when add fits in q bits.
/// w < 0 gives NaN; w = 0 gives +-inf for num_i != 0 and NaN for num_i = 0.
class over_root {
 public:
  over_root(const mpfr_float& w, const mpfr_float& add, std::vector<mpfr_float> nums);
  std::size_t size() const { return nums_.size(); }
  /// Every value at working precision q, into out (resized to size()).
  void eval(mpfr_prec_t q, std::vector<approx>& out) const;
  /// Value i at working precision q.
  approx at(mpfr_prec_t q, std::size_t i) const;

 private:
  void inverse_root(mpfr_prec_t q, mpfr_float& r) const;
  approx value(mpfr_prec_t q, const mpfr_float& r, const mpfr_float& num) const;

  mpfr_float w_, add_, root_;
  int sign_ = 0;             // sign of w
  bool exact_root_ = false;  // sqrt(w) is dyadic (or w = 0): root_ holds it
  std::vector<mpfr_float> nums_;  // with add*root folded in when exact_root_
};

/// Batch statistics of one channel of m values x_i, kept exact:
///   S = sum x_i, N = m * sum x_i^2 - S^2 = m^2 * var (var biased),
///   V = N + eps * m^2 = m^2 * (var + eps);
/// so mean = S/m, var = N/m^2, invstd = m/sqrt(V), xhat_i = (m x_i - S)/sqrt(V).
class channel_stats {
 public:
  channel_stats(std::span<const mpfr_float> x, double eps);
  int64_t m() const { return m_; }
  const mpfr_float& sum() const { return sum_; }
  const mpfr_float& centered() const { return centered_; }
  const mpfr_float& shifted() const { return shifted_; }
  /// m x - S, exactly.
  mpfr_float deviation(const mpfr_float& x) const;

  approx mean(mpfr_prec_t q) const;
  approx var(mpfr_prec_t q) const;
  approx invstd(mpfr_prec_t q) const;
  /// Running statistics after this batch (see docs/reference.md), each one
  /// rounded division of exact numbers. running_var needs m > 1 for the
  /// unbiased profiles (pytorch, cudnn).
  approx running_mean(mpfr_prec_t q, const mpfr_float& old, double momentum, profile prof) const;
  approx running_var(mpfr_prec_t q, const mpfr_float& old, double momentum, profile prof) const;

 private:
  int64_t m_;
  mpfr_float m_value_, sum_, centered_, shifted_;
  over_root invstd_;
};

/// merge_statistics, one channel: shards of n_i values with means mu_i and
/// sums of squared deviations M2_i (exact inputs) make one batch of
///   N = sum n_i, S = sum n_i mu_i, mean = S/N,
///   M2 = sum M2_i + sum n_i (mu_i - mean)^2 = sum M2_i + sum n_i mu_i^2 - S^2/N,
/// kept exact as C = N * M2 = N sum M2_i + N sum n_i mu_i^2 - S^2, so
/// var = C/N^2 and invstd = N/sqrt(C + eps N^2): the same quotients as
/// channel_stats with C in place of its N (docs/reference.md).
struct merged_parts;  // N, S and C, exactly (channel.cpp)
class merged_stats {
 public:
  merged_stats(std::span<const int64_t> counts, std::span<const mpfr_float> means, std::span<const mpfr_float> m2s,
               double eps);
  approx mean(mpfr_prec_t q) const { return quotient(sum_, total_, q); }
  approx var(mpfr_prec_t q) const { return quotient(centered_, exact_mul(total_, total_), q); }
  approx invstd(mpfr_prec_t q) const { return invstd_.at(q, 0); }

 private:
  merged_stats(merged_parts&& parts, double eps);
  mpfr_float total_, sum_, centered_;
  over_root invstd_;
};

/// forward_training: y_i = gamma (m x_i - S)/sqrt(V) + beta, with the statistics.
class training_channel {
 public:
  training_channel(std::span<const mpfr_float> x, const mpfr_float& gamma, const mpfr_float& beta, double eps);
  const channel_stats& stats() const { return stats_; }
  /// y in channel order (sample-major, then spatial position).
  void y(mpfr_prec_t q, std::vector<approx>& out) const { y_.eval(q, out); }

 private:
  channel_stats stats_;
  over_root y_;
};

/// forward_inference: y_i = gamma (x_i - rm)/sqrt(rv + eps) + beta.
class inference_channel {
 public:
  inference_channel(std::span<const mpfr_float> x, const mpfr_float& gamma, const mpfr_float& beta,
                    const mpfr_float& running_mean, const mpfr_float& running_var, double eps);
  void y(mpfr_prec_t q, std::vector<approx>& out) const { y_.eval(q, out); }

 private:
  over_root y_;
};

/// backward, from the exact batch statistics. With D = sum dy_i,
/// G = m * sum dy_i x_i - S D, B_i = m dy_i - D, A_i = m x_i - S:
///   dbeta = D, dgamma = sum dy_i xhat_i = G/sqrt(V),
///   dx_i = gamma invstd (dy_i - dbeta/m - xhat_i dgamma/m)
///        = gamma (B_i V - A_i G) / sqrt(V^3),
/// whose numerator (where the cancellation happens) is exact.
class backward_channel {
 public:
  backward_channel(std::span<const mpfr_float> x, std::span<const mpfr_float> dy, const mpfr_float& gamma,
                   double eps);
  const channel_stats& stats() const { return stats_; }
  void dx(mpfr_prec_t q, std::vector<approx>& out) const { dx_.eval(q, out); }
  approx dgamma(mpfr_prec_t q) const { return dgamma_.at(q, 0); }
  approx dbeta(mpfr_prec_t q) const;

 private:
  channel_stats stats_;
  mpfr_float dbeta_;  // D
  mpfr_float cross_;  // G
  over_root dgamma_, dx_;
};

}  // namespace bncheck::reference
