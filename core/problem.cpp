// Sizes, layout geometry and validation of a problem.
#include "core/problem.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace bncheck {

fill_spec& fill_of(problem& p, const std::string& name) {
  if (name == "x") return p.x;
  if (name == "dy") return p.dy;
  if (name == "gamma") return p.gamma;
  if (name == "beta") return p.beta;
  if (name == "running_mean") return p.running_mean;
  if (name == "running_var") return p.running_var;
  if (name == "shard_mean") return p.shard_mean;
  if (name == "shard_var") return p.shard_var;
  throw std::invalid_argument("no fill for tensor '" + name + "'");
}

const fill_spec* input_fill(const problem& p, const std::string& tensor) {
  const std::pair<const char*, const fill_spec*> table[] = {
      {"x", &p.x},
      {"dy", &p.dy},
      {"gamma", &p.gamma},
      {"beta", &p.beta},
      {"running_mean", &p.running_mean},
      {"running_var", &p.running_var},
      {"shard_mean", &p.shard_mean},
      {"shard_m2", &p.shard_var}};
  for (const auto& [name, f] : table)
    if (tensor == name) return f;
  return nullptr;
}

bool generatable(const problem& p) {
  for (const fill_spec* f : {&p.x, &p.gamma, &p.beta, &p.dy, &p.running_mean, &p.running_var, &p.shard_mean,
                             &p.shard_var})
    if (f->kind == fill_kind::file) return false;
  return true;
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

layout other_format(layout l) {
  switch (l) {
    case layout::nchw: return layout::nhwc;
    case layout::nhwc: return layout::nchw;
    case layout::ncdhw: return layout::ndhwc;
    case layout::ndhwc: return layout::ncdhw;
    case layout::nc: return layout::nc;
  }
  return l;
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

const storage& storage_of(const problem& p, std::string_view name) {
  if (name == "x") return p.x_storage;
  if (name == "dy") return p.dy_storage;
  if (name == "y") return p.y_storage;
  if (name == "dx") return p.dx_storage;
  throw std::invalid_argument("no storage for tensor '" + std::string(name) + "' (only x, dy, y, dx have one)");
}

storage& storage_of(problem& p, std::string_view name) {
  return const_cast<storage&>(storage_of(static_cast<const problem&>(p), name));
}

bool is_data_tensor(std::string_view name) { return name == "x" || name == "dy" || name == "y" || name == "dx"; }

layout format_of(const problem& p, std::string_view name) { return storage_of(p, name).format.value_or(p.lay); }

bool dense_storage(const problem& p) {
  for (const char* name : data_tensor_names)
    if (!(storage_of(p, name) == storage{})) return false;
  return true;
}

placement placement_of(const problem& p, std::string_view name) {
  const storage& st = storage_of(p, name);
  const int64_t S = spatial_size(p);
  const int64_t C = st.channels != 0 ? st.channels : p.c;
  placement g;
  if (channel_last(format_of(p, name))) {
    g.n_stride = S * C, g.c_stride = 1, g.s_stride = C;
  } else {
    g.n_stride = C * S, g.c_stride = S, g.s_stride = 1;
  }
  g.offset = st.first * g.c_stride;
  g.span = p.n * C * S;
  return g;
}

std::vector<int64_t> data_strides(const problem& p, std::string_view name) {
  const placement g = placement_of(p, name);
  // Spatial positions step by s_stride: w by it, h by w of them, d by h*w.
  switch (spatial_rank(p.lay)) {
    case 0: return {g.n_stride, g.c_stride};
    case 2: return {g.n_stride, g.c_stride, g.s_stride * p.w, g.s_stride};
    default: return {g.n_stride, g.c_stride, g.s_stride * p.h * p.w, g.s_stride * p.w, g.s_stride};
  }
}

bool op_has_data_tensor(op_kind op, std::string_view name) {
  switch (op) {
    case op_kind::forward_training:
    case op_kind::forward_inference: return name == "x" || name == "y";
    case op_kind::backward: return name == "x" || name == "dy" || name == "dx";
    case op_kind::merge_statistics: return false;
  }
  return false;
}

namespace {

// Each data tensor's storage: on a tensor of the op, a format of the
// problem's spatial rank, a slice inside its tensor, sizes that fit.
void validate_storage(const problem& p, int64_t limit) {
  for (const char* name : data_tensor_names) {
    const storage& st = storage_of(p, name);
    if (st == storage{}) continue;
    const std::string key = std::string(name) + "_storage";
    if (!op_has_data_tensor(p.op, name))
      throw input_error(key + "= is set, but " + std::string(to_string(p.op)) + " has no " + name);
    if (st.format && spatial_rank(*st.format) != spatial_rank(p.lay))
      throw input_error(key + "=" + std::string(to_string(*st.format)) + " has another number of spatial axes than layout " +
                        std::string(to_string(p.lay)));
    if (st.channels == 0) {
      if (st.first != 0) throw input_error(key + ": a first channel without a slice");
      continue;
    }
    if (st.first < 0 || st.channels < 1 || st.first > st.channels - p.c)
      throw input_error(key + ": slice " + std::to_string(st.first) + "/" + std::to_string(st.channels) +
                        " does not hold ic" + std::to_string(p.c) + " channels (first + ic must be at most the channels)");
    // The whole allocation's element count fits like the tensor's own.
    int64_t count = 1;
    for (int64_t v : {p.n, st.channels, p.d, p.h, p.w}) {
      if (count > limit / v) throw input_error(key + ": sizes overflow: element count exceeds 2^60");
      count *= v;
    }
  }
}

// merge_statistics' own rules: one count per shard (mb of them), each at
// least 1, the total exact in a double; no other op has shards.
void validate_shards(const problem& p) {
  if (p.op != op_kind::merge_statistics) {
    if (!p.shards.empty()) throw input_error("shards= is only for merge_statistics");
    return;
  }
  if (p.lay != layout::nc) throw input_error("merge_statistics takes layout nc (mb shards by ic channels)");
  if (p.data_type != p.param_type)
    throw input_error("merge_statistics: the shard statistics have one format (write " +
                      std::string(to_string(p.param_type)) + ":" + std::string(to_string(p.param_type)) + ")");
  if (p.shards.empty()) throw input_error("merge_statistics needs shards=COUNT,COUNT,... (one count per shard)");
  if (static_cast<int64_t>(p.shards.size()) != p.n)
    throw input_error("merge_statistics: mb" + std::to_string(p.n) + " shards but " +
                      std::to_string(p.shards.size()) + " counts in shards=");
  constexpr int64_t total_limit = int64_t{1} << 53;  // N exact in a double
  int64_t total = 0;
  for (int64_t k : p.shards) {
    if (k < 1) throw input_error("shard counts must be at least 1, got " + std::to_string(k));
    if (k > total_limit - total) throw input_error("shard counts sum past 2^53");
    total += k;
  }
}

}  // namespace

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
  const fill_spec* fills[] = {&p.x,           &p.gamma,       &p.beta,      &p.dy,
                              &p.running_mean, &p.running_var, &p.shard_mean, &p.shard_var};
  for (const fill_spec* f : fills)
    if (!std::isfinite(f->a) || !std::isfinite(f->b))
      throw input_error("fill parameters must be finite (a non-finite value is placed with ,nan@I ,inf@I or ,-inf@I)");
  validate_shards(p);
  validate_storage(p, limit);
  // The shard statistics of merge_statistics are finite: a shard's M2 of +inf
  // would make var +inf and invstd the IEEE 0, which the undefined-output
  // rule (docs/tolerances.md 9) would fail.
  if (p.shard_mean.count != 0 || p.shard_var.count != 0)
    throw input_error("shard_mean and shard_var place no non-finite values (merge_statistics judges finite shard statistics)");
  // Placed non-finite values must land inside their tensor, and a file fill places none.
  const std::pair<const char*, const fill_spec*> named[] = {{"x", &p.x},       {"gamma", &p.gamma},
                                                            {"beta", &p.beta}, {"dy", &p.dy},
                                                            {"running_mean", &p.running_mean},
                                                            {"running_var", &p.running_var}};
  for (const auto& [name, f] : named) {
    if (f->count == 0) continue;
    if (f->count < 0 || f->count > max_specials)
      throw input_error(std::string("fill of ") + name + " places a bad number of non-finite values");
    if (f->kind == fill_kind::file)
      throw input_error(std::string("fill of ") + name + ": 'file' places no non-finite values");
    const bool data = std::string_view(name) == "x" || std::string_view(name) == "dy";
    const int64_t size = data ? count : p.c;
    for (int k = 0; k < f->count; ++k) {
      const int64_t i = f->specials[static_cast<std::size_t>(k)].index;
      if (i < 0 || i >= size)
        throw input_error(std::string("fill of ") + name + " places a value at index " + std::to_string(i) +
                          ", outside its " + std::to_string(size) + " elements");
      if (k > 0 && i <= f->specials[static_cast<std::size_t>(k - 1)].index)
        throw input_error(std::string("fill of ") + name + ": placement indices must increase");
    }
  }
}

}  // namespace bncheck
