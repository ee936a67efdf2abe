// What every benchmark of bench_cpu shares: the shapes, the rotated buffer
// sets one case is timed on, the thread count, and the runner interface the
// kernels (ours, oneDNN, libtorch) are timed through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/problem.hpp"

namespace bncheck::bench {

/// A tensor shape of the benchmark; h = w = 1 for nc.
struct shape {
  const char* name;  ///< e.g. "N32C64H56W56"
  int64_t n, c, h, w;
  bool spatial;      ///< benchmarked in nchw and nhwc; otherwise in nc only
};

/// f32 data and parameters, default fills, pytorch profile.
problem make_problem(op_kind op, layout lay, const shape& s);

/// Threads for every kernel of the run: BNCHECK_THREADS if it is a positive
/// integer, else 2 (bench_cpu's --threads=N sets the variable).
int thread_count();

/// Bytes the working set between two uses of the same buffer must exceed so
/// that no level of cache can serve it: max(1 GiB, 2 x the L3 the OS
/// reports, as impl/eigen/caches.hpp reads it); BNCHECK_BENCH_ROTATE_MIB
/// overrides it (in MiB).
std::size_t rotation_bytes();
/// BNCHECK_BENCH_REUSE_OUTPUT=1: every set of a case writes its output (y
/// or dx) into one buffer, as libtorch's allocator hands a caller back the
/// output it freed, so the output can stay in the cache between calls while
/// the inputs still rotate (a diagnostic: docs/cpu-kernel.md). Default off.
bool reuse_output();
/// Buffer sets needed to rotate through rotation_bytes() when one set (all
/// the tensors one iteration touches) holds set_bytes.
std::size_t rotation_count(std::size_t set_bytes);

/// count floats aligned to a page; freed with the object.
class floats {
 public:
  floats() = default;
  explicit floats(std::size_t count);
  float* data() const { return p_.get(); }
  std::size_t size() const { return n_; }

 private:
  struct release {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, release> p_;
  std::size_t n_ = 0;
};

/// The data tensors of one rotation slot; null where the op does not use one.
struct tensor_set {
  float* x = nullptr;
  float* dy = nullptr;
  float* y = nullptr;
  float* dx = nullptr;
};

/// One timed case (shape, layout, op): K sets of data tensors with identical
/// contents (so the saved statistics fit every set), the per-channel tensors
/// shared by all sets, and what our Eigen kernel computes on set 0 (the
/// output the peers are checked against). Every page is touched on creation.
struct case_buffers {
  problem p;
  std::vector<floats> storage;
  std::vector<tensor_set> sets;
  floats gamma, beta, mean, var, invstd, running_mean, running_var, dgamma, dbeta;
  floats expected;  ///< y (forward) or dx (backward) of the Eigen kernel, set 0
  std::size_t tensor_bytes = 0;  ///< one data tensor
  std::size_t op_bytes = 0;      ///< fewest bytes one call moves: 2 or 3 tensors
  std::size_t set_bytes = 0;     ///< bytes of one set (same as op_bytes)
};

/// sets x tensors data tensors of count floats each, for the copy and triad
/// baselines; the first tensor of a set is the output. Touched on creation.
struct stream_buffers {
  std::size_t count = 0, tensors = 0, sets = 0;
  std::vector<floats> storage;
  float* at(std::size_t set, std::size_t tensor) const { return storage[set * tensors + tensor].data(); }
};

/// The buffers of p's case, kept while consecutive benchmarks (the kernels
/// and repetitions of one case) ask for the same problem. One case and one
/// stream_buffers are held at a time, side by side (a case's triad takes
/// turns with its kernels): a request for another case frees the case held
/// before, one for other stream buffers the stream buffers. Returns null
/// and sets why if Eigen fails on the case.
case_buffers* buffers_for(const problem& p, std::string& why);
stream_buffers* stream_buffers_for(std::size_t count, std::size_t tensors, std::size_t sets);
/// Frees what is held (at the end of the run).
void release_buffers();

/// The output a runner produced on set 0 (y or dx), dense in p.lay.
/// Returns an empty string if it matches cb.expected to 1e-3 of the largest
/// expected magnitude (at least 1), else a message with the largest
/// difference: a wrongly configured peer must not be timed doing nothing.
std::string check_output(const case_buffers& cb, const float* got);

/// A kernel set up once for one case; run(i) is one timed call on set i.
class runner {
 public:
  virtual ~runner() = default;
  /// Implementation the library chose (oneDNN's impl_info_str), or empty.
  virtual std::string label() const { return {}; }
  virtual void run(std::size_t set) = 0;
  /// Copies the output of the last run on set 0 into out (dense in p.lay).
  virtual void output(float* out) const = 0;
};

/// oneDNN 2.6's primitive for cb.p, created once (bench_onednn.cpp). Throws
/// std::runtime_error if oneDNN has no implementation. nc_as_nhwc describes
/// an nc tensor as N x C x 1 x 1 nhwc (same memory), which oneDNN runs with
/// its channel-last JIT kernel instead of the generic one the adapter's nc
/// descriptor gets.
std::unique_ptr<runner> make_onednn_runner(case_buffers& cb, bool nc_as_nhwc = false);
/// at::native_batch_norm(_backward) on from_blob tensors (bench_libtorch.cpp).
std::unique_ptr<runner> make_libtorch_runner(case_buffers& cb);
/// Sets the OpenMP threads oneDNN uses (omp_set_num_threads).
void set_onednn_threads(int n);
/// at::set_num_threads(n).
void set_libtorch_threads(int n);
/// Library versions for the report context.
std::string onednn_version();
std::string libtorch_version();

/// STREAM-like kernels on threads() threads, each thread one contiguous slice:
/// a[i] = b[i] and a[i] = b[i] + s * c[i].
void stream_copy(float* a, const float* b, std::size_t n, int threads);
void stream_triad(float* a, const float* b, const float* c, float s, std::size_t n, int threads);
/// The two passes a channel-last kernel makes, whose per-channel sums are
/// complete only after the last row: pass 1 reads a (and b, if not null)
/// and sums them; after every thread's pass 1, pass 2 writes out = a + s * b
/// (out = s * a without b) in blocks of `block` floats from the last to the
/// first, with non-temporal stores. Each thread takes the same contiguous
/// slice in both passes; out and a, b must be 16-byte aligned.
void stream_two_pass(float* out, const float* a, const float* b, float s, std::size_t n, std::size_t block,
                     int threads);

}  // namespace bncheck::bench
