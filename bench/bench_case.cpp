// Shapes, thread count, rotated buffer sets and the output check of bench_cpu.
#include "bench/bench_case.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <sstream>

#include "core/fill.hpp"
#include "core/kernel.hpp"
#include "impl/eigen/caches.hpp"
#include "kernels/registry.hpp"

namespace bncheck::bench {

problem make_problem(op_kind op, layout lay, const shape& s) {
  problem p;
  p.op = op;
  p.lay = lay;
  p.data_type = dtype::f32;
  p.param_type = dtype::f32;
  p.n = s.n, p.c = s.c, p.h = s.h, p.w = s.w;
  return p;
}

namespace {

// A positive integer from the environment, or fallback.
long env_count(const char* name, long fallback) {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return fallback;
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  return *end == '\0' && v > 0 ? v : fallback;
}

}  // namespace

int thread_count() { return static_cast<int>(std::min(env_count("BNCHECK_THREADS", 2), 4096L)); }

std::size_t rotation_bytes() {
  const long mib = env_count("BNCHECK_BENCH_ROTATE_MIB", 0);
  if (mib > 0) return static_cast<std::size_t>(mib) << 20;
  const auto l3 = static_cast<std::size_t>(bncheck::eigen::caches().l3);
  return std::max<std::size_t>(std::size_t{1} << 30, 2 * l3);
}

bool reuse_output() { return env_count("BNCHECK_BENCH_REUSE_OUTPUT", 0) == 1; }

std::size_t rotation_count(std::size_t set_bytes) {
  return std::max<std::size_t>(1, (rotation_bytes() + set_bytes - 1) / set_bytes);
}

floats::floats(std::size_t count) : n_(count) {
  const std::size_t bytes = (count * sizeof(float) + 4095) / 4096 * 4096;
  p_.reset(static_cast<float*>(std::aligned_alloc(4096, std::max<std::size_t>(bytes, 4096))));
  if (!p_) throw std::bad_alloc();
}

void floats::release::operator()(float* p) const { std::free(p); }

namespace {

floats filled(const fill_spec& f, int64_t count, fill_stream stream) {
  const std::vector<double> v = generate(f, dtype::f32, count, 0, stream);
  floats out(static_cast<std::size_t>(count));
  std::copy(v.begin(), v.end(), out.data());
  return out;
}

floats nans(std::size_t count) {
  floats out(count);
  std::fill_n(out.data(), count, std::numeric_limits<float>::quiet_NaN());
  return out;
}

kernel_io io_of(case_buffers& cb, const tensor_set& s) {
  kernel_io io;
  io.x = s.x;
  io.dy = s.dy;
  io.y = s.y;
  io.dx = s.dx;
  io.gamma = cb.gamma.data();
  io.beta = cb.beta.data();
  io.mean = cb.mean.data();
  io.var = cb.var.data();
  io.invstd = cb.invstd.data();
  io.running_mean = cb.running_mean.data();
  io.running_var = cb.running_var.data();
  io.dgamma = cb.dgamma.data();
  io.dbeta = cb.dbeta.data();
  return io;
}

// Allocates and fills every set and the per-channel tensors, and computes
// the expected output with the Eigen kernel.
std::unique_ptr<case_buffers> build(const problem& p, std::string& why) {
  auto cb = std::make_unique<case_buffers>();
  cb->p = p;
  const bool backward = p.op == op_kind::backward;
  const auto count = static_cast<std::size_t>(element_count(p));
  cb->tensor_bytes = count * sizeof(float);
  cb->op_bytes = cb->tensor_bytes * (backward ? 3 : 2);
  cb->set_bytes = cb->op_bytes;
  const std::size_t k = rotation_count(cb->set_bytes);

  const floats x = filled(p.x, element_count(p), fill_stream::x);
  const floats dy = backward ? filled(p.dy, element_count(p), fill_stream::dy) : floats();
  auto copy_of = [&](const floats& from) {
    floats f(count);
    std::memcpy(f.data(), from.data(), cb->tensor_bytes);
    return f;
  };
  const bool reuse = reuse_output();
  for (std::size_t i = 0; i < k; ++i) {
    tensor_set s;
    s.x = cb->storage.emplace_back(copy_of(x)).data();
    if (backward) s.dy = cb->storage.emplace_back(copy_of(dy)).data();
    float*& out = backward ? s.dx : s.y;
    out = reuse && i > 0 ? (backward ? cb->sets[0].dx : cb->sets[0].y) : cb->storage.emplace_back(nans(count)).data();
    cb->sets.push_back(s);
  }
  cb->gamma = filled(p.gamma, p.c, fill_stream::gamma);
  cb->beta = filled(p.beta, p.c, fill_stream::beta);
  cb->running_mean = filled(p.running_mean, p.c, fill_stream::running_mean);
  cb->running_var = filled(p.running_var, p.c, fill_stream::running_var);
  const auto c = static_cast<std::size_t>(p.c);
  cb->mean = nans(c), cb->var = nans(c), cb->invstd = nans(c), cb->dgamma = nans(c), cb->dbeta = nans(c);
  cb->expected = nans(count);

  const auto k_eigen = make_kernel("eigen");
  tensor_set s0 = cb->sets[0];
  if (backward) {
    // Saved statistics of a training pass on the same x (every set holds it).
    problem fwd = p;
    fwd.op = op_kind::forward_training;
    tensor_set t = s0;
    t.y = cb->expected.data();
    if (const kernel_result r = k_eigen->run(fwd, io_of(*cb, t)); r.status != kernel_status::ok) {
      why = "eigen forward_training: " + r.message;
      return nullptr;
    }
    s0.dx = cb->expected.data();
  } else {
    s0.y = cb->expected.data();
  }
  if (const kernel_result r = k_eigen->run(p, io_of(*cb, s0)); r.status != kernel_status::ok) {
    why = "eigen: " + r.message;
    return nullptr;
  }
  return cb;
}

std::unique_ptr<case_buffers> held_case;
std::unique_ptr<stream_buffers> held_stream;

}  // namespace

case_buffers* buffers_for(const problem& p, std::string& why) {
  if (held_case && held_case->p == p) return held_case.get();
  held_case.reset();  // free the previous case before allocating this one
  held_case = build(p, why);
  return held_case.get();
}

stream_buffers* stream_buffers_for(std::size_t count, std::size_t tensors, std::size_t sets) {
  if (held_stream && held_stream->count == count && held_stream->tensors == tensors && held_stream->sets == sets)
    return held_stream.get();
  held_stream.reset();
  held_stream = std::make_unique<stream_buffers>();
  held_stream->count = count, held_stream->tensors = tensors, held_stream->sets = sets;
  for (std::size_t i = 0; i < sets * tensors; ++i) {
    floats& f = held_stream->storage.emplace_back(count);
    std::fill_n(f.data(), count, i % tensors == 0 ? 0.0f : 1.0f);
  }
  return held_stream.get();
}

void release_buffers() {
  held_case.reset();
  held_stream.reset();
}

std::string check_output(const case_buffers& cb, const float* got) {
  const std::size_t n = cb.expected.size();
  const float* want = cb.expected.data();
  double scale = 1.0, worst = 0.0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(d <= worst)) {  // also catches NaN
      worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
      at = i;
      if (std::isnan(d)) break;
    }
  }
  if (worst <= 1e-3 * scale) return {};
  std::ostringstream msg;
  msg << "output differs from the Eigen kernel's: element " << at << " is " << got[at] << ", Eigen gives "
      << want[at] << " (tolerance " << 1e-3 * scale << ")";
  return msg.str();
}

}  // namespace bncheck::bench
