// High-precision arithmetic for the properties: exact MPFR values of tensor
// elements, channel gathering, exact statistics through the reference's
// channel_stats, and the few rounded operations (division, square root) at a
// fixed working precision whose error the bounds account for.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/problem.hpp"
#include "reference/channel.hpp"
#include "reference/exact.hpp"

namespace bncheck::properties {

using reference::mpfr_float;

/// Working precision (bits) of the properties' rounded MPFR operations. One
/// such operation errs by at most 2^-work_bits relatively (round to nearest);
/// bounds add work_margin() times the magnitude involved for a few of them.
inline constexpr mpfr_prec_t work_bits = 320;
/// 2^-(work_bits - 8): covers up to 2^7 chained roundings at work_bits.
mpfr_float work_margin();

/// v exactly (53 bits); NaN and infinities allowed.
mpfr_float exact(double v);
/// The double nearest to v (for display and for rounding parameters).
double to_double(const mpfr_float& v);

/// Flat memory indices of channel ch of a data tensor of p, in logical order
/// (sample-major, then spatial position).
std::vector<std::size_t> channel_indices(const problem& p, int64_t ch);
/// The values of channel ch of data tensor t, exactly, in logical order.
std::vector<mpfr_float> channel(const problem& p, const std::vector<double>& t, int64_t ch);

/// a + b, a - b, a * b without rounding (finite operands).
mpfr_float add(const mpfr_float& a, const mpfr_float& b);
mpfr_float sub(const mpfr_float& a, const mpfr_float& b);
mpfr_float mul(const mpfr_float& a, const mpfr_float& b);
/// |a|, exactly.
mpfr_float abs(const mpfr_float& a);
/// a / b and sqrt(a) rounded to nearest at work_bits.
mpfr_float div(const mpfr_float& a, const mpfr_float& b);
mpfr_float sqrt(const mpfr_float& a);
/// Sum of values, exactly.
mpfr_float sum(std::span<const mpfr_float> v);
/// Compares exactly: -1, 0, 1 as a < b, ==, >. Operands must not be NaN.
int cmp(const mpfr_float& a, const mpfr_float& b);
bool is_nan(const mpfr_float& a);

/// The exact statistics of channel ch of x (reference::channel_stats: S, N, V).
reference::channel_stats stats_of(const problem& p, const std::vector<double>& x, int64_t ch);
/// Exact mean S/M and biased variance N/M^2 of a channel, rounded at work_bits.
mpfr_float mean_of(const reference::channel_stats& s);
mpfr_float var_of(const reference::channel_stats& s);

}  // namespace bncheck::properties
