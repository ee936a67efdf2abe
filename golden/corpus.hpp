// The definition of the golden corpus: every case by name, its description
// and problem, and the literal inputs of cases whose data is not generatable.
#pragma once

#include <string>
#include <vector>

#include "check/harness.hpp"
#include "core/problem.hpp"
#include "core/tensor.hpp"
#include "reference/reference.hpp"

namespace bncheck {

/// One case of the corpus. literal_inputs holds exactly the inputs whose fill
/// in prob is fill_kind::file (values in their own format); every other input
/// is generated from prob's fills and seed.
struct case_spec {
  std::string name;         ///< snake_case, unique; the case's folder name
  std::string description;  ///< one line: what the case is for
  problem prob;
  tensor_map literal_inputs;
};

/// Every case of the committed corpus, in a fixed order, names unique.
std::vector<case_spec> corpus_specs();

/// The fill-based inputs of p (those generate_inputs gives): generated where
/// the fill is generatable, taken from literal where the fill is 'file'.
/// Throws input_error if a 'file' input is missing from literal or has the
/// wrong shape or format.
tensor_map fill_inputs(const problem& p, const tensor_map& literal);

/// The case a spec describes: make_case(prob) when nothing is literal, else
/// make_case(prob, fill_inputs(prob, literal_inputs)); named spec.name.
test_case build_case(const case_spec& spec, reference::rounding_stats* stats = nullptr);

/// x (or dy) of problem from, rearranged into the layout of problem to (same
/// sizes, another layout): the same logical values, permuted.
tensor relayout(const problem& from, const tensor& data, const problem& to);

}  // namespace bncheck
