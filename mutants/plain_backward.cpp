// The backward op of the plain kernel, from the saved mean and invstd:
//   dbeta = sum(dy),  dgamma = sum(dy xhat),  xhat = (x - mu) s,
//   dx = gamma s (dy - dbeta/M - xhat dgamma/M),
// the last two terms being the paths through the mean and the variance.
#include "mutants/plain_parts.hpp"

namespace bncheck::mutants::plain {

template <class W>
void backward(const problem& p, const kernel_io& io, const faults& f) {
  const view v(p, f, io);
  const accumulation acc = accumulation_for(p, f);
  accumulation dbeta_acc = acc;
  if (f.dbeta_sequential) dbeta_acc.order = sum_order::sequential;
  for (int64_t c = 0; c < v.channels(); ++c) {
    const auto mu = static_cast<W>(v.param(io.mean, c));
    const auto s = static_cast<W>(v.param(f.var_as_invstd ? io.var : io.invstd, c));
    const auto g = static_cast<W>(v.param(io.gamma, c));
    W dbeta = 0, dgamma = 0;
    for (const group& grp : v.groups(c)) {
      const std::vector<W> xs = v.gather<W>(io.x, grp.reduce);
      std::vector<W> terms = v.gather<W>(io.dy, grp.reduce);
      dbeta = sum(terms, dbeta_acc);
      for (std::size_t j = 0; j < terms.size(); ++j)
        terms[j] *= f.dgamma_raw_x ? xs[j] : (xs[j] - mu) * s;
      dgamma = sum(terms, acc);
      const auto count = static_cast<W>(grp.count);
      const W dy_mean = dbeta / count, coef = dgamma / count;
      const W scale = f.dx == dx_form::without_gamma ? s : g * s;
      for (int64_t off : grp.apply) {
        const W dy = v.data<W>(io.dy, off);
        const W xhat = (v.data<W>(io.x, off) - mu) * s;
        W bracket = (dy - dy_mean) - xhat * coef;
        if (f.dx == dx_form::dy_only) bracket = dy;
        if (f.dx == dx_form::xhat_sign) bracket = (dy - dy_mean) + xhat * coef;
        v.put_data(io.dx, off, scale * bracket);
      }
    }
    v.put_param(io.dgamma, c, dgamma);
    v.put_param(io.dbeta, c, dbeta);
  }
}

template void backward<float>(const problem&, const kernel_io&, const faults&);
template void backward<double>(const problem&, const kernel_io&, const faults&);

}  // namespace bncheck::mutants::plain
