// The golden corpus and the generated grid, each built once.
#include "tests/mutants/test_cases.hpp"

#include <filesystem>

#include "golden/store.hpp"
#include "tests/support/problem_sweep.hpp"

namespace bncheck::mutants {
namespace {

using sizes = testing::sweep_sizes;

// Per spatial rank: a batch of one (M = 1 for nc) and odd sizes.
std::vector<sizes> sizes_for(layout lay) {
  switch (spatial_rank(lay)) {
    case 0: return {{1, 5, 1, 1, 1}, {13, 3, 1, 1, 1}};
    case 2: return {{1, 2, 1, 1, 1}, {3, 3, 1, 5, 3}};
    default: return {{2, 3, 3, 2, 3}, {1, 2, 2, 1, 3}};
  }
}

std::vector<problem> grid_problems() {
  uint64_t seed = 500;
  std::vector<problem> out = testing::problem_sweep(seed, sizes_for);
  // Offsets (x ~ 10^4 with unit spread), constant channels, f32 data with f64 parameters.
  for (op_kind op : {op_kind::forward_training, op_kind::backward})
    for (dtype dt : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
      for (fill_spec x : {fill_spec{fill_kind::normal, 10000, 1}, fill_spec{fill_kind::constant, 0.1, 0}}) {
        problem p;
        p.op = op;
        p.lay = layout::nhwc;
        p.data_type = dt;
        p.param_type = dt == dtype::f32 ? dtype::f64 : dtype::f32;
        p.n = 3, p.c = 2, p.h = 7, p.w = 5;
        p.x = x;
        p.seed = seed++;
        out.push_back(p);
      }
  return out;
}

}  // namespace

const std::vector<test_case>& golden_corpus() {
  static const std::vector<test_case> cases = [] {
    const std::filesystem::path dir = std::filesystem::path(BNCHECK_SOURCE_DIR) / "golden/cases";
    std::vector<test_case> out;
    for (const std::string& name : list_cases(dir)) out.push_back(read_case(dir / name));
    return out;
  }();
  return cases;
}

const std::vector<test_case>& generated_grid() {
  static const std::vector<test_case> cases = [] {
    std::vector<test_case> out;
    for (const problem& p : grid_problems()) out.push_back(make_case(p));
    return out;
  }();
  return cases;
}

}  // namespace bncheck::mutants
