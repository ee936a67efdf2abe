// A test kernel that answers with the reference's outputs rounded to the
// output formats, optionally perturbed: the comparison's tests use it to
// plant precise faults without depending on any real kernel.
#pragma once

#include <functional>
#include <string>

#include "core/kernel.hpp"
#include "core/tensor.hpp"

namespace bncheck::testing {

class oracle_kernel : public kernel {
 public:
  /// Called with the problem, its decoded inputs and the rounded outputs
  /// before they are stored; may change them (and so plant a fault).
  using perturbation = std::function<void(const problem&, const tensor_map& inputs, tensor_map& outputs)>;
  explicit oracle_kernel(perturbation f = {}, std::string name = "oracle")
      : perturb_(std::move(f)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  kernel_result run(const problem& p, const kernel_io& io) override;
  /// Outputs the kernel leaves unwritten (still NaN from the harness).
  std::vector<std::string> skip_outputs;
  /// Leave this many trailing elements of every data output unwritten.
  int64_t unwritten_tail = 0;

 private:
  perturbation perturb_;
  std::string name_;
};

}  // namespace bncheck::testing
