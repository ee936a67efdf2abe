// Threads of the Eigen kernel: a pool of worker threads that stay from one
// call to the next (no OpenMP). Starting a thread for every call cost 24-57
// microseconds on the development VM, three times per channel-last call
// (docs/cpu-kernel.md, "Threads"). The harness forks a child per case: the
// child starts its own pool, and calls made while the pool is busy (another
// thread's, or one from inside a body) start threads of their own. Work is
// split by channel or by row, never inside a channel's reduction, so the
// bits of every output do not depend on the number of threads.
#pragma once

#include <cstdint>
#include <functional>

#include "impl/eigen/routines.hpp"

namespace bncheck::eigen {

/// Threads for a call over `elements` data elements: 1 for small problems,
/// where starting a thread costs more than it saves, else threads().
int threads_for(int64_t elements);

/// Runs body(t) for t in [0, n): t = 0 on the calling thread, the others on
/// the pool's workers (or threads started here), in the caller's
/// floating-point environment; returns when every part has. Rethrows the
/// first exception a body threw.
void parallel(int n, const std::function<void(int)>& body);

/// Part t of n of [begin, end): contiguous, sizes differing by at most one.
channel_range part(int64_t begin, int64_t end, int t, int n);

/// Part t of n of the chunks [k0, k1) of a reduction of M rows cut into
/// chunks of `length` rows: contiguous, ending at the chunk boundaries
/// nearest to equal shares of the rows, so a part's rows differ from an
/// equal share by at most `length`. The last chunk may be short, so equal
/// numbers of chunks can mean unequal rows: part() splits the 7 chunks of
/// N32 C2048 7x7 (1568 rows) into 1024 + 544 rows, chunk_part into 768 + 800.
channel_range chunk_part(int64_t k0, int64_t k1, int64_t M, int64_t length, int t, int n);

}  // namespace bncheck::eigen
