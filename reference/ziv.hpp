// The rounding proof (Ziv's strategy): evaluate at precisions p and 2p, accept
// the double nearest to the 2p value when its error cannot move it across a
// rounding boundary, else double the precision (argument: docs/reference.md).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "reference/exact.hpp"
#include "reference/reference.hpp"

namespace bncheck::reference {

/// The largest working precision (bits) the driver tries; beyond it, it throws.
inline constexpr mpfr_prec_t precision_cap = mpfr_prec_t{1} << 16;

/// What is known of the error of a value computed at a working precision.
enum class error_kind {
  exact,    ///< the value is the exact result (every MPFR operation was exact)
  bounded,  ///< |value - exact| <= 2^bound_exp, a proven a-priori bound
  unknown,  ///< nothing: only comparing two precisions estimates the error
};

/// One value computed at some working precision.
struct approx {
  mpfr_float value;
  error_kind kind = error_kind::unknown;
  mpfr_exp_t bound_exp = 0;  ///< meaningful for error_kind::bounded only
};

/// The double nearest to v, ties to even, with gradual underflow (subnormals
/// rounded once, to their own precision) and overflow to infinity; NaN stays NaN.
double round_to_double(const mpfr_float& v);

/// The correct rounding of the exact value when the pair proves it, else
/// nullopt. coarse: the value at precision p; fine: at 2p. Accepts when every
/// point of [v - d, v + d] rounds to the same double (bitwise, so the sign of
/// a zero counts), v = fine.value, d = max(|coarse - v|, floor), floor = the
/// proven bound for error_kind::bounded, one ulp of v at its precision for
/// error_kind::unknown. Exact, NaN and infinite values are accepted as they are.
std::optional<double> decide(const mpfr_float& coarse, const approx& fine);

/// The first working precision for a channel of m values: max(128, 64 + 2*log2(m)) bits.
mpfr_prec_t initial_precision(int64_t m);

/// Proves the rounding of `count` values computed together. eval(q, out)
/// must fill out (a std::vector<approx>, resized by eval to count) with the
/// values at working precision q. Values exact at p0 are done at once; the
/// rest are compared between p and 2p and, while any is undecided, the whole
/// set is recomputed at twice the precision. stats (if given) gains count
/// values, one escalation per value per doubling it needed, and the highest
/// precision at which a value was decided. Throws std::runtime_error if a
/// value is undecided at precision_cap.
template <class Eval>
std::vector<double> round_proven_all(Eval&& eval, std::size_t count, mpfr_prec_t p0,
                                     rounding_stats* stats = nullptr);

/// One value: f(q) returns it computed at precision q (an mpfr_float).
/// Exactness is read from MPFR's inexact flag around the call (the caller's
/// flags are restored), so a value f computes without rounding is accepted at
/// p0 with no escalation, ties to even; anything else is error_kind::unknown.
template <class F>
double round_proven(F&& f, mpfr_prec_t p0, rounding_stats* stats = nullptr);

}  // namespace bncheck::reference

#include "reference/ziv-inl.hpp"
