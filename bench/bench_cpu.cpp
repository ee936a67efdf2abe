// bench_cpu: our Eigen kernel, oneDNN and libtorch on the same batch-norm
// cases in one run, next to STREAM-like copy and triad on tensors of the same
// size, and, for channel-last training and backward, the two passes over
// memory that any channel-last kernel makes (time_two_pass). Every benchmark
// rotates its buffers through enough sets that no cache holds them between
// uses (bench_case.hpp); copy_unrotated does not, and cache_probe copies over
// growing working sets, to show what the cache gives. bench/run turns the
// JSON into bench/RESULTS.md.
//
//   bench_cpu [--threads=N] [Google Benchmark flags]
//
// Threads: --threads=N, else BNCHECK_THREADS, else 2, for every kernel.
// Exit status 2: some benchmark failed its set-up or its output check.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_case.hpp"
#include "core/kernel.hpp"
#include "impl/eigen/caches.hpp"
#include "impl/eigen/eigen_kernel.hpp"
#include "kernels/registry.hpp"

namespace bncheck::bench {
namespace {

constexpr shape shapes[] = {
    {"N32C64H56W56", 32, 64, 56, 56, true},  {"N32C256H28W28", 32, 256, 28, 28, true},
    {"N32C512H14W14", 32, 512, 14, 14, true}, {"N32C2048H7W7", 32, 2048, 7, 7, true},
    {"N4096C1024", 4096, 1024, 1, 1, false},
};

// onednn_nspc: oneDNN on nc described as N x C x 1 x 1 nhwc (nc cases only).
enum class peer { eigen, onednn, onednn_nspc, libtorch };

const char* name_of(peer k) {
  switch (k) {
    case peer::eigen: return "eigen";
    case peer::onednn: return "onednn";
    case peer::onednn_nspc: return "onednn_nspc";
    case peer::libtorch: return "libtorch";
  }
  return "?";
}

// Our kernel through the kernel interface, one kernel_io per set.
class eigen_runner final : public runner {
 public:
  explicit eigen_runner(case_buffers& cb) : cb_(cb), k_(make_kernel("eigen")) {
    for (const tensor_set& s : cb.sets) {
      kernel_io io;
      io.x = s.x, io.dy = s.dy, io.y = s.y, io.dx = s.dx;
      io.gamma = cb.gamma.data(), io.beta = cb.beta.data();
      io.mean = cb.mean.data(), io.var = cb.var.data(), io.invstd = cb.invstd.data();
      io.running_mean = cb.running_mean.data(), io.running_var = cb.running_var.data();
      io.dgamma = cb.dgamma.data(), io.dbeta = cb.dbeta.data();
      io_.push_back(io);
    }
  }
  std::string label() const override { return eigen::isa() + ", " + std::to_string(eigen::threads()) + " threads"; }
  void run(std::size_t set) override {
    const kernel_result r = k_->run(cb_.p, io_[set]);
    if (r.status != kernel_status::ok && error_.empty()) error_ = "eigen: " + r.message;
  }
  void output(float* out) const override {
    const tensor_set& s = cb_.sets[0];
    std::memcpy(out, cb_.p.op == op_kind::backward ? s.dx : s.y, cb_.tensor_bytes);
  }
  const std::string& error() const { return error_; }

