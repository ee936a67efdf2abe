// Cases shared by the mutant and control tests, built once per process: the
// committed golden corpus and a grid of generated problems over every op,
// layout, data format and profile.
#pragma once

#include <string>
#include <vector>

#include "check/harness.hpp"

namespace bncheck::mutants {

/// Every committed case of golden/cases, read and checked (golden/store.hpp).
const std::vector<test_case>& golden_corpus();

/// The generated grid: every op x layout x data format x profile (inference
/// once), each at two sizes (nc with a batch of one, odd sizes, 3-D with
/// depth), parameters in f32 and, for f64 data with onnx, f64; plus large
/// offsets and constant channels.
const std::vector<test_case>& generated_grid();

}  // namespace bncheck::mutants
