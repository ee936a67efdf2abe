// The plain kernel: one readable batch-norm kernel for every op, layout,
// data format and profile, whose algorithm and bugs are chosen by a faults
// value. Speed does not matter: it reads element by element through
// core/dtype.hpp.
#pragma once

#include <memory>
#include <string>

#include "core/kernel.hpp"
#include "mutants/faults.hpp"

namespace bncheck::mutants {

/// A kernel named name that computes batch normalization as f says (a
/// default faults value is correct). Arithmetic is in float or double per
/// f.arith; results are rounded once to their storage format. Never throws:
/// an invalid problem or a missing buffer is a kernel_status::error.
std::unique_ptr<kernel> make_plain_kernel(std::string name, const faults& f);

}  // namespace bncheck::mutants
