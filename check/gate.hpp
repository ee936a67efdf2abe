// Judging cases on a kernel and the per-case table of a gate run.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "core/kernel.hpp"

namespace bncheck {

/// known: a failure recorded in the kernel's known deviations (check/deviations.hpp).
enum class verdict { pass, fail, skip, known };

/// The outcome of one case on one kernel.
struct case_outcome {
  std::string name;           ///< case name, or the problem text for a generated case
  std::string problem_text;
  verdict v = verdict::pass;
  double max_normalized = 0;  ///< worst |got - expected| / bound
  std::string worst_tensor;   ///< where the worst element is
  std::string report;         ///< failure_report() for a failure, the kernel's message for a skip
  double seconds = 0;         ///< kernel call and comparison
  std::string not_produced;   ///< outputs the kernel declared not produced (not checked), comma-separated
};

/// Runs c on k and judges it: unimplemented is a skip; a kernel error, a
/// missing output or any element over its bound is a failure.
case_outcome judge(kernel& k, const test_case& c);

struct gate_totals {
  int pass = 0, fail = 0, skip = 0, known = 0;
};

/// Prints one table row per outcome (only failures when failures_only) and
/// a summary line over all of them, then which outputs the kernel declared
/// not produced (and so were not checked), if any; returns the totals.
gate_totals print_table(const std::vector<case_outcome>& outcomes, const std::string& kernel_name,
                        std::ostream& out, bool failures_only = false);

}  // namespace bncheck
