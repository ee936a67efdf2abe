// The plain kernel's entry point: checks a call and runs the op in float or
// double arithmetic.
#include "mutants/plain_kernel.hpp"

#include <exception>
#include <stdexcept>
#include <utility>

#include "mutants/plain_parts.hpp"

namespace bncheck::mutants {
namespace {

template <class W>
void run_op(const problem& p, const kernel_io& io, const faults& f) {
  switch (p.op) {
    case op_kind::forward_training: return plain::forward_training<W>(p, io, f);
    case op_kind::forward_inference: return plain::forward_inference<W>(p, io, f);
    case op_kind::backward: return plain::backward<W>(p, io, f);
    case op_kind::merge_statistics: return plain::merge_statistics<W>(p, io, f);
  }
}

bool buffers_present(const problem& p, const kernel_io& io) {
  const bool common = io.x && io.gamma;
  switch (p.op) {
    case op_kind::forward_training:
      return common && io.beta && io.y && io.mean && io.var && io.invstd && io.running_mean && io.running_var;
    case op_kind::forward_inference: return common && io.beta && io.y && io.running_mean && io.running_var;
    case op_kind::backward: return common && io.dy && io.mean && io.var && io.invstd && io.dx;
    case op_kind::merge_statistics:
      return io.shard_count && io.shard_mean && io.shard_m2 && io.mean && io.var && io.invstd;
  }
  return false;
}

class plain_kernel final : public kernel {
 public:
  plain_kernel(std::string name, const faults& f) : name_(std::move(name)), faults_(f) {}

  std::string name() const override { return name_; }
  /// Reads and writes data tensors where their placement puts them (view.cpp).
  bool takes_strides() const override { return true; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    return error_result_of(name_, [&]() -> kernel_result {
      validate(p);
      if (!buffers_present(p, io)) throw std::invalid_argument("a buffer the op needs is null");
      // Double for f64 data unless the fault forces float; float is the least
      // precision the tolerance model admits for narrower data.
      const bool wide = faults_.arith == precision::f64 ||
                        (p.data_type == dtype::f64 && faults_.arith != precision::f32);
      if (wide)
        run_op<double>(p, io, faults_);
      else
        run_op<float>(p, io, faults_);
      return {};
    });
  }

 private:
  std::string name_;
  faults faults_;
};

}  // namespace

std::unique_ptr<kernel> make_plain_kernel(std::string name, const faults& f) {
  return std::make_unique<plain_kernel>(std::move(name), f);
}

}  // namespace bncheck::mutants
