// Shrinks that know what a case is: keep one channel, flatten the spatial
// axes into the batch (nc: the same values per channel, so the same
// statistics), keep half of the samples, drop one sample. RapidCheck tries
// them after the generator's own shrinks (sizes, regions, mantissas), which
// get stuck when the failure lives in a later channel or a spatial layout.
#include <algorithm>
#include <numeric>

#include "properties/gen.hpp"

namespace bncheck::properties {
namespace {

// g reduced to problem q: channel c' of q is channel channels[c'] of g, and
// the value at logical position j' (sample-major, then spatial) of a q channel
// is the one at logical position logical[j'] of the g channel.
generated_case remap(const generated_case& g, problem q, const std::vector<int64_t>& channels,
                     const std::vector<int64_t>& logical) {
  const problem& p = g.prob;
  generated_case out;
  const int64_t Sp = spatial_size(p), Sq = spatial_size(q);
  for (const auto& [name, t] : g.inputs) {
    tensor r{t.type, shape_of(q, name), {}};
    if (name == "x" || name == "dy") {
      r.values.assign(static_cast<std::size_t>(element_count(q)), 0.0);
      for (int64_t ch = 0; ch < q.c; ++ch)
        for (int64_t j = 0; j < reduction_size(q); ++j) {
          const int64_t from = logical[static_cast<std::size_t>(j)];
          r.values[static_cast<std::size_t>(offset(q, j / Sq, ch, j % Sq))] =
              t.values[static_cast<std::size_t>(offset(p, from / Sp, channels[static_cast<std::size_t>(ch)], from % Sp))];
        }
    } else {
      for (int64_t ch : channels) r.values.push_back(t.values[static_cast<std::size_t>(ch)]);
    }
    out.inputs.emplace(name, std::move(r));
  }
  for (int64_t ch : channels) out.regions.push_back(g.regions[static_cast<std::size_t>(ch)]);
  mark_explicit(q, out.inputs);
  q.seed = 0;
  out.prob = q;
  return out;
}

std::vector<int64_t> all_channels(const problem& p) {
  std::vector<int64_t> v(static_cast<std::size_t>(p.c));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<int64_t> positions(int64_t count, int64_t first = 0) {
  std::vector<int64_t> v(static_cast<std::size_t>(count));
  std::iota(v.begin(), v.end(), first);
  return v;
}

bool allows(const std::vector<layout>& ls, layout l) { return std::find(ls.begin(), ls.end(), l) != ls.end(); }

}  // namespace

rc::Seq<generated_case> shrink_case(const generated_case& g, const problem_space& s) {
  const problem& p = g.prob;
  const int64_t S = spatial_size(p), M = reduction_size(p);
  std::vector<generated_case> out;
  if (!dense_storage(p)) {
    // The same case with every data tensor dense in p.lay.
    generated_case q = g;
    for (const char* name : data_tensor_names) storage_of(q.prob, name) = storage{};
    out.push_back(std::move(q));
  }
  if (p.c > 1)
    for (int64_t ch = 0; ch < p.c; ++ch) {
      problem q = p;
      q.c = 1;
      out.push_back(remap(g, q, {ch}, positions(M)));
    }
  if (p.lay != layout::nc && S > 1 && allows(s.layouts, layout::nc) && M >= s.min_batch) {
    problem q = p;
    q.lay = layout::nc;
    q.n = M, q.d = q.h = q.w = 1;
    for (const char* name : data_tensor_names) storage_of(q, name).format.reset();  // nc has one format
    out.push_back(remap(g, q, all_channels(p), positions(M)));
  }
  if (p.n >= 2 * s.min_batch && (!s.power_of_two_sizes || p.n % 2 == 0)) {
    problem q = p;
    q.n = p.n / 2;
    out.push_back(remap(g, q, all_channels(p), positions(q.n * S)));
    out.push_back(remap(g, q, all_channels(p), positions(q.n * S, (p.n - q.n) * S)));
  }
  if (p.n > s.min_batch && !s.power_of_two_sizes && p.n <= 16)
    for (int64_t k = 0; k < p.n; ++k) {
      problem q = p;
      q.n = p.n - 1;
      std::vector<int64_t> keep;
      for (int64_t j = 0; j < M; ++j)
        if (j / S != k) keep.push_back(j);
      out.push_back(remap(g, q, all_channels(p), keep));
    }
  return rc::seq::fromContainer(std::move(out));
}

}  // namespace bncheck::properties
