// Comparison of a kernel's outputs with the reference under the tolerance
// model (check/tolerance.hpp, derived in docs/tolerances.md): counts, the
// worst elements, and per output the distribution of err/bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "check/harness.hpp"
#include "core/tensor.hpp"

namespace bncheck {

/// One compared element.
struct element_error {
  std::string tensor;       ///< output name (y, dx, mean, ...)
  int64_t index = 0;        ///< flat index in the tensor's memory order
  double expected = 0;      ///< reference value (f64, correctly rounded)
  double got = 0;           ///< kernel value, decoded exactly
  double bound = 0;         ///< the tolerance model's bound for this element
  double normalized = 0;    ///< |got - expected| / bound; > 1 fails; inf for a NaN or wrong zero
  double ulps = 0;          ///< |got - expected| in ulps of the output format at expected
  double relative = 0;      ///< |got - expected| / |expected|
  std::string position;     ///< "y[1,0,3,2]": the index in the tensor's memory-order shape
};

/// err/bound of one output's elements in fixed log-scale bins: bin 0 holds
/// the exact elements (err 0), bin 1 those in (0, 1e-6), bins 2..11 the
/// decades [1e-6, 1e-5) .. [1e3, 1e4), bin 12 1e4 and above (infinities, a
/// NaN or a wrong zero). Bins from histogram_first_over_bound ([1, 10)) on
/// hold the failures (and an element exactly at its bound, which passes).
inline constexpr int histogram_bins = 13;
inline constexpr int histogram_first_over_bound = 8;
/// The bin of err/bound n.
int histogram_bin(double normalized);
/// "0", "<1e-6", "1e-6" (its lower edge), ..., "1e3", "1e4+".
std::string histogram_bin_label(int bin);

/// The errors of one compared output.
struct output_errors {
  std::string tensor;
  int64_t checked = 0;
  int64_t failed = 0;               ///< elements over their bound
  double max_normalized = 0;
  std::vector<int64_t> histogram;   ///< histogram_bins counts of err/bound
  std::vector<double> channel_max;  ///< max err/bound per channel (c entries: every output is channel-indexed)
};

struct check_result {
  bool pass = true;
  int64_t checked = 0;                ///< elements compared
  int64_t failed = 0;                 ///< elements over their bound
  int64_t nans = 0;                   ///< of those, NaN where a number was expected
  double max_normalized = 0;          ///< worst normalized error over all outputs
  std::vector<element_error> worst;   ///< at most 10, worst first
  std::vector<output_errors> outputs; ///< per compared output, in output_names order
  std::string missing;                ///< outputs the kernel did not give, if any
  std::string not_produced;           ///< outputs the kernel declared not produced: not compared
};

/// "y[1,0,2,3]": the element at flat index i of a tensor of memory-order shape.
std::string element_name(const std::string& tensor, const std::vector<int64_t>& shape, std::size_t i);

/// Compares got with c.expected, every output output_names(c.prob) names
/// except those in not_produced (which the kernel declared it does not
/// compute: core/kernel.hpp).
check_result compare(const test_case& c, const tensor_map& got,
                     const std::vector<std::string>& not_produced = {});

}  // namespace bncheck
