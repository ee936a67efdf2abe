// What the Eigen kernel reports instead of computing: error for problems
// outside its space and for bad calls, never an exception.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/kernel.hpp"
#include "core/tensor.hpp"
#include "kernels/registry.hpp"
#include "tests/impl/direct_call.hpp"

namespace bncheck {
namespace {

using testing::call_direct;

// Inputs for any op, with placeholder saved statistics for backward.
tensor_map any_inputs(const problem& p) {
  tensor_map in = generate_inputs(p);
  if (p.op == op_kind::backward)
    for (const char* name : {"mean", "var", "invstd"})
      in[name] = tensor{p.param_type, {p.c}, std::vector<double>(static_cast<std::size_t>(p.c), 1.0)};
  return in;
}

// Parameters narrower than f32 are outside the problem space (validate()
// rejects them); a kernel handed one anyway reports an error, never throws.
TEST(eigen_status, half_precision_parameters_are_reported_as_errors_without_throwing) {
  auto k = make_kernel("eigen");
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (dtype param : {dtype::f16, dtype::bf16}) {
      problem p;
      p.op = op;
      p.param_type = param;
      p.n = 2, p.c = 3, p.h = 4, p.w = 5;
      const auto out = call_direct(*k, p, any_inputs(p));
      EXPECT_EQ(out.result.status, kernel_status::error) << to_text(p);
      EXPECT_NE(out.result.message.find(std::string(to_string(param))), std::string::npos)
          << out.result.message;
    }
}

TEST(eigen_status, every_supported_combination_runs) {
  auto k = make_kernel("eigen");
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (dtype data : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
      for (dtype param : {dtype::f64, dtype::f32}) {
        problem p;
        p.op = op;
        p.data_type = data;
        p.param_type = param;
        p.n = 2, p.c = 3, p.h = 4, p.w = 5;
        const auto out = call_direct(*k, p, any_inputs(p));
        EXPECT_EQ(out.result.status, kernel_status::ok) << to_text(p) << ": " << out.result.message;
      }
}

TEST(eigen_status, invalid_problem_is_an_error_not_an_exception) {
  auto k = make_kernel("eigen");
  problem p;
  p.n = 0;
  kernel_result r;
  EXPECT_NO_THROW(r = k->run(p, kernel_io{}));
  EXPECT_EQ(r.status, kernel_status::error);
  EXPECT_FALSE(r.message.empty());
  problem q;
  q.eps = -1;
  EXPECT_EQ(k->run(q, kernel_io{}).status, kernel_status::error);
}

TEST(eigen_status, missing_buffers_are_an_error_not_a_crash) {
  auto k = make_kernel("eigen");
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}) {
    problem p;
    p.op = op;
    const kernel_result r = k->run(p, kernel_io{});
    EXPECT_EQ(r.status, kernel_status::error) << to_string(op);
    EXPECT_NE(r.message.find("needs"), std::string::npos) << r.message;
  }
}

TEST(kernel_registry, makes_eigen_by_name_and_nothing_unknown) {
  auto k = make_kernel("eigen");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->name(), "eigen");
  EXPECT_EQ(make_kernel("no_such_kernel"), nullptr);
  const auto names = kernel_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "eigen"), names.end());
}

}  // namespace
}  // namespace bncheck
