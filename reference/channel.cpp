// Exact per-channel statistics and the evaluation of every output at a
// working precision with its error bound (formulas in channel.hpp).
#include "reference/channel.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace bncheck::reference {
namespace {

approx bounded_by_ulp(approx a, int ternary, mpfr_prec_t q) {
  if (ternary == 0) {
    a.kind = error_kind::exact;
  } else {  // |RN(z) - z| <= ulp(RN(z))/2 < 2^(E - q)
    a.kind = error_kind::bounded;
    a.bound_exp = mpfr_get_exp(raw(a.value)) - static_cast<mpfr_exp_t>(q);
  }
  return a;
}

// (momentum weight on the old running value, weight on the batch value).
std::pair<mpfr_float, mpfr_float> running_weights(double momentum, profile prof) {
  mpfr_float m = exact_value(momentum);
  mpfr_float rest = exact_sub(exact_value(1.0), m);
  if (prof == profile::onnx) return {std::move(m), std::move(rest)};  // a*old + (1-a)*batch
  return {std::move(rest), std::move(m)};                             // (1-m)*old + m*batch
}

std::vector<mpfr_float> scaled_deviations(const channel_stats& s, std::span<const mpfr_float> x,
                                          const mpfr_float& gamma) {
  std::vector<mpfr_float> out;
  out.reserve(x.size());
  for (const mpfr_float& v : x) out.push_back(exact_mul(gamma, s.deviation(v)));
  return out;
}

mpfr_float cube(const mpfr_float& v) { return exact_mul(exact_mul(v, v), v); }

}  // namespace

approx quotient(const mpfr_float& num, const mpfr_float& den, mpfr_prec_t q) {
  approx a;
  a.value = with_precision(q);
  const int t = mpfr_div(raw(a.value), raw(num), raw(den), MPFR_RNDN);
  return bounded_by_ulp(std::move(a), t, q);
}

over_root::over_root(const mpfr_float& w, const mpfr_float& add, std::vector<mpfr_float> nums)
    : w_(w), add_(add), root_(exact_value(0.0)), nums_(std::move(nums)) {
  sign_ = mpfr_nan_p(raw(w_)) ? -1 : mpfr_sgn(raw(w_));
  if (sign_ == 0) {
    exact_root_ = true;  // sqrt(0) = 0: values become num/0 (+-inf or NaN)
  } else if (sign_ > 0) {
    // A dyadic square root of w has no more significant bits than w.
    root_ = with_precision(std::max<mpfr_prec_t>(mpfr_min_prec(raw(w_)), 2));
    exact_root_ = mpfr_sqrt(raw(root_), raw(w_), MPFR_RNDN) == 0;
    if (exact_root_ && !mpfr_zero_p(raw(add_))) {
      const mpfr_float shift = exact_mul(add_, root_);
      for (mpfr_float& n : nums_) n = exact_add(n, shift);
    }
  }
}

void over_root::inverse_root(mpfr_prec_t q, mpfr_float& r) const {
  r = with_precision(q);
  if (!exact_root_ && sign_ > 0) mpfr_rec_sqrt(raw(r), raw(w_), MPFR_RNDN);
}

approx over_root::value(mpfr_prec_t q, const mpfr_float& r, const mpfr_float& num) const {
  approx a;
  a.value = with_precision(q);
  mpfr_ptr v = raw(a.value);
  if (sign_ < 0) {  // square root of a negative number
    mpfr_set_nan(v);
    a.kind = error_kind::exact;
    return a;
  }
  if (exact_root_) {
    const int t = mpfr_div(v, raw(num), raw(root_), MPFR_RNDN);
    return bounded_by_ulp(std::move(a), t, q);
  }
  const int t = mpfr_fma(v, raw(num), raw(r), raw(add_), MPFR_RNDN);
  if (mpfr_zero_p(raw(num))) return bounded_by_ulp(std::move(a), t, q);  // the value is add
  mpfr_exp_t b = mpfr_get_exp(raw(num)) + mpfr_get_exp(raw(r)) - static_cast<mpfr_exp_t>(q);
  if (t != 0) b = std::max(b, mpfr_get_exp(v) - static_cast<mpfr_exp_t>(q));
  a.kind = error_kind::bounded;
  a.bound_exp = b;
  return a;
}

void over_root::eval(mpfr_prec_t q, std::vector<approx>& out) const {
  mpfr_float r;
  inverse_root(q, r);
  out.resize(nums_.size());
  for (std::size_t i = 0; i < nums_.size(); ++i) out[i] = value(q, r, nums_[i]);
}

approx over_root::at(mpfr_prec_t q, std::size_t i) const {
  mpfr_float r;
  inverse_root(q, r);
  return value(q, r, nums_.at(i));
}

channel_stats::channel_stats(std::span<const mpfr_float> x, double eps)
    : m_(static_cast<int64_t>(x.size())),
      m_value_(exact_integer(m_)),
      sum_(exact_sum(x)),
      centered_(exact_sub(exact_mul(m_value_, exact_dot(x, x)), exact_mul(sum_, sum_))),
      shifted_(exact_add(centered_, exact_mul(exact_value(eps), exact_mul(m_value_, m_value_)))),
      invstd_(shifted_, exact_value(0.0), {m_value_}) {
  if (m_ == 0) throw std::logic_error("reference: empty channel");
}

mpfr_float channel_stats::deviation(const mpfr_float& x) const { return exact_sub(exact_mul(m_value_, x), sum_); }

