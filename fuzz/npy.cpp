// Fuzz target: the .npy reader (golden/npy.hpp decode_npy), which reads the
// golden arrays and the outputs an exported kernel writes (bncheck judge).
// What decodes must encode back to bytes that decode to the same array.
#include <cstring>

#include "core/dtype.hpp"
#include "fuzz/fuzz.hpp"
#include "golden/npy.hpp"

using namespace bncheck;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fuzz::only_input_errors([&] {
    const tensor t = decode_npy(bytes, "fuzz.npy");
    const tensor back = decode_npy(encode_npy(t), "re-encoded");
    fuzz::check(back.type == t.type && back.shape == t.shape && back.values.size() == t.values.size(),
                "the re-encoded array has another format or shape");
    for (std::size_t k = 0; k < t.values.size(); ++k)
      fuzz::check(same_bits(back.values[k], t.values[k]), "element " + std::to_string(k) + " changed on re-encoding");
  });
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
    fuzz::only_input_errors([&] {
      const tensor got = decode_npy(bytes, "fuzz.npy", t);
      for (double v : got.values) fuzz::check(representable(t, v), "a value not representable in its format");
    });
  return 0;
}
