// Fuzz target: fill specs (core/problem.hpp parse_fill, the x=normal:0:1 of
// a problem text) and what they generate (core/fill.hpp). A finite spec must
// generate values of the tensor's format, with its placed non-finite values
// where it says, and print back to the same spec.
#include <algorithm>
#include <cmath>
#include <vector>

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
    // Placed non-finite values need a tensor that holds their indices: x of
    // mb(last index + 1)ic1 (a larger one is refused by validate()).
    int64_t count = 16;
    if (spec.count > 0) {
      const int64_t last = spec.specials[static_cast<std::size_t>(spec.count - 1)].index;
      if (last >= (int64_t{1} << 20)) return;
      p.n = last + 1;
      count = std::max<int64_t>(count, p.n);
    }
    fuzz::check(parse_problem(to_text(p)).x == spec, "the fill prints as text that parses to another fill");
    if (spec.kind == fill_kind::file) return;
    for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
      const std::vector<double> values = generate(spec, t, count, seed, fill_stream::x);
      for (double v : values) fuzz::check(representable(t, v), "a generated value is not representable in its format");
      for (int k = 0; k < spec.count; ++k) {
        const special_at& sp = spec.specials[static_cast<std::size_t>(k)];
        const double v = values[static_cast<std::size_t>(sp.index)];
        fuzz::check(sp.value == special_value::nan ? std::isnan(v)
                    : sp.value == special_value::inf ? v > 0 && std::isinf(v)
                                                     : v < 0 && std::isinf(v),
                    "a placed non-finite value is not where its fill says");
      }
    }
  });
  return 0;
}