 private:
  case_buffers& cb_;
  std::unique_ptr<kernel> k_;
  std::vector<kernel_io> io_;
  std::string error_;
};

std::unique_ptr<runner> make_runner(peer k, case_buffers& cb) {
  switch (k) {
    case peer::eigen: return std::make_unique<eigen_runner>(cb);
#ifdef BNCHECK_BENCH_ONEDNN
    case peer::onednn: return make_onednn_runner(cb);
    case peer::onednn_nspc: return make_onednn_runner(cb, /*nc_as_nhwc=*/true);
#endif
#ifdef BNCHECK_BENCH_LIBTORCH
    case peer::libtorch: return make_libtorch_runner(cb);
#endif
    default: break;
  }
  throw std::runtime_error(std::string(name_of(k)) + " was not found at build time");
}

// Benchmarks that failed their set-up or output check; main exits with 2 if any.
int failures = 0;

void fail(benchmark::State& state, const std::string& why) {
  ++failures;
  state.SkipWithError(why.c_str());
}

// Minor page faults of the process so far: a kernel that maps fresh memory
// for its outputs every call shows about one per 4 KiB written.
long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

void set_counters(benchmark::State& state, std::size_t op_bytes, std::size_t sets, std::size_t set_bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * op_bytes));
  state.counters["op_bytes"] = static_cast<double>(op_bytes);
  state.counters["sets"] = static_cast<double>(sets);
  state.counters["working_set_MiB"] = static_cast<double>(sets * set_bytes) / (1 << 20);
}

// One kernel on one case: set up, check the output once against Eigen's,
// then time one call per iteration on set i % K. faults_per_call counts the
// minor page faults of the timed calls.
void time_kernel(benchmark::State& state, peer k, problem p) {
  std::string why;
  case_buffers* cb = buffers_for(p, why);
  if (cb == nullptr) {
    fail(state, why);
    return;
  }
  std::unique_ptr<runner> r;
  try {
    r = make_runner(k, *cb);
    const tensor_set& s0 = cb->sets[0];
    float* out0 = p.op == op_kind::backward ? s0.dx : s0.y;
    std::fill_n(out0, cb->expected.size(), std::numeric_limits<float>::quiet_NaN());
    r->run(0);
    floats got(cb->expected.size());
    r->output(got.data());
    why = check_output(*cb, got.data());
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!why.empty()) {
    fail(state, std::string(name_of(k)) + ": " + why);
    return;
  }
  // Two untimed calls, so that one-time costs (libtorch's allocator
  // settling on where its outputs go, first-touch of scratch memory) are not
  // in the first timed iterations.
  const std::size_t sets = cb->sets.size();
  std::size_t i = 1 % sets;
  for (int warm = 0; warm < 2; ++warm) {
    r->run(i);
    if (++i == sets) i = 0;
  }
  const long faults = minor_faults();
  for (auto _ : state) {
    r->run(i);
    if (++i == sets) i = 0;
  }
  state.counters["faults_per_call"] =
      benchmark::Counter(static_cast<double>(minor_faults() - faults), benchmark::Counter::kAvgIterations);
  if (k == peer::eigen) {
    if (const std::string& e = static_cast<eigen_runner&>(*r).error(); !e.empty()) {
      fail(state, e);
      return;
    }
  }
  state.SetLabel(r->label());
  set_counters(state, cb->op_bytes, sets, cb->set_bytes);
}

enum class stream_op { copy, copy_unrotated, triad };

// Copy (2 tensors of traffic) and triad a = b + s*c (3 tensors) of one data
// tensor's size, on the same threads as the kernels.
void time_stream(benchmark::State& state, stream_op op, shape s) {
  const auto count = static_cast<std::size_t>(s.n * s.c * s.h * s.w);
  const std::size_t tensors = op == stream_op::triad ? 3 : 2;
  const std::size_t set_bytes = tensors * count * sizeof(float);
  const std::size_t sets = op == stream_op::copy_unrotated ? 1 : rotation_count(set_bytes);
  const stream_buffers* b = stream_buffers_for(count, tensors, sets);
  const int threads = thread_count();
  std::size_t i = 0;
  for (auto _ : state) {
    if (op == stream_op::triad)
      stream_triad(b->at(i, 0), b->at(i, 1), b->at(i, 2), 3.0f, count, threads);
    else
      stream_copy(b->at(i, 0), b->at(i, 1), count, threads);
    if (++i == sets) i = 0;
  }
  set_counters(state, set_bytes, sets, set_bytes);
}

