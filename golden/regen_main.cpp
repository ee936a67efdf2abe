// bncheck_golden_regen [CORPUS_DIR]: regenerates the golden corpus (default
// golden/cases under the current directory) and prints what it did.
#include <cstdio>
#include <exception>
#include <iostream>

#include "core/error.hpp"
#include "golden/regen.hpp"

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    std::fprintf(stderr, "usage: %s [CORPUS_DIR]   (default golden/cases)\n", argv[0]);
    return 2;
  }
  try {
    const bncheck::regen_stats s = bncheck::regen(argc == 2 ? argv[1] : "golden/cases", std::cout);
    std::printf("%zu cases, %ju bytes, %.2f s; rounding: %lld values, %lld escalations, max precision %u bits\n",
                s.cases, s.bytes, s.seconds, static_cast<long long>(s.rounding.values),
                static_cast<long long>(s.rounding.escalations), s.rounding.max_precision);
    return 0;
  } catch (const bncheck::input_error& e) {
    std::fprintf(stderr, "bncheck_golden_regen: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bncheck_golden_regen: internal error: %s\n", e.what());
    return 3;
  }
}
