// What `bncheck run` adds for third-party kernels and CI: --kernel given as a
// plugin path, isolation in child processes, --shard, and JUnit/JSON/HTML reports.
// run_command.cpp calls these at a few points; the logic lives here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "check/outcome.hpp"
#include "core/kernel.hpp"
#include "kernels/registry.hpp"
#include "report/shard.hpp"

namespace CLI {
class App;
}

namespace bncheck::properties {
struct property_result;
}

namespace bncheck::cli {

struct run_extras {
  std::string junit;           ///< JUnit XML file to write ("" none)
  std::string json;            ///< JSON file to write ("" none)
  std::string html;            ///< HTML report to write ("" none)
  std::optional<report::shard> shard;  ///< only the cases (and properties) of this shard; parsed as --shard is read
  bool isolate = false;        ///< --isolate: run each call in a child process
  bool no_isolate = false;     ///< --no-isolate: never (plugins are isolated by default)
  double timeout_seconds = 10; ///< per isolated call
};

/// Declares --junit, --json, --html, --shard, --isolate, --no-isolate and
/// --timeout on `run`. --shard is parsed as it is read (a bad one throws
/// input_error from app.parse).
void add_run_extras(CLI::App& run, run_extras& e);

/// Checks the options together (throws input_error: --isolate with
/// --no-isolate, a timeout <= 0, a report folder that does not exist)
/// before anything runs.
void check_run_extras(const run_extras& e);
/// Throws input_error when the folder of report file `file` (given as
/// `option`) does not exist; nothing for "".
void check_report_path(const std::string& option, const std::string& file);

/// How --isolate, --no-isolate and --timeout open the kernel
/// (kernels/registry.hpp: open_kernel); e was checked (check_run_extras).
open_options kernel_options(const run_extras& e);

/// The items of a case list in --shard, in order (all of them without --shard).
template <class T>
std::vector<T> shard_list(const run_extras& e, std::vector<T> list) {
  if (!e.shard) return list;
  return report::select_shard(*e.shard, std::move(list));
}
/// Narrows the property selection to the shard: selected (every property of
/// the catalog when empty) cut to the shard. Returns false when the shard
/// holds no property, so none should run. Without --shard: true, unchanged.
bool shard_properties(const run_extras& e, std::vector<std::string>& selected);

/// Writes the --junit, --json and --html reports of a run (nothing without
/// them): suite "golden" (or "problems" when problems_given) with the case
/// outcomes, suite "properties" with one outcome per property.
/// Throws input_error when a file cannot be written.
void write_run_reports(const run_extras& e, const std::string& kernel_name, const std::vector<outcome>& outcomes,
                       bool problems_given, const std::vector<properties::property_result>& properties,
                       uint64_t seed);

}  // namespace bncheck::cli

