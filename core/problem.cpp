// Sizes, layout geometry and validation of a problem.
#include "core/problem.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/error.hpp"

namespace bncheck {

fill_spec& fill_of(problem& p, const std::string& name) {
  if (name == "x") return p.x;
  if (name == "dy") return p.dy;
  if (name == "gamma") return p.gamma;
  if (name == "beta") return p.beta;
  if (name == "running_mean") return p.running_mean;
  if (name == "running_var") return p.running_var;
  throw std::invalid_argument("no fill for tensor '" + name + "'");
}

int64_t spatial_size(const problem& p) { return p.d * p.h * p.w; }
int64_t reduction_size(const problem& p) { return p.n * spatial_size(p); }
int64_t element_count(const problem& p) { return p.n * p.c * spatial_size(p); }

bool channel_last(layout l) {
  return l == layout::nc || l == layout::nhwc || l == layout::ndhwc;
}

int spatial_rank(layout l) {
  switch (l) {
    case layout::nc: return 0;
    case layout::nchw:
    case layout::nhwc: return 2;
    case layout::ncdhw:
    case layout::ndhwc: return 3;
  }
  return 0;
}

std::vector<int64_t> data_shape(const problem& p) {
  switch (p.lay) {
    case layout::nc: return {p.n, p.c};
    case layout::nchw: return {p.n, p.c, p.h, p.w};
    case layout::nhwc: return {p.n, p.h, p.w, p.c};
    case layout::ncdhw: return {p.n, p.c, p.d, p.h, p.w};
    case layout::ndhwc: return {p.n, p.d, p.h, p.w, p.c};
  }
  return {};
}

void validate(const problem& p) {
  const int64_t dims[] = {p.n, p.c, p.d, p.h, p.w};
  const char* names[] = {"mb", "ic", "id", "ih", "iw"};
  for (int i = 0; i < 5; ++i)
    if (dims[i] < 1)
      throw input_error(std::string("size ") + names[i] + " must be at least 1, got " +
                        std::to_string(dims[i]));
  const int rank = spatial_rank(p.lay);
  if (rank < 3 && p.d != 1)
    throw input_error("layout " + std::string(to_string(p.lay)) + " has no depth axis (id must be 1)");
  if (rank < 2 && (p.h != 1 || p.w != 1))
    throw input_error("layout nc has no spatial axes (ih and iw must be 1)");
  // Element count and byte size must fit in int64 with room for 8-byte elements.
  constexpr int64_t limit = std::numeric_limits<int64_t>::max() / 8;
  int64_t count = 1;
  for (int64_t v : dims) {
    if (count > limit / v) throw input_error("sizes overflow: element count exceeds 2^60");
    count *= v;
  }
  if (p.param_type != dtype::f32 && p.param_type != dtype::f64)
    throw input_error("parameters and statistics must be f32 or f64, got " +
                      std::string(to_string(p.param_type)));
  if (std::isnan(p.eps) || std::isinf(p.eps) || p.eps < 0)
    throw input_error("eps must be a finite non-negative number, got " + exact_decimal(p.eps));
  if (!std::isfinite(p.momentum))
    throw input_error("momentum must be finite, got " + exact_decimal(p.momentum));
  const fill_spec* fills[] = {&p.x, &p.gamma, &p.beta, &p.dy, &p.running_mean, &p.running_var};
  for (const fill_spec* f : fills)
    if (!std::isfinite(f->a) || !std::isfinite(f->b))
      throw input_error("fill parameters must be finite");
}

}  // namespace bncheck
