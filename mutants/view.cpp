// Element access of the plain kernel: where it believes each element lives,
// which elements each channel's reductions visit, and how it stores results.
// Every offset stays inside the tensor, whatever the fault, so a mutant reads
// and writes wrong elements but never out of bounds.
#include <cstddef>
#include <utility>

#include "core/dtype.hpp"
#include "mutants/plain_parts.hpp"

namespace bncheck::mutants::plain {

view::view(const problem& p, const faults& f, const kernel_io& io) : p_(p), f_(f), io_(io) {
  dense_ = dense_storage(p);
  if (dense_) return;
  x_ = placement_of(p, "x"), dy_ = placement_of(p, "dy"), y_ = placement_of(p, "y"), dx_ = placement_of(p, "dx");
  if (f.slice_as_dense) {
    // The inputs' strides as if they had exactly c channels in their format
    // (their slice dropped); their own allocation still bounds them (placed()).
    problem unsliced = p;
    for (const char* name : {"x", "dy"}) storage_of(unsliced, name).channels = 0, storage_of(unsliced, name).first = 0;
    for (auto [name, g] : {std::pair{"x", &x_}, std::pair{"dy", &dy_}}) {
      const placement own = *g;
      *g = placement_of(unsliced, name);
      g->offset = own.offset, g->span = own.span;
    }
  }
  if (f.x_with_dy_storage && p.op == op_kind::backward) {
    // x read with dy's strides (PyTorch #64039); x's own allocation still bounds it (placed()).
    const placement own = x_;
    x_ = dy_;
    x_.offset = own.offset, x_.span = own.span;
  }
}

int64_t view::placed(const void* base, int64_t off) const {
  if (dense_) return off;
  const placement& g = base == io_.x ? x_ : base == io_.dy ? dy_ : base == io_.y ? y_ : dx_;
  // off = offset(p, i, ch, s) in p.lay, back to (i, ch, s).
  const int64_t S = spatial_size(p_);
  int64_t i, ch, s;
  if (channel_last(p_.lay)) {
    ch = off % p_.c, s = off / p_.c % S, i = off / p_.c / S;
  } else {
    s = off % S, ch = off / S % p_.c, i = off / S / p_.c;
  }
  // A faulty placement stays inside the tensor's allocation (wraps around).
  return g.at(i, ch, s) % (g.span - g.offset);
}

int64_t view::at(int64_t i, int64_t c, int64_t s) const {
  const int64_t S = spatial_size(p_);
  switch (f_.index) {
    case indexing::correct: break;
    case indexing::channel_first:
      // nhwc data read with the nchw formula (the same for nc, where S = 1).
      return (i * p_.c + c) * S + s;
    case indexing::stride_w:
      // (i*C + c)*w + s <= (n*c - 1)*w + S - 1 < n*c*S: in bounds, overlapping.
      if (!channel_last(p_.lay)) return (i * p_.c + c) * p_.w + s;
      break;
    case indexing::wrap_12bit:
      // An index type that wraps at 2^12 elements, standing in for int32 at
      // 2^31: the wrapped offset is smaller, so still in bounds.
      return offset(p_, i, c, s) & 0xFFF;
  }
  return offset(p_, i, c, s);
}

int64_t view::channels() const {
  if (f_.channel_groups_of_64 && p_.c > 64) return p_.c / 64 * 64;  // the partial last group never launched
  return f_.last_channel_skipped ? p_.c - 1 : p_.c;
}

std::vector<group> view::groups(int64_t c) const {
  const int64_t S = spatial_size(p_), M = reduction_size(p_);
  // Offsets of samples [i0, i1) at spatial positions [0, s_end), in logical order.
  auto positions = [&](int64_t i0, int64_t i1, int64_t s_end) {
    std::vector<int64_t> out;
    out.reserve(static_cast<std::size_t>((i1 - i0) * s_end));
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t s = 0; s < s_end; ++s) out.push_back(at(i, c, s));
    return out;
  };
  const std::vector<int64_t> all = positions(0, p_.n, S);
  if (f_.params_first_sample && p_.op == op_kind::backward) return {{positions(0, 1, S), all, M}};
  switch (f_.reduce) {
    case reduction_set::all: break;
    case reduction_set::skip_last: {
      std::vector<int64_t> most(all.begin(), all.end() - 1);
      return {{most, all, M}};
    }
    case reduction_set::first_depth_slice: {
      // Positions s < h*w are depth 0 in both 3-D layouts; 2-D layouts are unaffected.
      const int64_t slice = spatial_rank(p_.lay) == 3 ? p_.h * p_.w : S;
      return {{positions(0, p_.n, slice), all, p_.n * slice}};
    }
    case reduction_set::per_sample: {
      std::vector<group> out;
      for (int64_t i = 0; i < p_.n; ++i) {
        std::vector<int64_t> own = positions(i, i + 1, S);
        out.push_back({own, own, S});
      }
      return out;
    }
  }
  return {{all, all, M}};
}

double view::load_data(const void* base, int64_t off) const {
  const auto* bytes = static_cast<const unsigned char*>(base);
  return load(p_.data_type, bytes + placed(base, off) * static_cast<int64_t>(size_of(p_.data_type)));
}

void view::put_data(void* base, int64_t off, double v) const {
  // A loop over memory in vectors of 8 with the remainder loop forgotten.
  if (f_.tail_skipped && off >= element_count(p_) / 8 * 8) return;
  auto* bytes = static_cast<unsigned char*>(base);
  store(p_.data_type, round_to(p_.data_type, v), bytes + placed(base, off) * static_cast<int64_t>(size_of(p_.data_type)));
}

double view::param(const void* base, int64_t c) const {
  return load(p_.param_type, static_cast<const unsigned char*>(base) + c * static_cast<int64_t>(size_of(p_.param_type)));
}

void view::put_param(void* base, int64_t c, double v) const {
  if (base == nullptr) return;
  store(p_.param_type, round_to(p_.param_type, v),
        static_cast<unsigned char*>(base) + c * static_cast<int64_t>(size_of(p_.param_type)));
}

}  // namespace bncheck::mutants::plain
