// Plugin kernels, isolation, shards and reports for `bncheck run`.
#include "cli/run_extras.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>

#include "core/error.hpp"
#include "properties/property.hpp"
#include "properties/runner.hpp"
#include "report/report.hpp"

namespace bncheck::cli {

void check_report_path(const std::string& option, const std::string& file) {
  if (file.empty()) return;
  const std::filesystem::path parent = std::filesystem::absolute(file).parent_path();
  if (!std::filesystem::is_directory(parent))
    throw input_error(option + " '" + file + "': folder '" + parent.string() + "' does not exist");
}

void add_run_extras(CLI::App& run, run_extras& e) {
  run.add_option("--junit", e.junit, "also write the results as JUnit XML to this file (one testcase per case and property)");
  run.add_option("--json", e.json, "also write the full results as JSON to this file");
  run.add_option("--html", e.html,
                 "also write an HTML report to this file: the tables, and for every failure and property the "
                 "err/bound histograms, worst elements, per-channel error and repro commands (self-contained)");
  run.add_option_function<std::string>(
      "--shard", [&e](const std::string& text) { e.shard = report::parse_shard(text); },
      "run only shard i of n (1 <= i <= n), e.g. 2/4: the cases at positions k with k mod n = i-1 "
      "of the sorted case list, and the properties likewise");
  run.add_flag("--isolate", e.isolate,
               "run each kernel call in a child process (crash, hang, out-of-bounds write -> that case fails); "
               "default for a plugin .so");
  run.add_flag("--no-isolate", e.no_isolate, "call the kernel in this process, even a plugin (to debug it)");
  run.add_option("--timeout", e.timeout_seconds, "seconds an isolated call may take before it is killed")
      ->capture_default_str();
}

void check_run_extras(const run_extras& e) {
  if (e.isolate && e.no_isolate) throw input_error("give --isolate or --no-isolate, not both");
  if (!(e.timeout_seconds > 0)) throw input_error("--timeout must be a positive number of seconds");
  check_report_path("--junit", e.junit);
  check_report_path("--json", e.json);
  check_report_path("--html", e.html);
}

open_options kernel_options(const run_extras& e) {
  open_options o;
  if (e.isolate) o.isolate = open_options::isolation::always;
  if (e.no_isolate) o.isolate = open_options::isolation::never;
  o.timeout_seconds = e.timeout_seconds;
  return o;
}

bool shard_properties(const run_extras& e, std::vector<std::string>& selected) {
  if (!e.shard) return true;
  std::vector<std::string> all = selected;
  if (all.empty())
    for (const properties::property_info& p : properties::property_catalog()) all.push_back(p.name);
  selected = shard_list(e, std::move(all));
  return !selected.empty();
}

void write_run_reports(const run_extras& e, const std::string& kernel_name, const std::vector<outcome>& outcomes,
                       bool problems_given, const std::vector<properties::property_result>& properties,
                       uint64_t seed) {
  if (e.junit.empty() && e.json.empty() && e.html.empty()) return;
  report::run_info run;
  run.kernel = kernel_name;
  if (e.shard) run.shard = report::to_string(*e.shard);
  run.isolated = isolated(kernel_name, kernel_options(e));
  run.timeout_seconds = e.timeout_seconds;
  std::vector<report::suite> suites;
  if (!outcomes.empty()) suites.push_back({problems_given ? "problems" : "golden", outcomes});
  if (!properties.empty()) {
    run.seed = std::to_string(seed);
    suites.push_back({"properties", std::vector<outcome>(properties.begin(), properties.end())});
  }
  if (!e.junit.empty()) report::write_report(e.junit, report::junit_xml(run, suites));
  if (!e.json.empty()) report::write_report(e.json, report::json_report(run, suites));
  if (!e.html.empty()) report::write_report(e.html, report::html_report(run, suites));
}

}  // namespace bncheck::cli
