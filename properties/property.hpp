// The shape of a kernel property: a body that draws one case with RapidCheck
// (operator* on generators), runs the kernel through core/kernel.hpp, and
// fails with RC_FAIL and a report when the invariant does not hold within its
// bound. Every body runs against any kernel; docs/properties.md derives the bounds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "check/harness.hpp"
#include "core/kernel.hpp"

namespace bncheck::properties {

/// Size limits for the generators.
struct limits {
  int64_t max_elements = 512;           ///< n*c*d*h*w of ordinary cases at the largest size
  int64_t max_reduction = int64_t{1} << 18;  ///< longest rare long reduction; below 2^18: none
  bool known_model_gaps = false;  ///< generate where the model is known incomplete (problem_space)
  /// Narrowed by a kernel's known deviations (check/deviations.hpp): data
  /// types never generated, and whether x may have constant channels.
  std::vector<dtype> excluded_data_types;
  bool constant_channels = true;
  /// Generator regions never drawn (names as properties/gen.hpp's to_string).
  std::vector<std::string> excluded_regions;
};

/// What one run of a property body leaves for the runner: every case it
/// built, in order (a failure's regression case is chosen among them), and
/// whether the kernel reported the problem unimplemented.
struct case_log {
  std::vector<test_case> cases;
  bool skipped = false;
};

/// A property body: checks one generated case, RC_FAIL on a violation.
using property_body = void (*)(kernel& k, case_log& log, const limits& lim);

struct property_info {
  std::string name;         ///< snake_case, as --property takes it
  std::string description;  ///< the invariant in one line
  property_body body = nullptr;
  /// Demands more than the tolerance model: exact_statistics asks for exact
  /// results that an updating (Welford) algorithm, correct under the model, misses.
  bool strict = false;
};

/// Every kernel property, in table order.
const std::vector<property_info>& property_catalog();
/// The property of that name, or null.
const property_info* find_property(const std::string& name);

// The bodies, one per file of the same name.
void agreement(kernel& k, case_log& log, const limits& lim);
void gradient_agreement(kernel& k, case_log& log, const limits& lim);
void normalization(kernel& k, case_log& log, const limits& lim);
void identity_recovery(kernel& k, case_log& log, const limits& lim);
void backward_linearity(kernel& k, case_log& log, const limits& lim);
void batch_permutation(kernel& k, case_log& log, const limits& lim);
void shift_invariance(kernel& k, case_log& log, const limits& lim);
void scale_invariance(kernel& k, case_log& log, const limits& lim);
void layout_agreement(kernel& k, case_log& log, const limits& lim);
void storage_agreement(kernel& k, case_log& log, const limits& lim);
void precision_agreement(kernel& k, case_log& log, const limits& lim);
void running_statistics(kernel& k, case_log& log, const limits& lim);
void inference_consistency(kernel& k, case_log& log, const limits& lim);
void shard_merge(kernel& k, case_log& log, const limits& lim);
void independence(kernel& k, case_log& log, const limits& lim);
void merge_agreement(kernel& k, case_log& log, const limits& lim);
void exact_statistics(kernel& k, case_log& log, const limits& lim);

}  // namespace bncheck::properties
