// Building a case (inputs + reference outputs) from a problem, and calling a
// kernel through the kernel interface on native buffers.
#pragma once

#include <limits>

#include <string>

#include "core/kernel.hpp"
#include "core/problem.hpp"
#include "core/tensor.hpp"
#include "reference/reference.hpp"

namespace bncheck {

/// One checkable case: the problem, its inputs (in their own formats) and the
/// reference outputs (f64, correctly rounded).
struct test_case {
  std::string name;      ///< golden case name, or empty for a generated problem
  problem prob;
  tensor_map inputs;
  tensor_map expected;
  std::string corpus;    ///< the folder a golden case was read from (its REPRO's --golden), or empty
};

/// Completes the inputs of p: for backward, adds the saved statistics mean,
/// var, invstd (the reference's batch statistics rounded to p.param_type).
/// inputs must hold the fill-based tensors (generate_inputs or a file).
tensor_map complete_inputs(const problem& p, tensor_map inputs,
                           reference::rounding_stats* stats = nullptr);

/// generate_inputs + complete_inputs + reference::compute, keeping the
/// expected outputs output_names(p) names.
test_case make_case(const problem& p, reference::rounding_stats* stats = nullptr);
/// Throws input_error, naming the bytes needed and the memory there is, when
/// p's data tensors cannot fit in this machine's memory (make_case calls it
/// before allocating anything).
void check_fits_in_memory(const problem& p);
/// Same, for inputs given explicitly (a case whose fills are 'file').
test_case make_case(const problem& p, tensor_map inputs, reference::rounding_stats* stats = nullptr);

/// What a kernel returned: its status and, when ok, every output of the op
/// (output_names(p)) decoded exactly to doubles, except those the kernel
/// declared not produced (result.not_produced: checked to be optional
/// outputs, else the result is an error).
struct kernel_output {
  kernel_result result;
  tensor_map got;
};

/// Encodes the inputs to native buffers, fills outputs with NaN, calls the
/// kernel, decodes the outputs. Running statistics are copied so the kernel
/// updates its own copy. output_fill, rounded to each output's format,
/// replaces NaN as what the outputs hold before the call (a property checks
/// that no output depends on it).
kernel_output run_kernel(kernel& k, const problem& p, const tensor_map& inputs,
                         double output_fill = std::numeric_limits<double>::quiet_NaN());

}  // namespace bncheck
