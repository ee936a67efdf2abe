// Fuzz target: fill specs (core/problem.hpp parse_fill, the x=normal:0:1 of
// a problem text) and what they generate (core/fill.hpp). A finite spec must
// generate values of the tensor's format and print back to the same spec.
#include <cmath>

#include "core/dtype.hpp"
#include "core/fill.hpp"
#include "core/problem.hpp"
#include "fuzz/fuzz.hpp"

using namespace bncheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const uint64_t seed = in.integer<uint64_t>();
  const std::string_view text = in.rest();
  fuzz::only_input_errors([&] {
    const fill_spec spec = parse_fill(text);
    problem p;
    p.x = spec;
    if (!std::isfinite(spec.a) || !std::isfinite(spec.b)) {
      bool refused = false;
      try {
        validate(p);
      } catch (const input_error&) {
        refused = true;
      }
      fuzz::check(refused, "a problem with a non-finite fill validates");
      return;
    }
    fuzz::check(parse_problem(to_text(p)).x == spec, "the fill prints as text that parses to another fill");
    if (spec.kind == fill_kind::file) return;
    for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
      for (double v : generate(spec, t, 16, seed, fill_stream::x))
        fuzz::check(representable(t, v), "a generated value is not representable in its format");
  });
  return 0;
}
