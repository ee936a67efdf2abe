// bncheck run: judge a kernel on the golden corpus (or on generated problems)
// and on the properties; print the per-case table, the property table (with
// progress on a terminal), the failure reports, and exit 0/1/2.
#include <iostream>
#include <optional>
#include <random>

#include "check/deviations.hpp"
#include "check/gate.hpp"
#include "check/harness.hpp"
#include "cli/commands.hpp"
#include "cli/run_extras.hpp"
#include "core/error.hpp"
#include "golden/store.hpp"
#include "properties/gen.hpp"
#include "properties/regression.hpp"
#include "properties/runner.hpp"
#include "report/progress.hpp"
#include "report/terminal.hpp"

namespace bncheck::cli {
namespace {

uint64_t run_seed(const std::string& text) {
  if (text.empty()) return properties::default_seed;
  if (text == "random") {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  std::size_t used = 0;
  uint64_t v = 0;
  try {
    v = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text[0] == '-')
    throw input_error("--seed must be a non-negative integer or 'random', got '" + text + "'");
  return v;
}

}  // namespace

int run(const run_options& o) {
  check_run_extras(o.extras);
  std::unique_ptr<kernel> k = open_kernel(o.kernel, kernel_options(o.extras));  // a name or a plugin .so
  const bool targeted = !o.problems.empty() || !o.cases.empty();
  const bool property_only = !o.properties.empty() || !o.reproduce.empty();
  if (targeted && property_only)
    throw input_error("--property and --reproduce run properties; give them without --case or --problem");
  if (o.no_properties && property_only) throw input_error("--no-properties contradicts --property and --reproduce");
  if (o.property_cases == 0 || o.property_cases < -1) throw input_error("--cases must be at least 1");
  const bool run_corpus = !property_only;
  std::vector<std::string> selected = o.properties;
  const bool run_props = !targeted && !o.no_properties && shard_properties(o.extras, selected);

  properties::property_config pc;
  pc.seed = run_seed(o.seed);
  pc.cases = o.property_cases > 0 ? o.property_cases : o.nightly ? properties::nightly_cases : properties::default_cases;
  if (o.nightly) pc.lim.max_reduction = properties::nightly_reduction;
  pc.lim.known_model_gaps = o.known_model_gaps;
  pc.properties = selected;
  pc.reproduce = o.reproduce;
  std::optional<deviations> known;
  if (!o.deviations.empty()) {
    known = read_deviations(o.deviations);
    pc.lim.constant_channels = known->constant_channels;
    if (!known->long_reductions) pc.lim.max_reduction = 0;
    pc.lim.excluded_data_types = known->excluded_data_types;
    for (const excluded_region& e : known->excluded) {
      const std::string prefix = "region ";
      if (e.what.rfind(prefix, 0) != 0) continue;
      const std::string name = e.what.substr(prefix.size());
      if (!properties::parse_region(name)) {
        std::string names;
        for (properties::region r : properties::all_regions()) names += std::string(names.empty() ? "" : ", ") + std::string(properties::to_string(r));
        throw input_error(known->path + ":" + std::to_string(e.line) + ": unknown region '" + name + "' (one of " + names + ")");
      }
    }
    pc.lim.excluded_regions = known->excluded_regions;
  }

  // Load everything first: a bad input stops the run before any verdict.
  std::vector<test_case> cases;
  if (!o.problems.empty()) {
    if (!o.cases.empty()) throw input_error("give either --problem or --case, not both");
    for (const auto& text : o.problems) cases.push_back(make_case(parse_problem(text)));
  } else if (run_corpus) {
    std::vector<std::string> names = o.cases.empty() ? list_cases(o.golden) : o.cases;
    if (names.empty() && !run_props) throw input_error("no golden cases in '" + o.golden + "'");
    if (known && o.cases.empty()) {
      const std::vector<std::string> unknown = unknown_cases(*known, names);
      if (!unknown.empty()) throw input_error(unknown.front());
    }
    for (const auto& name : names) cases.push_back(read_case(std::filesystem::path(o.golden) / name));
  }
  cases = shard_list(o.extras, std::move(cases));
  if (run_props)
    std::cout << "bncheck run: kernel " << k->name() << ", seed " << pc.seed << ", " << pc.cases
              << " cases per property\n";
  if (known) std::cout << describe_exclusions(*known);

  report::gate_totals t;
  std::vector<outcome> outcomes;
  if (run_corpus) {
    if (cases.empty()) {
      std::cout << "no golden cases in '" << o.golden << "'\n";
    } else {
      for (const auto& c : cases) outcomes.push_back(judge(*k, c));
      if (known) apply_deviations(*known, outcomes);
      t = report::print_table(outcomes, k->name(), std::cout, o.quiet);
    }
  }

  std::vector<properties::property_result> results;
  int property_failures = 0;
  if (run_props) {
    std::cout << "\n";
    report::print_property_header(std::cout);
    report::progress_line progress(std::cout, report::progress_wanted(o.quiet));
    pc.on_case = [&](const std::string& name, int done, int total) { progress.update(name, done, total); };
    pc.on_result = [&](const properties::property_result& r) {
      progress.clear();
      if (!o.quiet || !r.passed()) report::print_property_row(r, std::cout);
      std::cout.flush();
    };
    results = properties::run_properties(*k, pc);
    progress.clear();
    property_failures =
        report::print_property_summary(std::vector<outcome>(results.begin(), results.end()), k->name(), pc.seed,
                                       std::cout);
  }

  report::print_failures(outcomes, std::cout);
  for (const auto& r : results) {
    if (r.passed()) continue;
    std::cout << "\n" << r.report;
    if (!o.save_regressions.empty() && r.shrunk) {
      const std::string name = properties::save_regression(r, k->name(), pc.seed, o.save_regressions);
      std::cout << "  saved the shrunk case as " << (std::filesystem::path(o.save_regressions) / name).string()
                << "\n"
                << properties::regression_repro(k->name(), o.save_regressions, name) << "\n";
    }
  }
  write_run_reports(o.extras, o.kernel, outcomes, !o.problems.empty(), results, pc.seed);
  if (t.fail || property_failures) return 1;
  bool property_passed = false;
  for (const auto& r : results) property_passed = property_passed || r.v == verdict::pass;
  if (t.pass == 0 && t.known == 0 && !property_passed) {  // known: judged, failed as recorded
    std::cout << "nothing was checked: every case was skipped by kernel " << k->name() << "\n";
    for (const auto& oc : outcomes)  // the kernel's reason, e.g. "no CUDA device: ..."
      if (oc.v == verdict::skip && !oc.report.empty()) {
        std::cout << "first reason: " << oc.report << "\n";
        break;
      }
    return 1;
  }
  return 0;
}

}  // namespace bncheck::cli
