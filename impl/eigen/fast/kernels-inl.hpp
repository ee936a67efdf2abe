// The bodies of the fast data loops (fast.hpp), included once per instruction
// set by isa_*.cpp with BNC_ISA naming the variant and BNC_CL_WIDTH the
// number of channels a channel-last loop handles per vector. Everything here
// lives in a namespace of its own per variant and uses no shared inline code
// (no Eigen, no std algorithms), so the linker can never merge an AVX-512
// copy of a function into the baseline variant.
//
// Arithmetic: GCC vector extensions, lane by lane IEEE operations, which
// -ffp-contract=off keeps from fusing; a vector of 8 doubles or 16 floats is
// one AVX-512 register, two AVX2 or four SSE2 registers, with the same
// results. f64 data follows reduction.hpp (chunks of 256 values, value k of a
// chunk into lane k % 8, lanes combined by a fixed tree, chunks merged by the
// binary-counter tree) and routines.hpp; f32 data the same chunks in 16 f32
// lanes, finished and merged in double (f32_chunks-inl.hpp, f32-inl.hpp).
#include "impl/eigen/fast/channel_first-inl.hpp"
#include "impl/eigen/fast/channel_last-inl.hpp"
#include "impl/eigen/fast/common-inl.hpp"
#include "impl/eigen/fast/f32-inl.hpp"
#include "impl/eigen/fast/fast.hpp"

#ifndef BNC_ISA
#error "define BNC_ISA (the variant's name) before including kernels-inl.hpp"
#endif
#define BNC_STR2(x) #x
#define BNC_STR(x) BNC_STR2(x)

namespace bncheck::eigen::fast::BNC_ISA {
namespace {

// f64 data: double arithmetic in the order of reduction.hpp and routines.hpp.
constexpr ops<double> f64_ops() {
  return {moments_cf<double>, normalize_cf<double>, normalize_cl<double>,
          sums_cf<double>,    dx_cf<double>,      dx_cl<double>,
          chunk_moments_cl<double>, chunk_sums_cl<double>,
          train_cf<double>,   backward_cf<double>};
}
// f32 data: f32 arithmetic in the order of f32_chunks-inl.hpp and f32-inl.hpp
// (moments_cf and sums_cf reach the f32 chunk functions through their f32
// buffers).
constexpr ops<float> f32_ops() {
  return {moments_cf<float>, normalize_cf_f32, normalize_cl_f32,
          sums_cf<float>,    dx_cf_f32,        dx_cl_f32,
          chunk_moments_cl_f32, chunk_sums_cl_f32,
          train_cf<float>,   backward_cf<float>};
}

}  // namespace

const table variant{BNC_STR(BNC_ISA), f32_ops(), f64_ops()};

}  // namespace bncheck::eigen::fast::BNC_ISA
