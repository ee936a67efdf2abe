// The fast data loops (kernels-inl.hpp) compiled for sse2, the x86-64 baseline:
// no extra flags.
#define BNC_ISA sse2
#define BNC_CL_WIDTH 2
#define BNC_CL_FLOATS 4
#include "impl/eigen/fast/kernels-inl.hpp"

namespace bncheck::eigen::fast {
const table& table_sse2() { return sse2::variant; }
}  // namespace bncheck::eigen::fast