approx channel_stats::mean(mpfr_prec_t q) const { return quotient(sum_, m_value_, q); }

approx channel_stats::var(mpfr_prec_t q) const { return quotient(centered_, exact_mul(m_value_, m_value_), q); }

approx channel_stats::invstd(mpfr_prec_t q) const { return invstd_.at(q, 0); }

approx channel_stats::running_mean(mpfr_prec_t q, const mpfr_float& old, double momentum, profile prof) const {
  // a*old + b*S/m = (a*old*m + b*S)/m
  const auto [a, b] = running_weights(momentum, prof);
  return quotient(exact_add(exact_mul(exact_mul(a, old), m_value_), exact_mul(b, sum_)), m_value_, q);
}

approx channel_stats::running_var(mpfr_prec_t q, const mpfr_float& old, double momentum, profile prof) const {
  // onnx (biased): a*old + b*N/m^2; pytorch, cudnn (unbiased): a*old + b*N/(m(m-1)).
  const auto [a, b] = running_weights(momentum, prof);
  const bool unbiased = prof != profile::onnx;
  if (unbiased && m_ < 2) throw std::logic_error("reference: unbiased variance of one value");
  const mpfr_float den = exact_mul(m_value_, unbiased ? exact_integer(m_ - 1) : m_value_);
  return quotient(exact_add(exact_mul(exact_mul(a, old), den), exact_mul(b, centered_)), den, q);
}

struct merged_parts {
  mpfr_float total, sum, centered;
};

namespace {

merged_parts merge_exactly(std::span<const int64_t> counts, std::span<const mpfr_float> means,
                           std::span<const mpfr_float> m2s) {
  if (counts.empty() || counts.size() != means.size() || counts.size() != m2s.size())
    throw std::logic_error("reference: a merge needs one count, mean and M2 per shard");
  std::vector<mpfr_float> n;
  n.reserve(counts.size());
  mpfr_float total = exact_value(0.0);
  for (int64_t k : counts) {
    n.push_back(exact_integer(k));
    total = exact_add(total, n.back());
  }
  std::vector<mpfr_float> weighted;  // n_i mu_i
  weighted.reserve(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) weighted.push_back(exact_mul(n[i], means[i]));
  mpfr_float sum = exact_sum(weighted);
  // C = N (sum M2_i + sum n_i mu_i^2) - S^2
  const mpfr_float inner = exact_add(exact_sum(m2s), exact_dot(weighted, means));
  mpfr_float centered = exact_sub(exact_mul(total, inner), exact_mul(sum, sum));
  return {std::move(total), std::move(sum), std::move(centered)};
}

}  // namespace

merged_stats::merged_stats(std::span<const int64_t> counts, std::span<const mpfr_float> means,
                           std::span<const mpfr_float> m2s, double eps)
    : merged_stats(merge_exactly(counts, means, m2s), eps) {}

merged_stats::merged_stats(merged_parts&& parts, double eps)
    : total_(std::move(parts.total)),
      sum_(std::move(parts.sum)),
      centered_(std::move(parts.centered)),
      invstd_(exact_add(centered_, exact_mul(exact_value(eps), exact_mul(total_, total_))), exact_value(0.0),
              {total_}) {}

training_channel::training_channel(std::span<const mpfr_float> x, const mpfr_float& gamma, const mpfr_float& beta,
                                   double eps)
    : stats_(x, eps), y_(stats_.shifted(), beta, scaled_deviations(stats_, x, gamma)) {}

inference_channel::inference_channel(std::span<const mpfr_float> x, const mpfr_float& gamma,
                                     const mpfr_float& beta, const mpfr_float& running_mean,
                                     const mpfr_float& running_var, double eps)
    : y_(exact_add(running_var, exact_value(eps)), beta, [&] {
        std::vector<mpfr_float> nums;
        nums.reserve(x.size());
        for (const mpfr_float& v : x) nums.push_back(exact_mul(gamma, exact_sub(v, running_mean)));
        return nums;
      }()) {}

backward_channel::backward_channel(std::span<const mpfr_float> x, std::span<const mpfr_float> dy,
                                   const mpfr_float& gamma, double eps)
    : stats_(x, eps),
      dbeta_(exact_sum(dy)),
      cross_(exact_sub(exact_mul(exact_integer(stats_.m()), exact_dot(dy, x)), exact_mul(stats_.sum(), dbeta_))),
      dgamma_(stats_.shifted(), exact_value(0.0), {cross_}),
      dx_(cube(stats_.shifted()), exact_value(0.0), [&] {
        const mpfr_float m = exact_integer(stats_.m());
        const mpfr_float& v = stats_.shifted();
        const mpfr_float& g = cross_;
        std::vector<mpfr_float> nums;
        nums.reserve(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
          const mpfr_float b = exact_sub(exact_mul(m, dy[i]), dbeta_);  // B_i = m dy_i - D
          const mpfr_float a = stats_.deviation(x[i]);                  // A_i = m x_i - S
          nums.push_back(exact_mul(gamma, exact_sub(exact_mul(b, v), exact_mul(a, g))));
        }
        return nums;
      }()) {}

approx backward_channel::dbeta(mpfr_prec_t q) const {
  approx a;
  a.value = with_precision(q);
  const int t = mpfr_set(raw(a.value), raw(dbeta_), MPFR_RNDN);
  return bounded_by_ulp(std::move(a), t, q);
}

}  // namespace bncheck::reference
