// The subcommands of the bncheck command; each returns the process exit
// status: 0 success, 1 check failures, 2 usage or bad input.
#pragma once

#include <string>
#include <vector>

namespace bncheck::cli {

struct run_options {
  std::string kernel = "eigen";
  std::string golden = "golden/cases";
  std::vector<std::string> cases;     ///< only these golden cases (all when empty)
  std::vector<std::string> problems;  ///< generated problems instead of the corpus
  bool quiet = false;                 ///< only failures and the summary
};
int run(const run_options& o);

int golden_regen(const std::string& dir);
int golden_verify(const std::string& dir);

struct reference_options {
  std::string in, out;
  std::string layout = "nchw";
  std::string dtype;  ///< declares x's format when its storage cannot (bf16 is stored as f32)
  double eps = 1e-5;
  double momentum = 0.1;
  std::string profile = "pytorch";
};
int reference(const reference_options& o);

/// bncheck identify: prints the conventions the kernel named follows
/// (adapters/identify.hpp); mutants and controls are accepted too.
int identify(const std::string& kernel_name);

}  // namespace bncheck::cli
