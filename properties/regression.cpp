// Regression cases: named by content, written with the golden store.
#include "properties/regression.hpp"

#include <stdexcept>

#include "core/shell_quote.hpp"
#include "golden/npy.hpp"
#include "golden/sha256.hpp"
#include "golden/store.hpp"

namespace bncheck::properties {
namespace {

std::string snake(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const char lower = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    out += (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') ? lower : '_';
  }
  return out;
}

}  // namespace

std::string regression_name(const std::string& property, const std::string& kernel_name, const test_case& c) {
  std::string content = to_text(c.prob);
  for (const std::string& name : input_names(c.prob)) content += encode_npy(c.inputs.at(name));
  return snake(property) + "_" + snake(kernel_name) + "_" + sha256_hex(content).substr(0, 8);
}

std::string save_regression(const property_result& r, const std::string& kernel_name, uint64_t seed,
                            const std::filesystem::path& dir) {
  if (!r.shrunk) throw std::invalid_argument("save_regression: property " + r.name + " has no shrunk case");
  test_case c = *r.shrunk;
  c.name = regression_name(r.name, kernel_name, c);
  const std::filesystem::path where = dir / c.name;
  if (std::filesystem::exists(where / "manifest.json")) return c.name;
  write_case(where, c,
             "regression: property " + r.name + " failed on kernel " + kernel_name + " (seed " +
                 std::to_string(seed) + "); shrunk counterexample" +
                 (r.shrunk_fails_judge ? "" : " (passes agreement by itself)"));
  return c.name;
}

std::string regression_repro(const std::string& kernel_name, const std::filesystem::path& dir,
                             const std::string& name) {
  return "REPRO: bncheck run --kernel " + shell_quote(kernel_name) + " --golden " + dir.string() + " --case " + name;
}

}  // namespace bncheck::properties
