// The fast paths of the Eigen kernel are exactly their specification: every
// instruction-set variant of fast/ reproduces, bit for bit, the generic loops
// of routines.hpp on f64 data and the scalar model of f32_model.hpp on f32
// data, and the kernel's outputs are the same bytes for every variant,
// thread count and layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernel.hpp"
#include "core/tensor.hpp"
#include "impl/eigen/caches.hpp"
#include "impl/eigen/eigen_kernel.hpp"
#include "impl/eigen/fast/fast.hpp"
#include "impl/eigen/reduction.hpp"
#include "impl/eigen/routines.hpp"
#include "tests/impl/direct_call.hpp"
#include "impl/eigen/f32_model.hpp"
#include "kernels/registry.hpp"

namespace bncheck {
namespace {

using testing::call_direct;
using testing::direct_call;

// Restores the automatic instruction set and thread count however a test ends.
struct settings_guard {
  ~settings_guard() {
    eigen::set_isa("");
    eigen::set_threads(0);
    eigen::set_chunk_window(0);
    eigen::set_cache_sizes(0, 0, 0);
  }
};

const eigen::fast::table& variant(const std::string& name) {
  if (name == "avx512") return eigen::fast::table_avx512();
  if (name == "avx2") return eigen::fast::table_avx2();
  return eigen::fast::table_sse2();
}

// Values around 3 with a spread of 2, a few far off, and exact repeats, so
// that sums round in every lane.
template <class T>
std::vector<T> values(int64_t count, uint64_t seed, double offset) {
  std::vector<T> v(static_cast<std::size_t>(count));
  uint64_t s = seed;
  for (auto& e : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(s >> 11) * 0x1p-53;
    e = static_cast<T>(offset + 4 * u - 2 + ((s >> 5) % 97 == 0 ? 1e3 : 0));
  }
  return v;
}

template <class T>
const eigen::fast::ops<T>& ops_of(const eigen::fast::table& t) {
  if constexpr (std::is_same_v<T, float>)
    return t.f32;
  else
    return t.f64;
}

// Channel-last statistics or sums through the fast loops' chunk results, in
// two calls (chunks [0, K/2) and [K/2, K)), pushed per channel in chunk order
// into reduction.hpp's tree, as eigen_kernel.cpp merges them.
template <class Item, class Chunks>
void by_chunks(const eigen::fast::dims& d, std::vector<double>& first,
               std::vector<double>& second, Chunks&& chunks) {
  const int64_t C = d.c, M = d.m(), K = (M + eigen::chunk_length - 1) / eigen::chunk_length;
  std::vector<double> a(static_cast<std::size_t>(K * C)), b(a.size());
  chunks(0, K / 2, a.data(), b.data());
  chunks(K / 2, K, a.data() + K / 2 * C, b.data() + K / 2 * C);
  for (int64_t ch = 0; ch < C; ++ch) {
    eigen::pairwise_tree<Item> t;
    for (int64_t k = 0; k < K; ++k) {
      const auto at = static_cast<std::size_t>(k * C + ch);
      if constexpr (std::is_same_v<Item, eigen::sum_pair<double>>) {
        t.push({a[at], b[at]});
      } else {
        const auto len = static_cast<double>(std::min(eigen::chunk_length, M - k * eigen::chunk_length));
        t.push({len, a[at], b[at]});
      }
    }
    const Item all = t.finish();
    if constexpr (std::is_same_v<Item, eigen::sum_pair<double>>)
      first[ch] = all.first, second[ch] = all.second;
    else
      first[ch] = all.mean, second[ch] = all.m2;
  }
}

// stream: outputs through the staging buffer and non-temporal stores, which
// the kernel uses for outputs from twice its threads' L2s on (caches.hpp).
// Bit patterns, so that NaN outputs compare too.
template <class V>
std::vector<uint64_t> bits(const std::vector<V>& v) {
  std::vector<uint64_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) std::memcpy(&b[i], &v[i], sizeof(V));
  return b;
}

// The index of value j (logical order i*S + s) of channel ch.
int64_t index_of(const eigen::fast::dims& d, bool last, int64_t ch, int64_t j) {
  const int64_t i = j / d.s, s = j % d.s;
  return last ? j * d.c + ch : (i * d.c + ch) * d.s + s;
}

// What the fast loops must give: routines.hpp for f64 data, the scalar model
// for f32 data (whose per-channel arrays are those of the fast loops' calls).
template <class T>
struct expected {
  std::vector<double> mean, m2, sum_dy, sum_dy_xc;
  std::vector<T> y, dx;
};

template <class T>
expected<T> expected_of(const problem& p, const eigen::fast::dims& d, const std::vector<T>& x,
                        const std::vector<T>& dy, const std::vector<double>& shift,
                        const std::vector<double>& scale, const std::vector<double>& bias) {
  const int64_t c = d.c, count = element_count(p);
  expected<T> e{std::vector<double>(c), std::vector<double>(c), std::vector<double>(c),
                std::vector<double>(c), std::vector<T>(count), std::vector<T>(count)};
  if constexpr (std::is_same_v<T, double>) {
    const eigen::channel_range all{0, c};
    eigen::batch_moments(p, x.data(), all, e.mean.data(), e.m2.data());
    eigen::normalize(p, x.data(), e.y.data(), all, shift.data(), scale.data(), bias.data());
    eigen::backward_sums(p, x.data(), dy.data(), all, shift.data(), e.sum_dy.data(),
                         e.sum_dy_xc.data());
    eigen::backward_dx(p, x.data(), dy.data(), e.dx.data(), all, shift.data(), bias.data(),
                       scale.data(), shift.data());
  } else {
    const bool last = channel_last(p.lay);
    for (int64_t ch = 0; ch < c; ++ch) {
      std::vector<float> xs, dys;
      for (int64_t j = 0; j < d.m(); ++j) {
        xs.push_back(x[index_of(d, last, ch, j)]);
        dys.push_back(dy[index_of(d, last, ch, j)]);
      }
      eigen::f32_model::moments(xs, e.mean[ch], e.m2[ch]);
      eigen::f32_model::sums(xs, dys, shift[ch], e.sum_dy[ch], e.sum_dy_xc[ch]);
      for (int64_t j = 0; j < d.m(); ++j) {
        const int64_t at = index_of(d, last, ch, j);
        e.y[at] = eigen::f32_model::y(x[at], shift[ch], scale[ch], bias[ch]);
        e.dx[at] = eigen::f32_model::dx(x[at], dy[at], shift[ch], bias[ch], scale[ch], shift[ch]);
      }
    }
  }
  return e;
}

// stream: outputs through the staging buffer and non-temporal stores, which
// the kernel uses for outputs from twice its threads' L2s on (caches.hpp).
// backwards: channel-last elementwise passes in blocks of rows from the last
// (fast.hpp), as after statistics. edit, if given, changes the inputs and
// per-channel factors before the comparison.
template <class T, class Edit>
void expect_fast_equals_generic(const std::string& isa, layout lay, int64_t n, int64_t c,
                                int64_t h, int64_t w, bool stream, bool backwards, Edit&& edit) {
  problem p;
  p.lay = lay;
  p.n = n, p.c = c, p.h = h, p.w = w;
  const eigen::fast::dims d{n, c, spatial_size(p), stream, backwards};
  const int64_t count = element_count(p);
  std::vector<T> x = values<T>(count, 1, 3), dy = values<T>(count, 2, 0);
  std::vector<double> shift(values<double>(c, 3, 3)), scale(values<double>(c, 4, 1)),
      bias(values<double>(c, 5, 0));
  edit(d, channel_last(lay), x, dy, shift, scale, bias);
  const auto& o = ops_of<T>(variant(isa));
  const std::string what =
      isa + (stream ? " streaming " : " ") + (backwards ? "backwards " : "") + to_text(p);
  const bool last = channel_last(lay);
  const expected<T> e = expected_of(p, d, x, dy, shift, scale, bias);

  std::vector<double> m2(c), q2(c);
  if (last)
    by_chunks<eigen::moments<double>>(d, m2, q2, [&](int64_t k0, int64_t k1, double* a, double* b) {
      o.chunk_moments_cl(d, x.data(), k0, k1, a, b);
    });
  else
    o.moments_cf(d, x.data(), 0, c, m2.data(), q2.data());
  EXPECT_EQ(bits(e.mean), bits(m2)) << "mean, " << what;
  EXPECT_EQ(bits(e.m2), bits(q2)) << "m2, " << what;

  // Outputs at several offsets from a 64-byte boundary: a streamed
  // channel-last output whose rows are whole lines is written line by line
  // from its first boundary (f32-inl.hpp: for_each_line_group); a
  // channel-first sample's channels are one region, in vectors aligned to
  // the output that may span two channels (over_regions_f32).
  std::vector<T> room(static_cast<std::size_t>(count) + 64);
  auto output_at = [&](int64_t k) {
    T* p = room.data();
    while (reinterpret_cast<uintptr_t>(p) % 64 != 0) ++p;
    return p + k;
  };
  auto written = [&](const T* out) { return std::vector<T>(out, out + count); };
  const int64_t offsets[] = {0, 1, 5, 64 / int64_t{sizeof(T)} - 1};
  for (int64_t k : offsets) {
    T* out = output_at(k);
    if (last)
      o.normalize_cl(d, x.data(), out, 0, d.m(), shift.data(), scale.data(), bias.data());
    else
      o.normalize_cf(d, x.data(), out, 0, c, shift.data(), scale.data(), bias.data());
    EXPECT_EQ(bits(e.y), bits(written(out))) << "y " << k << " elements past a line, " << what;
  }

  // Channel-last sums under both prefetch rules (fast.hpp:
  // dims::prefetch_part_rows; more than 256 channels take units of parts of
  // rows): a hint, so the same bits.
  for (bool prefetch : {true, false}) {
    if (!last && !prefetch) break;
    eigen::fast::dims dp = d;
    dp.prefetch_part_rows = prefetch;
    auto sums = [&](int64_t k0, int64_t k1, double* a, double* b) {
      o.chunk_sums_cl(dp, x.data(), dy.data(), k0, k1, shift.data(), a, b);
    };
    if (last)
      by_chunks<eigen::sum_pair<double>>(dp, m2, q2, sums);
    else
      o.sums_cf(d, x.data(), dy.data(), 0, c, shift.data(), m2.data(), q2.data());
    const std::string rule = prefetch ? "" : "no prefetch of parts of rows, ";
    EXPECT_EQ(bits(e.sum_dy), bits(m2)) << "sum(dy), " << rule << what;
    EXPECT_EQ(bits(e.sum_dy_xc), bits(q2)) << "sum(dy (x - mean)), " << rule << what;
  }

  for (int64_t k : offsets) {
    T* out = output_at(k);
    if (last)
      o.dx_cl(d, x.data(), dy.data(), out, 0, d.m(), shift.data(), bias.data(), scale.data(),
              shift.data());
    else
      o.dx_cf(d, x.data(), dy.data(), out, 0, c, shift.data(), bias.data(), scale.data(),
              shift.data());
    EXPECT_EQ(bits(e.dx), bits(written(out))) << "dx " << k << " elements past a line, " << what;
  }
  if (last) return;

  // The pipelined channel-first loops, in blocks of 2 channels (so that a
  // block's y or dx is written while the next block is read): the same bits
  // as the separate calls above, with factors computed per block.
  struct block_factors {
    const eigen::fast::dims& d;
    std::vector<double> mean, m2, sum_dy, sum_dy_xc, scale, dy_mean;
  } ctx{d, std::vector<double>(c), std::vector<double>(c), std::vector<double>(c),
        std::vector<double>(c), std::vector<double>(c), std::vector<double>(c)};
  auto forward_factors = [](void* p, int64_t c0, int64_t c1) {
    auto& f = *static_cast<block_factors*>(p);
    for (int64_t ch = c0; ch < c1; ++ch) f.scale[ch] = 1.0 / (1.0 + f.m2[ch]);
  };
  std::vector<T> y3(count);
  o.train_cf(d, x.data(), y3.data(), 0, c, 2, ctx.mean.data(), ctx.m2.data(), forward_factors,
             &ctx, ctx.mean.data(), ctx.scale.data(), bias.data());
  EXPECT_EQ(bits(e.mean), bits(ctx.mean)) << "train_cf mean, " << what;
  EXPECT_EQ(bits(e.m2), bits(ctx.m2)) << "train_cf m2, " << what;
  std::vector<T> y4(count);
  o.normalize_cf(d, x.data(), y4.data(), 0, c, e.mean.data(), ctx.scale.data(), bias.data());
  EXPECT_EQ(bits(y4), bits(y3)) << "train_cf y, " << what;

  auto backward_factors = [](void* p, int64_t c0, int64_t c1) {
    auto& f = *static_cast<block_factors*>(p);
    for (int64_t ch = c0; ch < c1; ++ch) {
      f.dy_mean[ch] = f.sum_dy[ch] / static_cast<double>(f.d.m());
      f.scale[ch] = f.sum_dy_xc[ch] / (1.0 + f.sum_dy[ch] * f.sum_dy[ch]);
    }
  };
  o.backward_cf(d, x.data(), dy.data(), y3.data(), 0, c, 2, shift.data(), ctx.sum_dy.data(),
                ctx.sum_dy_xc.data(), backward_factors, &ctx, ctx.dy_mean.data(),
                ctx.scale.data(), bias.data());
  EXPECT_EQ(bits(e.sum_dy), bits(ctx.sum_dy)) << "backward_cf sum(dy), " << what;
  EXPECT_EQ(bits(e.sum_dy_xc), bits(ctx.sum_dy_xc)) << "backward_cf sum(dy (x - mean)), " << what;
  o.dx_cf(d, x.data(), dy.data(), y4.data(), 0, c, shift.data(), ctx.dy_mean.data(),
          ctx.scale.data(), bias.data());
  EXPECT_EQ(bits(y4), bits(y3)) << "backward_cf dx, " << what;
}

template <class T>
void expect_fast_equals_generic(const std::string& isa, layout lay, int64_t n, int64_t c,
                                int64_t h, int64_t w, bool stream, bool backwards) {
  expect_fast_equals_generic<T>(isa, lay, n, c, h, w, stream, backwards, [](auto&&...) {});
}

TEST(eigen_dispatch, every_variant_reproduces_the_generic_loops_bit_for_bit) {
  // Chunks straddling samples, a short last chunk, lane tails (M % 8 != 0),
  // channel counts that are not a multiple of any vector width, a single
  // value per channel, more channels than one channel-last group holds or
  // than a staging buffer holds in one row, and runs longer than it; rows
  // for several backwards blocks (nc 2000 x 300: 873 f32 rows or 436 f64
  // rows per MiB); rows of whole lines (176 channels), four at a time and
  // fewer, over several blocks; rows of a whole 4 KiB page (1024
  // f32 channels), which a streamed output also takes four at a time; rows
  // of one to four lines (16, 32, 48, 64 channels), whose factors the f32
  // passes hold in registers, over several backwards blocks (nc 5000 x 64:
  // 4096 f32 rows per MiB).
  struct shape {
    layout lay;
    int64_t n, c, h, w;
  };
  const shape shapes[] = {{layout::nchw, 5, 7, 11, 13}, {layout::nhwc, 5, 7, 11, 13},
                          {layout::nchw, 3, 19, 7, 7},  {layout::nhwc, 3, 19, 7, 7},
                          {layout::nchw, 40, 3, 9, 8},  {layout::nhwc, 40, 3, 9, 8},
                          {layout::nc, 1, 9, 1, 1},     {layout::nc, 1029, 13, 1, 1},
                          {layout::nc, 300, 1100, 1, 1},  {layout::nc, 10, 5000, 1, 1},
                          {layout::nchw, 2, 3, 100, 100}, {layout::nc, 2000, 300, 1, 1},
                          {layout::nhwc, 3, 32, 5, 7},    {layout::nc, 1500, 176, 1, 1},
                          {layout::nc, 303, 1024, 1, 1},  {layout::nc, 333, 16, 1, 1},
                          {layout::nhwc, 2, 48, 9, 7},    {layout::nc, 5000, 64, 1, 1}};
  for (const std::string& isa : eigen::supported_isas())
    for (const shape& s : shapes)
      for (bool stream : {false, true})
        for (bool backwards : {false, true}) {
          expect_fast_equals_generic<float>(isa, s.lay, s.n, s.c, s.h, s.w, stream, backwards);
          expect_fast_equals_generic<double>(isa, s.lay, s.n, s.c, s.h, s.w, stream, backwards);
        }
}

// f32 data at the edges of f32's range, where the fast loops fall back to
// f64 arithmetic per chunk, per channel or per element (f32-inl.hpp): each
// variant still reproduces the model, in both layouts, streaming or not.
TEST(eigen_dispatch, f32_fallbacks_reproduce_the_model_bit_for_bit) {
  auto edit = [](const eigen::fast::dims& d, bool last, std::vector<float>& x,
                 std::vector<float>& dy, std::vector<double>& shift, std::vector<double>& scale,
                 std::vector<double>& bias) {
    for (int64_t j = 0; j < d.m(); ++j) {
      auto at = [&](int64_t ch) { return static_cast<std::size_t>(index_of(d, last, ch, j)); };
      // Channel 0: a spread of 3e19, whose squares overflow f32.
      x[at(0)] = (j % 3 == 0 ? 3e19f : -1e19f) + static_cast<float>(j);
      // Channel 1: values of +-3e38, whose differences overflow too.
      x[at(1)] = j % 2 == 0 ? 3e38f : -3e38f;
      // Channel 2: products dy * (x - mean) that overflow f32.
      x[at(2)] = j % 2 == 0 ? 1e20f : -1e20f;
      dy[at(2)] = j % 2 == 0 ? 1e20f : 2e20f;
    }
    // Channel 3: a NaN; channel 8: an infinity (both halfway through).
    x[index_of(d, last, 3, d.m() / 2)] = std::numeric_limits<float>::quiet_NaN();
    x[index_of(d, last, 8, d.m() / 2)] = std::numeric_limits<float>::infinity();
    // Factors (for dx: mean = shift, dy_mean = bias, coef = scale, scale =
    // shift): channel 4's shift is beyond f32; channel 5's scale rounds to an
    // f32 subnormal; channel 6's (3e38) overflows in f32 where the f64
    // formula, with bias -3e38, does not; channel 7's bias is beyond f32.
    shift[4] = 1e39;
    scale[5] = 1e-40;
    scale[6] = 3e38;
    bias[6] = -3e38;
    bias[7] = -1e39;
  };
  // Only factors f32 holds, so that channel-first passes take whole regions
  // (over_regions_f32) and fix the elements that are not finite after it:
  // channel 3's NaN input and channel 6's overflow. 80 channels: more than
  // the regions keep on the stack.
  auto held = [](const eigen::fast::dims& d, bool last, std::vector<float>& x, std::vector<float>&,
                 std::vector<double>&, std::vector<double>& scale, std::vector<double>& bias) {
    x[index_of(d, last, 3, d.m() / 2)] = std::numeric_limits<float>::quiet_NaN();
    scale[6] = 3e38;
    bias[6] = -3e38;
  };
  for (const std::string& isa : eigen::supported_isas())
    for (layout lay : {layout::nchw, layout::nhwc})
      for (bool stream : {false, true}) {
        expect_fast_equals_generic<float>(isa, lay, 3, 21, 10, 10, stream, false, edit);
        expect_fast_equals_generic<float>(isa, lay, 2, 17, 3, 5, stream, false, edit);
        expect_fast_equals_generic<float>(isa, lay, 2, 80, 7, 7, stream, false, held);
      }
}

TEST(eigen_dispatch, baseline_is_always_supported_and_selectable) {
  settings_guard guard;
  const std::vector<std::string> isas = eigen::supported_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), "sse2");
  EXPECT_TRUE(eigen::set_isa("sse2"));
  EXPECT_EQ(eigen::isa(), "sse2");
  EXPECT_FALSE(eigen::set_isa("no-such-isa"));
  EXPECT_EQ(eigen::isa(), "sse2");
  eigen::set_threads(3);
  EXPECT_EQ(eigen::threads(), 3);
}

