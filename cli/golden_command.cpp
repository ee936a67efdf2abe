// bncheck golden regen / verify.
#include <iostream>

#include "cli/commands.hpp"
#include "golden/regen.hpp"
#include "golden/verify.hpp"

namespace bncheck::cli {

int golden_regen(const std::string& dir) {
  const regen_stats s = regen(dir, std::cerr);
  std::cout << "regenerated " << s.cases << " cases (" << s.bytes << " bytes) in " << s.seconds
            << " s; rounding proven for " << s.rounding.values << " values with " << s.rounding.escalations
            << " escalations (max precision " << s.rounding.max_precision << " bits)\n";
  return 0;
}

int golden_verify(const std::string& dir) {
  const verify_report r = verify(dir);
  int bad = 0;
  for (const auto& c : r.cases) {
    if (c.ok) continue;
    ++bad;
    std::cout << "BAD " << c.name << ": " << c.error << "\n";
  }
  std::cout << "verified " << r.cases.size() << " cases: " << r.cases.size() - bad << " ok, " << bad << " bad\n";
  return bad ? 2 : 0;
}

}  // namespace bncheck::cli
