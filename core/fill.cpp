// Deterministic fills: integers from splitmix64, turned into doubles with
// exact scalings and at most three IEEE operations, then rounded once.
#include "core/fill.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "core/dtype.hpp"
#include "core/error.hpp"

namespace bncheck {

uint64_t splitmix64::next() {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<double> generate(const fill_spec& spec, dtype t, int64_t count, uint64_t seed,
                             fill_stream stream) {
  if (spec.kind == fill_kind::file)
    throw input_error("fill 'file' has no generator: the values come from a golden case folder");
  splitmix64 rng{seed * 0x100000001b3ull + static_cast<uint64_t>(stream) * 0x9e3779b97f4a7c15ull};
  std::vector<double> out(static_cast<std::size_t>(count));
  const double sqrt3 = std::sqrt(3.0);  // correctly rounded by IEEE 754
  for (auto& v : out) {
    double r = 0.0;
    switch (spec.kind) {
      case fill_kind::normal: {
        // Irwin-Hall: the sum of four uniform 24-bit integers, centred, has
        // variance 4/12 in units of 2^24; scaled by sqrt(3) it is ~N(0, 1)
        // within [-2*sqrt(3), 2*sqrt(3)].
        int64_t s = 0;
        for (int k = 0; k < 4; ++k) s += static_cast<int64_t>(rng.next() >> 40);
        const double z = std::ldexp(static_cast<double>(s - (int64_t{1} << 25)), -24) * sqrt3;
        r = spec.a + spec.b * z;
        break;
      }
      case fill_kind::uniform: {
        const double u = std::ldexp(static_cast<double>(rng.next() >> 40), -24);
        r = spec.a + (spec.b - spec.a) * u;
        break;
      }
      case fill_kind::constant: r = spec.a; break;
      case fill_kind::file: break;
    }
    v = round_to(t, r);
  }
  // The placed non-finite values replace generated ones; the draws stay the
  // same, so every other element is what the fill alone gives.
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int k = 0; k < spec.count; ++k) {
    const special_at& sp = spec.specials[static_cast<std::size_t>(k)];
    if (sp.index < 0 || sp.index >= count)
      throw input_error("fill places a value at index " + std::to_string(sp.index) + ", outside its " +
                        std::to_string(count) + " elements");
    out[static_cast<std::size_t>(sp.index)] = sp.value == special_value::nan ? std::numeric_limits<double>::quiet_NaN()
                                              : sp.value == special_value::inf ? inf
                                                                               : -inf;
  }
  return out;
}

}  // namespace bncheck
