// Per-channel conversions and the running-statistics arithmetic shared by the adapters.
#include "adapters/channels.hpp"

#include <limits>

#include "core/dtype.hpp"

namespace bncheck::adapters {

std::vector<double> load_channels(const problem& p, const void* src) {
  std::vector<double> v(static_cast<std::size_t>(p.c));
  for (int64_t c = 0; c < p.c; ++c)
    v[c] = load(p.param_type, static_cast<const unsigned char*>(src) + c * size_of(p.param_type));
  return v;
}

void store_channels(const problem& p, const std::vector<double>& v, void* dst) {
  if (dst == nullptr) return;
  for (int64_t c = 0; c < p.c; ++c)
    store(p.param_type, round_to(p.param_type, v[c]),
          static_cast<unsigned char*>(dst) + c * size_of(p.param_type));
}

void update_running(const problem& p, const std::vector<double>& mean, const std::vector<double>& var,
                    void* running_mean, void* running_var) {
  const double M = static_cast<double>(reduction_size(p));
  const double m = p.momentum;
  const bool onnx = p.prof == profile::onnx;
  if (running_mean != nullptr) {
    std::vector<double> r = load_channels(p, running_mean);
    for (int64_t c = 0; c < p.c; ++c) r[c] = onnx ? m * r[c] + (1 - m) * mean[c] : (1 - m) * r[c] + m * mean[c];
    store_channels(p, r, running_mean);
  }
  if (running_var != nullptr) {
    std::vector<double> r = load_channels(p, running_var);
    for (int64_t c = 0; c < p.c; ++c) {
      if (onnx) {
        r[c] = m * r[c] + (1 - m) * var[c];
      } else {
        const double unbiased = M > 1 ? var[c] * M / (M - 1) : std::numeric_limits<double>::quiet_NaN();
        r[c] = (1 - m) * r[c] + m * unbiased;
      }
    }
    store_channels(p, r, running_var);
  }
}

}  // namespace bncheck::adapters
