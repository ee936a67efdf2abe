// bncheck mutants: detection power, measured. Every deliberately broken
// kernel of the catalog must be killed by the gate (golden corpus, then the
// properties), and every correct control must pass all of it.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "check/gate.hpp"
#include "cli/commands.hpp"
#include "golden/store.hpp"
#include "mutants/catalog.hpp"
#include "properties/runner.hpp"

namespace bncheck::cli {
namespace {

struct verdict_row {
  std::string name;
  std::string killer_case;      ///< first golden case that fails, or empty
  std::string killer_property;  ///< first property that fails, or empty
  int64_t shrunk_elements = 0;  ///< the property's shrunk counterexample (elements of x)
  double seconds = 0;
  bool killed() const { return !killer_case.empty() || !killer_property.empty(); }
};

// The corpus, then the properties (stopping at the first failure), on k.
verdict_row assess(kernel& k, const std::vector<test_case>& corpus, properties::property_config pc,
                   bool stop_early) {
  const auto start = std::chrono::steady_clock::now();
  verdict_row row;
  row.name = k.name();
  for (const test_case& c : corpus)
    if (judge(k, c).v == verdict::fail) {
      row.killer_case = c.name;
      break;
    }
  pc.stop_at_first_failure = stop_early;
  for (const auto& r : properties::run_properties(k, pc))
    if (!r.passed()) {
      row.killer_property = r.name;
      row.shrunk_elements = r.elements;
      break;
    }
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return row;
}

}  // namespace

int mutants_run(const mutants_options& o) {
  std::vector<test_case> corpus;
  for (const auto& name : list_cases(o.golden)) corpus.push_back(read_case(std::filesystem::path(o.golden) / name));
  properties::property_config pc;
  pc.seed = o.seed;
  pc.cases = o.cases;
  // Detection is measured against the gate's model-based verdict; the strict
  // exact_statistics property (zero error on exactly representable data) is
  // not a correctness criterion: Welford's update rounds even there.
  pc.include_strict = false;
  std::cout << "bncheck mutants: " << corpus.size() << " golden cases, properties at " << pc.cases
            << " cases each, seed " << pc.seed << "\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-28s %-40s %-24s %14s %8s\n", "mutant", "killed by golden case",
                "killed by property", "shrunk (elem)", "seconds");
  std::cout << line;
  int killed = 0, total = 0;
  for (const auto& e : mutants::mutant_catalog()) {
    auto k = mutants::make_mutant(e.name);
    const verdict_row row = assess(*k, corpus, pc, true);
    ++total;
    killed += row.killed();
    std::snprintf(line, sizeof line, "%-28s %-40s %-24s %14s %8.2f\n", row.name.c_str(),
                  row.killer_case.empty() ? "-" : row.killer_case.c_str(),
                  row.killer_property.empty() ? "-" : row.killer_property.c_str(),
                  row.killer_property.empty() ? "-" : std::to_string(row.shrunk_elements).c_str(), row.seconds);
    std::cout << line << std::flush;
    if (!row.killed()) std::cout << "  SURVIVED: " << e.name << " (" << e.description << ")\n";
  }
  int passed = 0, controls = 0;
  std::cout << "\ncontrol (correct algorithms: must pass everything)\n";
  for (const auto& e : mutants::control_catalog()) {
    auto k = mutants::make_control(e.name);
    const verdict_row row = assess(*k, corpus, pc, false);
    ++controls;
    passed += !row.killed();
    std::snprintf(line, sizeof line, "%-28s %-40s %-24s %8.2f  %s\n", row.name.c_str(),
                  row.killer_case.empty() ? "corpus passed" : ("FAILS " + row.killer_case).c_str(),
                  row.killer_property.empty() ? "properties passed" : ("FAILS " + row.killer_property).c_str(),
                  row.seconds, e.description.c_str());
    std::cout << line << std::flush;
  }
  std::cout << "controls passed " << passed << " of " << controls << "\n";
  std::cout << "killed " << killed << " of " << total << "\n";
  return killed == total && passed == controls ? 0 : 1;
}

}  // namespace bncheck::cli
