// Exact arithmetic on MPFR numbers: each result is given a precision that
// holds it without rounding, so sums, products and differences of the inputs
// carry no error. The reference does all of its reductions this way.
#pragma once

#include <boost/multiprecision/mpfr.hpp>
#include <span>

namespace bncheck::reference {

using boost::multiprecision::mpfr_float;

/// The MPFR number inside a Boost value, for calling MPFR directly (which
/// gives the ternary value and never consults Boost's default precision).
inline mpfr_ptr raw(mpfr_float& v) { return v.backend().data(); }
inline mpfr_srcptr raw(const mpfr_float& v) { return v.backend().data(); }

/// A NaN with exactly `bits` bits of precision, whatever Boost's default is.
mpfr_float with_precision(mpfr_prec_t bits);
/// The double v, exactly (53 bits). v may be any double, NaN and infinities included.
mpfr_float exact_value(double v);
/// The integer v, exactly (64 bits).
mpfr_float exact_integer(int64_t v);

/// a + b, a - b, a * b without rounding. Operands must be finite; the result
/// has the smallest precision that the operands' bit ranges guarantee to hold it.
mpfr_float exact_add(const mpfr_float& a, const mpfr_float& b);
mpfr_float exact_sub(const mpfr_float& a, const mpfr_float& b);
mpfr_float exact_mul(const mpfr_float& a, const mpfr_float& b);
/// The sum of v without rounding (finite values).
mpfr_float exact_sum(std::span<const mpfr_float> v);
/// The sum of a[i] * b[i] without rounding (finite values, equal lengths).
mpfr_float exact_dot(std::span<const mpfr_float> a, std::span<const mpfr_float> b);

}  // namespace bncheck::reference
