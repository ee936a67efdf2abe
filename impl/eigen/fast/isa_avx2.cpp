// The fast data loops (kernels-inl.hpp) compiled for avx2 (flags in
// impl/CMakeLists.txt); dispatch.cpp uses it only where the processor has it.
#define BNC_ISA avx2
#define BNC_CL_WIDTH 4
#define BNC_CL_FLOATS 8
#include "impl/eigen/fast/kernels-inl.hpp"

namespace bncheck::eigen::fast {
const table& table_avx2() { return avx2::variant; }
}  // namespace bncheck::eigen::fast
