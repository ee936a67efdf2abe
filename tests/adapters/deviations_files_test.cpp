// The committed known-deviations files (adapters/*/deviations,
// docs/deviations.md), checked without the libraries or a device: each file
// reads, each `case` line names a golden case and an output that case has,
// and every command a comment quotes as evidence names this kernel, a golden
// case, a property of the catalog and a problem that parses. A typo would
// otherwise waive nothing, or point a reader at a repro that does not run.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "check/deviations.hpp"
#include "core/problem.hpp"
#include "core/tensor.hpp"
#include "properties/property.hpp"
#include "tests/support/corpus.hpp"

namespace bncheck {
namespace {

using testing::golden_case_names;
using testing::golden_corpus;

std::string file_of(const std::string& adapter) {
  return (testing::source_root() / "adapters" / adapter / "deviations").string();
}

class deviations_file : public ::testing::TestWithParam<std::string> {};

TEST_P(deviations_file, names_real_cases_outputs_and_properties) {
  const std::string& adapter = GetParam();
  const deviations d = read_deviations(file_of(adapter));
  EXPECT_FALSE(d.cases.empty() && d.excluded.empty()) << d.path << " records nothing";
  EXPECT_EQ(unknown_cases(d, golden_case_names()), std::vector<std::string>{});
  for (const case_deviation& c : d.cases) {
    const auto it = golden_corpus().find(c.case_name);
    if (it == golden_corpus().end()) continue;  // reported by unknown_cases above
    const std::vector<std::string> outputs = output_names(it->second.prob);
    EXPECT_TRUE(std::count(outputs.begin(), outputs.end(), c.tensor))
        << d.path << ":" << c.line << ": case " << c.case_name << " has no output " << c.tensor;
  }

  // The commands quoted in comments (REPRO lines, reproduce strings).
  const std::regex kernel_arg(R"(--kernel (\S+))"), property_arg(R"(--property (\S+))"),
      case_arg(R"(--case (\S+))"), problem_arg(R"(--problem '([^']+)')");
  std::ifstream in(d.path);
  std::string line;
  int number = 0, commands = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind('#', 0) != 0 || line.find("bncheck run") == std::string::npos) continue;
    ++commands;
    const std::string where = d.path + ":" + std::to_string(number);
    std::smatch m;
    if (std::regex_search(line, m, kernel_arg)) {
      EXPECT_EQ(m[1].str(), adapter) << where;
    }
    if (std::regex_search(line, m, property_arg)) {
      EXPECT_NE(properties::find_property(m[1].str()), nullptr) << where << ": no property " << m[1];
    }
    if (std::regex_search(line, m, case_arg)) {
      EXPECT_TRUE(golden_corpus().count(m[1].str())) << where << ": no golden case " << m[1];
    }
    if (std::regex_search(line, m, problem_arg)) {
      EXPECT_NO_THROW(parse_problem(m[1].str())) << where;
    }
  }
  EXPECT_GE(commands, 1) << d.path << " quotes no command that reproduces a finding";
}

INSTANTIATE_TEST_SUITE_P(adapters, deviations_file, ::testing::Values("onednn", "libtorch", "cudnn"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bncheck