// The two passes of a channel-last training or backward of s's size
// (stream_two_pass): x, or x and dy, read, then read again while y or dx is
// written, the second pass from the last block to the first in our
// kernel's blocks (eigen::backwards_block_bytes: one core's L2). No
// channel's statistics are complete before the last row, so every
// channel-last kernel makes two such passes unless
// the tensors stay in a cache between them: this is what they cost on this
// machine, counted as the case's op bytes so that its × floor compares with
// the kernels'. Its output on set 0 is checked once, like a kernel's.
void time_two_pass(benchmark::State& state, op_kind op, shape s) {
  const auto count = static_cast<std::size_t>(s.n * s.c * s.h * s.w);
  const bool backward = op == op_kind::backward;
  // Three tensors for both ops, so that the case's triad and this share one
  // stream_buffers (training leaves the third unused).
  const std::size_t set_bytes = 3 * count * sizeof(float);
  const std::size_t sets = rotation_count(set_bytes);
  const stream_buffers* b = stream_buffers_for(count, 3, sets);
  const int threads = thread_count();
  const auto block =
      static_cast<std::size_t>(bncheck::eigen::backwards_block_bytes(bncheck::eigen::caches())) / sizeof(float);
  const float f = 3.0f;
  auto run = [&](std::size_t i) {
    stream_two_pass(b->at(i, 0), b->at(i, 1), backward ? b->at(i, 2) : nullptr, f, count, block, threads);
  };
  // The inputs hold 1 (stream_buffers_for), so every output is 1 + f or f.
  float* out0 = b->at(0, 0);
  std::fill_n(out0, count, std::numeric_limits<float>::quiet_NaN());
  run(0);
  const float want = backward ? 1.0f + f : f;
  const float* wrong = std::find_if(out0, out0 + count, [&](float v) { return v != want; });
  if (const auto bad = static_cast<std::size_t>(wrong - out0); bad != count) {
    fail(state, "two_pass: element " + std::to_string(bad) + " is " + std::to_string(out0[bad]) + ", not " +
                    std::to_string(want));
    return;
  }
  std::size_t i = 1 % sets;
  for (auto _ : state) {
    run(i);
    if (++i == sets) i = 0;
  }
  set_counters(state, (backward ? 3 : 2) * count * sizeof(float), sets, set_bytes);
}

// Copy of 8 MiB tensors rotating through a working set of ws_mib MiB (one
// set is 16 MiB): where the bandwidth falls is the cache really available.
void time_cache_probe(benchmark::State& state, std::size_t ws_mib) {
  constexpr std::size_t count = std::size_t{2} << 20;
  const std::size_t set_bytes = 2 * count * sizeof(float);
  const std::size_t sets = std::max<std::size_t>(1, (ws_mib << 20) / set_bytes);
  const stream_buffers* b = stream_buffers_for(count, 2, sets);
  const int threads = thread_count();
  std::size_t i = 0;
  for (auto _ : state) {
    stream_copy(b->at(i, 0), b->at(i, 1), count, threads);
    if (++i == sets) i = 0;
  }
  set_counters(state, set_bytes, sets, set_bytes);
}

