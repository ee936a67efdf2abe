// Judging one case on a kernel: the outcome every report renders (report/).
#pragma once

#include "check/compare.hpp"
#include "check/outcome.hpp"
#include "core/kernel.hpp"

namespace bncheck {

/// Runs c on k and judges it: unimplemented is a skip; a kernel error, a
/// missing output or any element over its bound is a failure. The outcome
/// holds the comparison (when the kernel gave outputs), the failure report
/// and the repro command.
outcome judge(kernel& k, const test_case& c);

}  // namespace bncheck
