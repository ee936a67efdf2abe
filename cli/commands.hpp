// The subcommands of the bncheck command; each returns the process exit
// status: 0 success, 1 check failures, 2 usage or bad input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/installed.hpp"
#include "core/kernel.hpp"
#include "kernels/registry.hpp"
#include "properties/runner.hpp"

#include "cli/run_extras.hpp"

namespace bncheck::cli {

/// --golden's default: the installed corpus (PREFIX/share/bncheck/golden)
/// when this bncheck is an installed one, else a checkout's golden/cases.
inline std::string default_golden() { return installed_path("share/bncheck/golden").value_or("golden/cases"); }

struct run_options {
  std::string kernel = "eigen";
  std::string golden = default_golden();
  std::vector<std::string> cases;     ///< only these golden cases (all when empty)
  std::vector<std::string> problems;  ///< generated problems instead of the corpus
  bool quiet = false;                 ///< only failures and the summary
  run_extras extras;                  ///< plugin paths, isolation, --shard, --junit/--json
  // Properties (properties/runner.hpp); they run with the whole corpus, not
  // with --case or --problem.
  int property_cases = -1;            ///< cases per property; -1: default (nightly: 10^4)
  std::string seed;                   ///< run seed: empty (the fixed default), a number, or "random"
  bool nightly = false;               ///< 10^4 cases per property and reductions up to 2^20
  bool no_properties = false;         ///< the corpus only
  std::vector<std::string> properties;  ///< only these properties, and not the corpus
  std::string reproduce;              ///< a RapidCheck reproduce string: replay its shrunk case(s)
  std::string save_regressions;       ///< write each failure's shrunk case here as a golden case
  bool known_model_gaps = false;      ///< also generate where the tolerance model is known incomplete
  std::string deviations;             ///< the kernel's known-deviations file (check/deviations.hpp), or empty
};
int run(const run_options& o);

struct mutants_options {
  std::string golden = default_golden();
  uint64_t seed = properties::default_seed;
  int cases = properties::default_cases;  ///< cases per property
};
/// Runs every mutant (must be killed) and every control (must pass) through
/// the corpus and the properties; 0 when all mutants die and all controls pass.
int mutants_run(const mutants_options& o);

int golden_regen(const std::string& dir);
int golden_verify(const std::string& dir);

struct reference_options {
  std::string in, out;
  /// forward_training, forward_inference or backward; empty: forward training,
  /// and backward's outputs too when the input folder holds dy.npy.
  std::string op;
  std::string layout = "nchw";
  std::string dtype;  ///< declares x's format when its storage cannot (bf16 is stored as f32)
  double eps = 1e-5;
  double momentum = 0.1;
  std::string profile = "pytorch";
};
int reference(const reference_options& o);

/// bncheck identify: prints the conventions the kernel named follows
/// (identify/identify.hpp); mutants and controls are accepted too.
int identify(const std::string& kernel_name);

}  // namespace bncheck::cli
