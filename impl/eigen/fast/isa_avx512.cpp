// The fast data loops (kernels-inl.hpp) compiled for avx512 (flags in
// impl/CMakeLists.txt); dispatch.cpp uses it only where the processor has it.
#define BNC_ISA avx512
#define BNC_CL_WIDTH 8
#define BNC_CL_FLOATS 16
#include "impl/eigen/fast/kernels-inl.hpp"

namespace bncheck::eigen::fast {
const table& table_avx512() { return avx512::variant; }
}  // namespace bncheck::eigen::fast
