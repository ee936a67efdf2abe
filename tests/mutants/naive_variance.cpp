// The naive_variance mutant: a straightforward float32 kernel, correct except
// for its one-pass variance. Element access goes through core/dtype.hpp one
// value at a time; speed does not matter here.
#include "tests/mutants/naive_variance.hpp"

#include <cmath>
#include <exception>
#include <limits>
#include <string>

#include "core/dtype.hpp"

namespace bncheck::mutants {
namespace {

// Element i of a buffer of format t, as float.
float get(dtype t, const void* base, int64_t i) {
  return static_cast<float>(load(t, static_cast<const unsigned char*>(base) + i * size_of(t)));
}

// Stores v rounded to t; a null buffer is an output nobody asked for.
void put(dtype t, void* base, int64_t i, float v) {
  if (base == nullptr) return;
  store(t, round_to(t, v), static_cast<unsigned char*>(base) + i * size_of(t));
}

void forward_training(const problem& p, const kernel_io& io) {
  const dtype dt = p.data_type, pt = p.param_type;
  const int64_t S = spatial_size(p);
  const auto M = static_cast<float>(reduction_size(p));
  const auto m = static_cast<float>(p.momentum);
  for (int64_t c = 0; c < p.c; ++c) {
    float sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const float v = get(dt, io.x, offset(p, i, c, s));
        sum += v;
        sum_sq += v * v;
      }
    const float mean = sum / M;
    const float var = sum_sq / M - mean * mean;  // the bug: cancels when |mean| >> spread
    const float invstd = 1.0f / std::sqrt(var + static_cast<float>(p.eps));
    const float g = get(pt, io.gamma, c), b = get(pt, io.beta, c);
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t o = offset(p, i, c, s);
        put(dt, io.y, o, g * (get(dt, io.x, o) - mean) * invstd + b);
      }
    put(pt, io.mean, c, mean);
    put(pt, io.var, c, var);
    put(pt, io.invstd, c, invstd);
    if (io.running_mean == nullptr || io.running_var == nullptr) continue;
    const float rm = get(pt, io.running_mean, c), rv = get(pt, io.running_var, c);
    if (p.prof == profile::onnx) {
      put(pt, io.running_mean, c, m * rm + (1 - m) * mean);
      put(pt, io.running_var, c, m * rv + (1 - m) * var);
    } else {
      const float unbiased = M > 1 ? var * M / (M - 1) : std::numeric_limits<float>::quiet_NaN();
      put(pt, io.running_mean, c, (1 - m) * rm + m * mean);
      put(pt, io.running_var, c, (1 - m) * rv + m * unbiased);
    }
  }
}

void forward_inference(const problem& p, const kernel_io& io) {
  const dtype dt = p.data_type, pt = p.param_type;
  const int64_t S = spatial_size(p);
  for (int64_t c = 0; c < p.c; ++c) {
    const float g = get(pt, io.gamma, c), b = get(pt, io.beta, c);
    const float rm = get(pt, io.running_mean, c);
    const float invstd = 1.0f / std::sqrt(get(pt, io.running_var, c) + static_cast<float>(p.eps));
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t o = offset(p, i, c, s);
        put(dt, io.y, o, g * (get(dt, io.x, o) - rm) * invstd + b);
      }
  }
}

void backward(const problem& p, const kernel_io& io) {
  const dtype dt = p.data_type, pt = p.param_type;
  const int64_t S = spatial_size(p);
  const auto M = static_cast<float>(reduction_size(p));
  for (int64_t c = 0; c < p.c; ++c) {
    const float mean = get(pt, io.mean, c), invstd = get(pt, io.invstd, c);
    const float g = get(pt, io.gamma, c);
    float dbeta = 0, dgamma = 0;
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t o = offset(p, i, c, s);
        const float dy = get(dt, io.dy, o);
        dbeta += dy;
        dgamma += dy * (get(dt, io.x, o) - mean) * invstd;
      }
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t o = offset(p, i, c, s);
        const float xhat = (get(dt, io.x, o) - mean) * invstd;
        put(dt, io.dx, o, g * invstd * (get(dt, io.dy, o) - dbeta / M - xhat * dgamma / M));
      }
    put(pt, io.dgamma, c, dgamma);
    put(pt, io.dbeta, c, dbeta);
  }
}

class naive_variance final : public kernel {
 public:
  std::string name() const override { return "naive_variance"; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    try {
      validate(p);
      switch (p.op) {
        case op_kind::forward_training: forward_training(p, io); break;
        case op_kind::forward_inference: forward_inference(p, io); break;
        case op_kind::backward: backward(p, io); break;
      }
      return {};
    } catch (const std::exception& e) {
      return {kernel_status::error, std::string("naive_variance: ") + e.what()};
    }
  }
};

}  // namespace

std::unique_ptr<kernel> make_naive_variance() { return std::make_unique<naive_variance>(); }

}  // namespace bncheck::mutants
