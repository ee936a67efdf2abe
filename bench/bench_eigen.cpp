// Throughput of the Eigen kernel (f32 data and parameters) on layers from
// vision networks and a wide fully connected layer, next to a plain copy of
// the same bytes as the bandwidth ceiling. Each data tensor is 17-26 MB, far
// above the L2; the buffers are not rotated between iterations, so where the
// last-level cache holds them repeated runs partly hit it (bench/RESULTS.md
// says what the machine reported).
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/fill.hpp"
#include "core/kernel.hpp"

namespace bncheck {
namespace {

struct shape {
  const char* name;
  layout lay;
  int64_t n, c, h, w;
};

constexpr shape shapes[] = {
    {"N32C256H28W28", layout::nchw, 32, 256, 28, 28}, {"N32C256H28W28", layout::nhwc, 32, 256, 28, 28},
    {"N32C64H56W56", layout::nchw, 32, 64, 56, 56},   {"N32C64H56W56", layout::nhwc, 32, 64, 56, 56},
    {"N4096C1024", layout::nc, 4096, 1024, 1, 1},
};

problem make_problem(op_kind op, const shape& s) {
  problem p;
  p.op = op;
  p.lay = s.lay;
  p.data_type = dtype::f32;
  p.param_type = dtype::f32;
  p.n = s.n, p.c = s.c, p.h = s.h, p.w = s.w;
  return p;
}

std::vector<float> floats(const fill_spec& f, int64_t count, fill_stream stream) {
  const std::vector<double> v = generate(f, dtype::f32, count, 1, stream);
  return {v.begin(), v.end()};
}

// Buffers of one problem, filled with the default fills.
struct buffers {
  std::vector<float> x, dy, y, dx, gamma, beta, mean, var, invstd, running_mean, running_var;
  kernel_io io;

  explicit buffers(const problem& p) {
    const int64_t count = element_count(p);
    x = floats(default_x_fill, count, fill_stream::x);
    dy = floats(default_dy_fill, count, fill_stream::dy);
    y.assign(static_cast<std::size_t>(count), 0.0f);
    dx.assign(static_cast<std::size_t>(count), 0.0f);
    gamma = floats(default_gamma_fill, p.c, fill_stream::gamma);
    beta = floats(default_beta_fill, p.c, fill_stream::beta);
    running_mean = floats(default_rmean_fill, p.c, fill_stream::running_mean);
    running_var = floats(default_rvar_fill, p.c, fill_stream::running_var);
    mean.assign(static_cast<std::size_t>(p.c), 0.0f);
    var = invstd = mean;
    io.x = x.data();
    io.gamma = gamma.data();
    io.beta = beta.data();
    io.y = y.data();
    io.mean = mean.data();
    io.var = var.data();
    io.invstd = invstd.data();
    io.running_mean = running_mean.data();
    io.running_var = running_var.data();
    io.dy = dy.data();
    io.dx = dx.data();
  }
};

void run_op(benchmark::State& state, op_kind op, shape s) {
  const problem p = make_problem(op, s);
  buffers b(p);
  std::vector<float> dgamma(static_cast<std::size_t>(p.c)), dbeta(dgamma);
  auto k = make_kernel("eigen");
  if (op == op_kind::backward) {
    // Saved statistics from a training pass, as a framework would hand them over.
    problem fwd = p;
    fwd.op = op_kind::forward_training;
    k->run(fwd, b.io);
    b.io.dgamma = dgamma.data();
    b.io.dbeta = dbeta.data();
  }
  for (auto _ : state) {
    const kernel_result r = k->run(p, b.io);
    if (r.status != kernel_status::ok) {
      state.SkipWithError(r.message.c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  // Minimum traffic: forward reads x and writes y; backward reads x and dy and
  // writes dx. Per-channel tensors are negligible.
  const int64_t tensor_bytes = element_count(p) * 4;
  state.SetBytesProcessed(state.iterations() * tensor_bytes * (op == op_kind::backward ? 3 : 2));
}

// memcpy of one data tensor: reads and writes tensor_bytes each.
void run_copy(benchmark::State& state, shape s) {
  const problem p = make_problem(op_kind::forward_inference, s);
  const buffers b(p);
  std::vector<float> out(b.x.size());
  for (auto _ : state) {
    std::memcpy(out.data(), b.x.data(), b.x.size() * sizeof(float));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(b.x.size() * sizeof(float)) * 2);
}

void register_all() {
  for (const shape& s : shapes) {
    const std::string where = std::string(to_string(s.lay)) + "/" + s.name + "/f32";
    benchmark::RegisterBenchmark(("copy/" + where).c_str(), run_copy, s)->Unit(benchmark::kMillisecond);
    for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
      benchmark::RegisterBenchmark((std::string(to_string(op)) + "/" + where).c_str(), run_op, op, s)
          ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace bncheck

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bncheck::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
