// Plugin kernels, isolation, shards and reports for `bncheck run`.
#include "cli/run_extras.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>

#include "abi/loader.hpp"
#include "core/error.hpp"
#include "isolate/isolate.hpp"
#include "properties/property.hpp"
#include "properties/runner.hpp"
#include "report/report.hpp"

namespace bncheck::cli {
namespace {

// An isolated kernel that owns the kernel it isolates.
class owning_isolated_kernel final : public kernel {
 public:
  owning_isolated_kernel(std::unique_ptr<kernel> inner, isolation_options o)
      : inner_(std::move(inner)), isolated_(*inner_, o) {}
  std::string name() const override { return isolated_.name(); }
  kernel_result run(const problem& p, const kernel_io& io) override { return isolated_.run(p, io); }

 private:
  std::unique_ptr<kernel> inner_;
  isolated_kernel isolated_;
};

}  // namespace

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

bool isolated(const std::string& name, const run_extras& e) {
  if (e.no_isolate) return false;
  return e.isolate || abi::is_plugin_path(name);
}

std::unique_ptr<kernel> open_kernel(const std::string& name, const run_extras& e,
                                    const std::function<std::unique_ptr<kernel>(const std::string&)>& builtin) {
  std::unique_ptr<kernel> k = abi::is_plugin_path(name) ? abi::load_plugin(name) : builtin(name);
  if (!isolated(name, e)) return k;
  isolation_options o;
  o.timeout_seconds = e.timeout_seconds;
  return std::make_unique<owning_isolated_kernel>(std::move(k), o);
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
  run.isolated = isolated(kernel_name, e);
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
