// merge_statistics in the Eigen kernel: per-shard mean, M2 and count in, the
// batch's mean, biased var and invstd out (core/kernel.hpp, kernel_io).
#pragma once

#include "core/kernel.hpp"

namespace bncheck::eigen {

/// The shards of p (io.shard_count, io.shard_mean, io.shard_m2) merged per
/// channel into io.mean, io.var, io.invstd, in the parameter format.
void merge_statistics(const problem& p, const kernel_io& io);

}  // namespace bncheck::eigen
