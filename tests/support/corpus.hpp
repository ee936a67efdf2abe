// The committed golden corpus for tests that judge a kernel on every case:
// read once per test process, by name. The test target defines
// BNCHECK_SOURCE_DIR; the same variable in the environment overrides it
// (the GPU bundle, ci/gpu-bundle, runs the tests on another machine).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "check/harness.hpp"
#include "golden/store.hpp"

namespace bncheck::testing {

/// The source tree (or the bundle that carries its files to another machine).
inline std::filesystem::path source_root() {
  const char* root = std::getenv("BNCHECK_SOURCE_DIR");
  return std::filesystem::path(root ? root : BNCHECK_SOURCE_DIR);
}

/// golden/cases of the source tree.
inline std::filesystem::path corpus_dir() { return source_root() / "golden" / "cases"; }

/// Every committed case, by name.
inline const std::map<std::string, test_case>& golden_corpus() {
  static const std::map<std::string, test_case> all = [] {
    std::map<std::string, test_case> out;
    for (const std::string& name : list_cases(corpus_dir())) out.emplace(name, read_case(corpus_dir() / name));
    return out;
  }();
  return all;
}

/// Their names, sorted (for INSTANTIATE_TEST_SUITE_P).
inline std::vector<std::string> golden_case_names() {
  std::vector<std::string> out;
  for (const auto& [name, c] : golden_corpus()) out.push_back(name);
  return out;
}

}  // namespace bncheck::testing
