// Fuzz target: the problem text (core/problem.hpp parse_problem), given on
// the command line (--problem), in manifests, and in REPRO lines. What parses
// must print in canonical form and parse back to the same problem.
#include "core/problem.hpp"
#include "fuzz/fuzz.hpp"

using namespace bncheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::only_input_errors([&] {
    const problem p = parse_problem(std::string_view(reinterpret_cast<const char*>(data), size));
    const std::string text = to_text(p);
    const problem back = parse_problem(text);
    fuzz::check(back == p, "'" + text + "' parses back to another problem");
    fuzz::check(to_text(back) == text, "the canonical text of '" + text + "' is not stable");
  });
  return 0;
}