// Every output of p, as raw bytes, under the given variant and thread count.
std::map<std::string, std::vector<unsigned char>> outputs(kernel& k, const problem& p,
                                                          const tensor_map& in,
                                                          const std::string& isa, int threads) {
  EXPECT_TRUE(eigen::set_isa(isa));
  eigen::set_threads(threads);
  direct_call out = call_direct(k, p, in);
  EXPECT_EQ(out.result.status, kernel_status::ok) << out.result.message;
  std::map<std::string, std::vector<unsigned char>> r;
  for (const std::string& name : output_names(p)) r[name] = out.buffers.at(name);
  return r;
}

TEST(eigen_dispatch, outputs_are_identical_for_every_variant_and_thread_count) {
  settings_guard guard;
  auto k = make_kernel("eigen");
  // Above the one-thread threshold (2^17 elements), channel counts that two
  // and three threads split unevenly.
  struct shape {
    layout lay;
    int64_t n, c, h, w;
  };
  const shape shapes[] = {{layout::nchw, 3, 37, 37, 41},
                          {layout::nhwc, 3, 37, 37, 41},
                          {layout::nc, 700, 203, 1, 1}};
  for (dtype dt : {dtype::f32, dtype::f64, dtype::bf16})
    for (const shape& s : shapes)
      for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward}) {
        problem p;
        p.op = op;
        p.lay = s.lay;
        p.data_type = dt;
        p.n = s.n, p.c = s.c, p.h = s.h, p.w = s.w;
        p.seed = 11;
        p.x = {fill_kind::normal, 100, 3};
        tensor_map in = generate_inputs(p);
        if (op == op_kind::backward) {
          // Saved statistics from the kernel itself (any values would do).
          problem fwd = p;
          fwd.op = op_kind::forward_training;
          const direct_call f = call_direct(*k, fwd, generate_inputs(fwd));
          for (const char* name : {"mean", "var", "invstd"}) {
            tensor t{p.param_type, {p.c}, {}};
            for (int64_t c = 0; c < p.c; ++c) t.values.push_back(f.at(name, p.param_type, c));
            in[name] = t;
          }
        }
        const auto expected = outputs(*k, p, in, "sse2", 1);
        // Channel-last statistics also in windows of 1 and 5 chunks (18 and
        // 3 chunks in all), each window split among the threads.
        for (const std::string& isa : eigen::supported_isas())
          for (int threads : {1, 2, 3})
            for (int64_t window : {0, 1, 5}) {
              eigen::set_chunk_window(window);
              const auto got = outputs(*k, p, in, isa, threads);
              for (const auto& [name, bytes] : expected)
                ASSERT_EQ(got.at(name), bytes)
                    << name << " differs with " << isa << ", " << threads
                    << " threads and windows of " << window << " chunks: " << to_text(p);
            }
        eigen::set_chunk_window(0);
        // Caches so small that every output is streamed, a channel-first
        // block is one channel and a backwards pass goes in blocks of 16 KiB,
        // and so large that nothing is streamed (caches.hpp).
        for (const int64_t l2 : {int64_t{16} << 10, int64_t{1} << 30})
          for (const std::string& isa : eigen::supported_isas())
            for (int threads : {1, 3}) {
              eigen::set_cache_sizes(int64_t{32} << 10, l2, l2 * 4);
              const auto got = outputs(*k, p, in, isa, threads);
              for (const auto& [name, bytes] : expected)
                ASSERT_EQ(got.at(name), bytes)
                    << name << " differs with " << isa << ", " << threads
                    << " threads and an L2 of " << l2 << " bytes: " << to_text(p);
            }
        eigen::set_cache_sizes(0, 0, 0);
      }
}

}  // namespace
}  // namespace bncheck
