// What every property body does the same way: build a case (reference and
// all), run the kernel or note that it skipped, widen the tolerance model's
// bounds to bounds around the exact value, and compare exactly in MPFR,
// collecting the worst violations into the report RC_FAIL carries.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "check/compare.hpp"  // element_name
#include "check/harness.hpp"
#include "properties/gen.hpp"
#include "properties/precise.hpp"
#include "properties/property.hpp"

namespace bncheck::properties {

/// Fails the current case with text as RapidCheck's description (RC_FAIL
/// without the file:line wrapping, so the report reads as it is).
[[noreturn]] void fail(const std::string& text);
/// Discards the current case (it does not count; RapidCheck draws another).
[[noreturn]] void discard(const std::string& why);

/// The problem space of a property: these ops, the generators' limits;
/// long reductions only where allowed (they cost up to a second each).
inline problem_space space_of(const limits& lim, std::vector<op_kind> ops, bool long_reductions) {
  problem_space s;
  s.ops = std::move(ops);
  s.max_elements = lim.max_elements;
  s.max_reduction = long_reductions ? lim.max_reduction : 0;
  s.known_model_gaps = lim.known_model_gaps;
  s.excluded_data_types = lim.excluded_data_types;
  s.constant_channels = lim.constant_channels;
  if (!s.constant_channels) std::erase(s.regions, region::constant);
  std::erase_if(s.regions, [&](region r) { return excluded(lim.excluded_regions, r); });
  s.excluded_regions = lim.excluded_regions;
  return s;
}

/// make_case for the inputs (the saved statistics of backward are added),
/// logged. A case whose exact outputs overflow their formats is not a
/// meaningful problem and is discarded (RC_DISCARD): docs/properties.md.
/// With judge_variance_overflow, var and running_var beyond their format do
/// not discard: their infinity is the rounded answer (docs/tolerances.md
/// 3.1), which the direct comparison judges (float data near float's top
/// with f32 statistics); relations built on the variance keep discarding.
test_case build(const problem& p, const tensor_map& inputs, case_log& log, bool judge_variance_overflow = false);
inline test_case build(const generated_case& g, case_log& log, bool judge_variance_overflow = false) {
  return build(g.prob, g.inputs, log, judge_variance_overflow);
}

/// The kernel's outputs for c; nullopt when the kernel does not implement the
/// problem, or declares one of the `needed` outputs not produced (log.skipped
/// is set; the case counts as passed and is reported as skipped). Outputs
/// the kernel declares not produced are absent from the map (core/kernel.hpp).
/// A kernel error fails the property with the kernel's message. The outputs
/// hold output_fill before the call (run_kernel: NaN unless a property asks).
std::optional<tensor_map> run(kernel& k, const test_case& c, case_log& log,
                              std::initializer_list<const char*> needed = {},
                              double output_fill = std::numeric_limits<double>::quiet_NaN());

/// The outputs of p missing from got: exactly those the kernel declared not
/// produced, since run() has every other output (core/kernel.hpp).
std::vector<std::string> absent_outputs(const problem& p, const tensor_map& got);
/// The outputs of p that both runs gave (the pair properties compare those).
std::vector<std::string> outputs_of_both(const problem& p, const tensor_map& a, const tensor_map& b);

/// Bounds around the exact values: tolerance_bounds (which bound the distance
/// to the reference's float64 value r) plus 2^-52 |r| for the distance from r
/// to the exact value (the reference rounds once to nearest, so that distance
/// is at most 2^-53 |exact| <= 2^-52 |r|). One tensor per output_names(c.prob).
tensor_map exact_bounds(const test_case& c);

/// Collects exact comparisons and reports the worst violations.
class checker {
 public:
  /// invariant: one line saying what is checked, for the report.
  explicit checker(std::string invariant);

  /// |got - want| <= bound, decided exactly. NaN want needs NaN got; an
  /// infinite want needs the same infinity.
  void near(const std::string& where, const mpfr_float& got, const mpfr_float& want, const mpfr_float& bound);
  void near(const std::string& where, double got, const mpfr_float& want, const mpfr_float& bound) {
    near(where, exact(got), want, bound);
  }
  /// got == want bit for bit as values (NaN equals NaN; -0 equals +0).
  void equal(const std::string& where, double got, double want);

  bool ok() const { return failed_ == 0; }
  int64_t checked() const { return checked_; }

  /// RC_FAIL with report() when a comparison failed.
  void require(const test_case& c, const std::string& kernel_name) const;
  /// Header (invariant, problem, kernel), at most ten worst violations with
  /// got, want, error and bound as hex floats and err/bound, one statistics line.
  std::string report(const test_case& c, const std::string& kernel_name) const;

 private:
  struct entry {
    std::string where;
    double got, want, err, bound, ratio;
  };
  void record(entry e);

  std::string invariant_;
  int64_t checked_ = 0, failed_ = 0;
  double max_ratio_ = 0;
  std::vector<entry> worst_;
};

/// The pair check of two cases whose exact outputs are equal at the same
/// positions (precision_agreement, storage_agreement): every output both
/// runs gave agrees element for element, `got` within b_got + b_other of
/// `other`; where the exact value or either run is not finite, the two runs
/// are equal.
void agree_at_same_positions(checker& chk, const test_case& c_got, const tensor_map& got, const test_case& c_other,
                             const tensor_map& other);

}  // namespace bncheck::properties
