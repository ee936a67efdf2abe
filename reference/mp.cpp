// The unrounded high-precision API: per channel, the channel classes of
// channel.hpp evaluated once at the requested precision.
#include "reference/mp.hpp"

#include <string>

#include "core/error.hpp"
#include "reference/channel.hpp"

namespace bncheck::reference {
namespace {

void require_size(const std::vector<mpfr_float>& v, int64_t n, const char* name) {
  if (static_cast<int64_t>(v.size()) != n)
    throw input_error(std::string("mp reference: ") + name + " has " + std::to_string(v.size()) +
                      " values, expected " + std::to_string(n));
  for (const mpfr_float& e : v)
    if (!mpfr_number_p(raw(e))) throw input_error(std::string("mp reference: ") + name + " holds a NaN or infinity");
}

std::vector<mpfr_float> gather(const problem& p, const std::vector<mpfr_float>& t, int64_t ch) {
  const int64_t spatial = spatial_size(p);
  std::vector<mpfr_float> out;
  out.reserve(static_cast<std::size_t>(reduction_size(p)));
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t s = 0; s < spatial; ++s) out.push_back(t[static_cast<std::size_t>(offset(p, i, ch, s))]);
  return out;
}

void scatter(const problem& p, std::vector<approx>& values, int64_t ch, std::vector<mpfr_float>& t) {
  const int64_t spatial = spatial_size(p);
  std::size_t j = 0;
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t s = 0; s < spatial; ++s) t[static_cast<std::size_t>(offset(p, i, ch, s))] = std::move(values[j++].value);
}

}  // namespace

mp_forward_result mp_forward(const problem& p, const std::vector<mpfr_float>& x,
                             const std::vector<mpfr_float>& gamma, const std::vector<mpfr_float>& beta,
                             mpfr_prec_t precision) {
  validate(p);
  require_size(x, element_count(p), "x");
  require_size(gamma, p.c, "gamma");
  require_size(beta, p.c, "beta");
  mp_forward_result r;
  r.y.resize(x.size());
  std::vector<approx> values;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const std::vector<mpfr_float> xc = gather(p, x, ch);
    const training_channel t(xc, gamma[static_cast<std::size_t>(ch)], beta[static_cast<std::size_t>(ch)], p.eps);
    t.y(precision, values);
    scatter(p, values, ch, r.y);
    r.mean.push_back(t.stats().mean(precision).value);
    r.var.push_back(t.stats().var(precision).value);
    r.invstd.push_back(t.stats().invstd(precision).value);
  }
  return r;
}

mp_backward_result mp_backward(const problem& p, const std::vector<mpfr_float>& x,
                               const std::vector<mpfr_float>& dy, const std::vector<mpfr_float>& gamma,
                               mpfr_prec_t precision) {
  validate(p);
  require_size(x, element_count(p), "x");
  require_size(dy, element_count(p), "dy");
  require_size(gamma, p.c, "gamma");
  mp_backward_result r;
  r.dx.resize(x.size());
  std::vector<approx> values;
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const std::vector<mpfr_float> xc = gather(p, x, ch), dyc = gather(p, dy, ch);
    const backward_channel b(xc, dyc, gamma[static_cast<std::size_t>(ch)], p.eps);
    b.dx(precision, values);
    scatter(p, values, ch, r.dx);
    r.dgamma.push_back(b.dgamma(precision).value);
    r.dbeta.push_back(b.dbeta(precision).value);
  }
  return r;
}

}  // namespace bncheck::reference
