// Threads of the Eigen kernel: plain std::threads started for one call and
// joined before it returns (no pool, no OpenMP: the harness forks a child per
// case, and a thread pool does not survive a fork). Work is split by channel
// or by row, never inside a channel's reduction, so the bits of every output
// do not depend on the number of threads.
#pragma once

#include <cstdint>
#include <functional>

#include "impl/eigen/routines.hpp"

namespace bncheck::eigen {

/// Threads for a call over `elements` data elements: 1 for small problems,
/// where starting a thread costs more than it saves, else threads().
int threads_for(int64_t elements);

/// Runs body(t) for t in [0, n): t = 0 on the calling thread, the others on
/// threads started here and joined before returning. Rethrows the first
/// exception a body threw.
void parallel(int n, const std::function<void(int)>& body);

/// Part t of n of [begin, end): contiguous, sizes differing by at most one.
channel_range part(int64_t begin, int64_t end, int t, int n);

}  // namespace bncheck::eigen
