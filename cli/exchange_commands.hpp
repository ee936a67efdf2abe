// bncheck export / bncheck judge: checking a kernel that is not a C library
// (a Python script, a framework, a remote device) through files. export
// writes each case's inputs as .npy into a folder per case; the kernel writes
// its outputs beside them; judge gives the verdict, table, reports and
// REPRO lines that bncheck run gives. The folder format is in docs/plugins.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"

namespace CLI {
class App;
}

namespace bncheck::cli {

struct export_options {
  std::string golden = default_golden();
  std::string out;                 ///< created whole or not at all; must not exist or be empty
  std::vector<std::string> cases;  ///< only these (all when empty)
};
/// Writes OUT/<case>/ (problem.txt, outputs.txt, the inputs) for every case,
/// and OUT/.bncheck/ (what judge needs: the cases with their expected outputs).
int export_cases(const export_options& o);

struct judge_options {
  std::string in;
  std::vector<std::string> cases;  ///< only these (all exported ones when empty)
  bool quiet = false;
  std::string junit, json, html;   ///< report files, as bncheck run writes them
  std::string deviations;          ///< the kernel's known deviations (docs/deviations.md), or empty
};
/// What an export folder's .bncheck/export.json says (docs/plugins.md).
struct export_manifest {
  std::string golden = "golden/cases";  ///< the corpus it was exported from, for REPRO lines
  std::vector<std::string> cases;       ///< the exported cases, each a folder of the export
};
/// Parses the bytes of export.json. Throws input_error naming source unless
/// it is a version 1 export whose cases are plain folder names.
export_manifest parse_export_manifest(std::string_view bytes, const std::string& source);

/// Judges the outputs the kernel wrote into an export folder: 0 all pass,
/// 1 a failure (a missing, malformed or wrong output, a changed input), 2 bad input.
int judge_exported(const judge_options& o);

/// Both subcommands, declared on app.
struct exchange_commands {
  CLI::App* export_command = nullptr;
  CLI::App* judge_command = nullptr;
  export_options export_opts;
  judge_options judge_opts;
};
void add_exchange_commands(CLI::App& app, exchange_commands& x);
/// Runs the one that was parsed and returns its exit status; nullopt when neither was.
std::optional<int> run_exchange_commands(const exchange_commands& x);

}  // namespace bncheck::cli
