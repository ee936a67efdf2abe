// Fuzz target: a kernel's known-deviations file (check/deviations.hpp), read
// by bncheck run and judge --deviations, then applied to outcomes.
#include "check/deviations.hpp"
#include "fuzz/fuzz.hpp"

using namespace bncheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::only_input_errors([&] {
    const deviations d = parse_deviations(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    std::vector<outcome> outcomes;
    std::vector<std::string> corpus;
    for (const case_deviation& c : d.cases) {
      fuzz::check(!c.reason.empty() && is_output_name(c.tensor), "a case line without a reason or an output");
      for (verdict v : {verdict::pass, verdict::fail, verdict::skip}) {
        outcome o;
        o.name = c.case_name;
        o.v = v;
        o.worst_tensor = outcomes.size() % 2 ? c.tensor : "y";
        outcomes.push_back(o);
      }
      corpus.push_back(c.case_name);
    }
    apply_deviations(d, outcomes);
    fuzz::check(unknown_cases(d, corpus).empty(), "a listed case is unknown to a corpus of the listed cases");
    describe_exclusions(d);
  });
  return 0;
}
