// Internals of the plain kernel shared by its files: reductions in a chosen
// precision and order, element access with the memory faults, and the three
// ops. W is the arithmetic format, float or double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/kernel.hpp"
#include "mutants/faults.hpp"

namespace bncheck::mutants::plain {

/// How a reduction adds its terms.
struct accumulation {
  sum_order order = sum_order::blocked;
  std::size_t block = 32;  ///< terms per block of the blocked order
  bool half = false;       ///< every partial sum rounded to f16 (emulates a half accumulator)
};

/// The accumulation f asks for on p (f16 sums apply to f16 data only).
accumulation accumulation_for(const problem& p, const faults& f);

/// Sum of terms in W, in the order a gives.
template <class W>
W sum(const std::vector<W>& terms, accumulation a);

/// Count, mean and M2 = sum((x - mean)^2) of a run of values (or a shard).
template <class W>
struct partial {
  W n = 0;
  W mean = 0;
  W m2 = 0;
};

/// Chan, Golub and LeVeque's merge of two runs (b after a): every added term
/// is non-negative, and equal means leave mean and M2 untouched.
template <class W>
partial<W> merge(const partial<W>& a, const partial<W>& b) {
  if (a.n == 0) return b;
  if (b.n == 0) return a;
  const W n = a.n + b.n;
  const W delta = b.mean - a.mean;
  return {n, a.mean + delta * (b.n / n), (a.m2 + b.m2) + delta * delta * (a.n * (b.n / n))};
}

/// Mean and biased variance of one group of values.
template <class W>
struct stats {
  W mean = 0;
  W var = 0;
};

/// Mean and biased variance of xs by f.moments, dividing by count (the M the
/// kernel believes in, which a reduction fault can make differ from xs.size()).
template <class W>
stats<W> moments(const std::vector<W>& xs, W count, const faults& f, accumulation a);

/// The unbiased variance var*M/(M-1): NaN for M = 1 (0/0).
template <class W>
W unbiased(W var, W count) {
  return var * count / (count - 1);
}

/// Elements of one channel that are reduced together and then written with
/// the result.
struct group {
  std::vector<int64_t> reduce;  ///< offsets the reductions visit, in logical order
  std::vector<int64_t> apply;   ///< offsets of the y or dx elements written
  int64_t count = 0;            ///< the M the kernel divides by
};

/// Element access as the faulty kernel does it: offsets, which elements each
/// channel visits, and stores (tail fault). Holds references: p and f must
/// outlive it.
class view {
 public:
  view(const problem& p, const faults& f, const kernel_io& io);
  /// Offset of (sample i, channel c, spatial position s) with the indexing fault.
  int64_t at(int64_t i, int64_t c, int64_t s) const;
  /// Channels the channel loop visits (one short with last_channel_skipped).
  int64_t channels() const;
  /// The groups of channel c: one per channel, or one per sample (per_sample).
  std::vector<group> groups(int64_t c) const;
  /// The data element at offset off of a data tensor, as W.
  template <class W>
  W data(const void* base, int64_t off) const {
    return static_cast<W>(load_data(base, off));
  }
  /// The data elements at offsets, as W.
  template <class W>
  std::vector<W> gather(const void* base, const std::vector<int64_t>& offsets) const {
    std::vector<W> out;
    out.reserve(offsets.size());
    for (int64_t off : offsets) out.push_back(data<W>(base, off));
    return out;
  }
  /// Stores v rounded to the data format at offset off (unless the tail fault drops it).
  void put_data(void* base, int64_t off, double v) const;
  /// Channel c of a per-channel tensor.
  double param(const void* base, int64_t c) const;
  /// Stores v rounded to the parameter format; a null base is an output nobody asked for.
  void put_param(void* base, int64_t c, double v) const;

 private:
  double load_data(const void* base, int64_t off) const;
  /// Where the element at dense offset off (in p.lay, as at() gives it) of
  /// the data tensor at base lies: off itself unless the tensor has a storage.
  int64_t placed(const void* base, int64_t off) const;
  const problem& p_;
  const faults& f_;
  const kernel_io& io_;
  bool dense_ = true;
  placement x_, dy_, y_, dx_;
};

template <class W>
void forward_training(const problem& p, const kernel_io& io, const faults& f);
template <class W>
void forward_inference(const problem& p, const kernel_io& io, const faults& f);
template <class W>
void backward(const problem& p, const kernel_io& io, const faults& f);
template <class W>
void merge_statistics(const problem& p, const kernel_io& io, const faults& f);

}  // namespace bncheck::mutants::plain
