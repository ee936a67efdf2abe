// Comparison of a kernel's outputs with the reference under the tolerance
// model (check/tolerance.hpp, derived in docs/tolerances.md), and the
// failure report every part of bncheck prints.
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
};

struct check_result {
  bool pass = true;
  int64_t checked = 0;                ///< elements compared
  int64_t failed = 0;                 ///< elements over their bound
  int64_t nans = 0;                   ///< of those, NaN where a number was expected
  double max_normalized = 0;          ///< worst normalized error over all outputs
  std::vector<element_error> worst;   ///< at most 10, worst first
  std::string missing;                ///< outputs the kernel did not give, if any
  std::string not_produced;           ///< outputs the kernel declared not produced: not compared
};

/// Compares got with c.expected, every output output_names(c.prob) names
/// except those in not_produced (which the kernel declared it does not
/// compute: core/kernel.hpp).
check_result compare(const test_case& c, const tensor_map& got,
                     const std::vector<std::string>& not_produced = {});

/// The one-line command that reproduces a case against a kernel.
std::string repro_line(const test_case& c, const std::string& kernel_name);

/// The failure report: header (problem, kernel, seed), at most ten worst
/// elements (index, expected and got as hex floats, ulps, relative,
/// normalized error), one statistics line, one REPRO: line.
std::string failure_report(const test_case& c, const std::string& kernel_name,
                           const check_result& r);

}  // namespace bncheck