void register_all() {
  for (std::size_t ws_mib = 16; ws_mib <= 2048; ws_mib *= 2)
    benchmark::RegisterBenchmark(("cache_probe/any/WS" + std::to_string(ws_mib) + "MiB/stream").c_str(),
                                 time_cache_probe, ws_mib)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  std::vector<peer> peers = {peer::eigen};
#ifdef BNCHECK_BENCH_ONEDNN
  peers.push_back(peer::onednn);
  peers.push_back(peer::onednn_nspc);
#endif
#ifdef BNCHECK_BENCH_LIBTORCH
  peers.push_back(peer::libtorch);
#endif
  for (const shape& s : shapes) {
    for (const auto& [op, name] : {std::pair{stream_op::copy, "copy"}, std::pair{stream_op::copy_unrotated, "copy_unrotated"},
                                   std::pair{stream_op::triad, "triad"}})
      benchmark::RegisterBenchmark((std::string(name) + "/any/" + s.name + "/stream").c_str(), time_stream, op, s)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    const std::vector<layout> layouts =
        s.spatial ? std::vector<layout>{layout::nchw, layout::nhwc} : std::vector<layout>{layout::nc};
    for (layout lay : layouts)
      for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}) {
        const std::string c = std::string(to_string(op)) + "/" + std::string(to_string(lay)) + "/" + s.name + "/";
        for (peer k : peers) {
          if (k == peer::onednn_nspc && lay != layout::nc) continue;
          benchmark::RegisterBenchmark((c + name_of(k)).c_str(), time_kernel, k, make_problem(op, lay, s))
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        }
        if (lay != layout::nchw && op != op_kind::forward_inference)
          benchmark::RegisterBenchmark((c + "two_pass").c_str(), time_two_pass, op, s)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        // The triad again, as one of the case (bench/run gives each case
        // its own process, repetitions interleaved with the kernels'): one
        // more sample of the floor's bandwidth. bench/report.py takes the
        // floor of every case of a shape from the median of all its triads,
        // as the ordinary-store triad swings more than the kernels do.
        benchmark::RegisterBenchmark((c + "triad").c_str(), time_stream, stream_op::triad, s)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
  }
}

// Takes --threads=N out of argv and exports it as BNCHECK_THREADS (main also
// hands the count to eigen::set_threads, OpenMP and at::set_num_threads).
void take_threads_flag(int& argc, char** argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      setenv("BNCHECK_THREADS", argv[i] + 10, 1);
    else
      argv[out++] = argv[i];
  }
  argc = out;
}

}  // namespace
}  // namespace bncheck::bench

int main(int argc, char** argv) {
  using namespace bncheck::bench;
  take_threads_flag(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const int threads = thread_count();
  setenv("BNCHECK_THREADS", std::to_string(threads).c_str(), 1);
  benchmark::AddCustomContext("bncheck_threads", std::to_string(threads));
  benchmark::AddCustomContext("bncheck_rotation_bytes", std::to_string(rotation_bytes()));
  if (reuse_output())  // the outputs do not rotate: working_set_MiB overstates what is rotated
    benchmark::AddCustomContext("bncheck_reuse_output", "1 (every set writes one output buffer)");
  bncheck::eigen::set_threads(threads);
  const bncheck::eigen::cache_sizes caches = bncheck::eigen::caches();
  const std::string maker = bncheck::eigen::cpu_maker();
  benchmark::AddCustomContext("bncheck_eigen",
                              bncheck::eigen::isa() + ", " + std::to_string(bncheck::eigen::threads()) +
                                  " threads, caches L1d " + std::to_string(caches.l1d >> 10) + " KiB, L2 " +
                                  std::to_string(caches.l2 >> 10) + " KiB, L3 " + std::to_string(caches.l3 >> 20) +
                                  " MiB (" + caches.source + "), maker " + maker +
                                  " (backward sums prefetch parts of rows: " +
                                  (bncheck::eigen::prefetches_part_rows(maker) ? "yes" : "no") + ")");
#ifdef BNCHECK_BENCH_ONEDNN
  set_onednn_threads(threads);
  benchmark::AddCustomContext("bncheck_onednn", onednn_version());
#endif
#ifdef BNCHECK_BENCH_LIBTORCH
  set_libtorch_threads(threads);
  benchmark::AddCustomContext("bncheck_libtorch", libtorch_version());
#endif
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  release_buffers();
  benchmark::Shutdown();
  if (failures > 0) {
    std::fprintf(stderr, "bench_cpu: %d benchmark(s) failed their set-up or output check (ERROR OCCURRED above)\n",
                 failures);
    return 2;
  }
  return 0;
}
