// Template bodies of the rounding driver declared in ziv.hpp.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace bncheck::reference {

namespace detail {
/// Throws the error for a value still undecided at precision_cap.
[[noreturn]] void throw_not_proven(const mpfr_float& v);

/// Restores MPFR's flags (thread-local) to their state at construction.
class keep_mpfr_flags {
 public:
  keep_mpfr_flags() : saved_(mpfr_flags_save()) {}
  ~keep_mpfr_flags() { mpfr_flags_restore(saved_, MPFR_FLAGS_ALL); }
  keep_mpfr_flags(const keep_mpfr_flags&) = delete;
  keep_mpfr_flags& operator=(const keep_mpfr_flags&) = delete;

 private:
  mpfr_flags_t saved_;
};
}  // namespace detail

template <class Eval>
std::vector<double> round_proven_all(Eval&& eval, std::size_t count, mpfr_prec_t p0,
                                     rounding_stats* stats) {
  std::vector<double> result(count);
  std::vector<approx> coarse, fine;
  std::vector<std::size_t> open;  // indices not decided yet
  mpfr_prec_t p = p0, widest = 0;
  int64_t escalations = 0;
  eval(p, coarse);
  if (coarse.size() != count) throw std::logic_error("reference: evaluation gave the wrong count");
  for (std::size_t i = 0; i < count; ++i) {
    if (coarse[i].kind == error_kind::exact) {
      result[i] = round_to_double(coarse[i].value);
      widest = p;
    } else {
      open.push_back(i);
    }
  }
  while (!open.empty()) {
    const mpfr_prec_t q = 2 * p;
    if (q > precision_cap) detail::throw_not_proven(coarse[open.front()].value);
    eval(q, fine);
    if (fine.size() != count) throw std::logic_error("reference: evaluation gave the wrong count");
    std::size_t kept = 0;
    for (std::size_t i : open) {
      const std::optional<double> r = decide(coarse[i].value, fine[i]);
      if (r) {
        result[i] = *r;
        widest = q;
      } else {
        open[kept++] = i;
      }
    }
    open.resize(kept);
    escalations += static_cast<int64_t>(kept);
    std::swap(coarse, fine);
    p = q;
  }
  if (stats) {
    stats->values += static_cast<int64_t>(count);
    stats->escalations += escalations;
    if (static_cast<unsigned>(widest) > stats->max_precision) stats->max_precision = static_cast<unsigned>(widest);
  }
  return result;
}

template <class F>
double round_proven(F&& f, mpfr_prec_t p0, rounding_stats* stats) {
  const detail::keep_mpfr_flags keep;
  auto eval = [&f](mpfr_prec_t q, std::vector<approx>& out) {
    out.resize(1);
    mpfr_flags_clear(MPFR_FLAGS_INEXACT);
    out[0].value = f(q);
    out[0].kind = mpfr_inexflag_p() ? error_kind::unknown : error_kind::exact;
  };
  return round_proven_all(eval, 1, p0, stats).front();
}

}  // namespace bncheck::reference
