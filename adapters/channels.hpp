// Per-channel buffers of kernel_io (f32 or f64) as double vectors, for the
// adapters' own arithmetic around a library call.
#pragma once

#include <cstdint>
#include <vector>

#include "core/problem.hpp"

namespace bncheck::adapters {

/// The p.c values of a per-channel buffer in p.param_type (f32 or f64), exactly.
std::vector<double> load_channels(const problem& p, const void* src);
/// Rounds each value once to p.param_type and stores it; a null dst is skipped.
void store_channels(const problem& p, const std::vector<double>& v, void* dst);

/// The running-statistics update of p.prof (core/problem.hpp) from a batch
/// mean and biased variance, in double, rounded once into running_mean and
/// running_var: onnx r' = m r + (1 - m) s with the biased variance; pytorch
/// and cudnn r' = (1 - m) r + m s with the unbiased variance var M/(M - 1),
/// NaN for M = 1.
void update_running(const problem& p, const std::vector<double>& mean, const std::vector<double>& var,
                    void* running_mean, void* running_var);

}  // namespace bncheck::adapters
