// bncheck run: judge a kernel on the golden corpus or on generated problems,
// print the per-case table, the failure reports, and exit 0/1/2.
#include <iostream>

#include "check/gate.hpp"
#include "check/harness.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "golden/store.hpp"
#include "tests/mutants/catalog.hpp"

namespace bncheck::cli {

int run(const run_options& o) {
  std::unique_ptr<kernel> k = make_kernel(o.kernel);
  if (!k) k = mutants::make_mutant(o.kernel);
  if (!k) {
    std::string known;
    for (const auto& n : kernel_names()) known += (known.empty() ? "" : ", ") + n;
    for (const auto& n : mutants::mutant_names()) known += ", " + n + " (broken on purpose)";
    throw input_error("unknown kernel '" + o.kernel + "' (known: " + known + ")");
  }
  // Load everything first: a bad input stops the run before any verdict.
  std::vector<test_case> cases;
  if (!o.problems.empty()) {
    if (!o.cases.empty()) throw input_error("give either --problem or --case, not both");
    for (const auto& text : o.problems) cases.push_back(make_case(parse_problem(text)));
  } else {
    std::vector<std::string> names = o.cases.empty() ? list_cases(o.golden) : o.cases;
    if (names.empty()) throw input_error("no golden cases in '" + o.golden + "'");
    for (const auto& name : names) cases.push_back(read_case(std::filesystem::path(o.golden) / name));
  }
  std::vector<case_outcome> outcomes;
  for (const auto& c : cases) outcomes.push_back(judge(*k, c));
  const gate_totals t = print_table(outcomes, k->name(), std::cout, o.quiet);
  for (const auto& oc : outcomes)
    if (oc.v == verdict::fail) std::cout << "\n" << oc.report;
  if (t.fail) return 1;
  if (t.pass == 0) {
    std::cout << "nothing was checked: every case was skipped by kernel " << k->name() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace bncheck::cli
