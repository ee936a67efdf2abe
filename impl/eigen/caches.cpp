// Cache sizes: sysfs first, because in a virtual machine glibc's sysconf
// reads cpuid leaves the hypervisor may fill oddly (on the development
// machine, a KVM guest of an AMD EPYC, sysconf gives an L3 of 320 MiB where
// sysfs and lscpu give 32 MiB).
#include "impl/eigen/caches.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>

namespace bncheck::eigen {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

// The size of the level's data (or unified) cache in dir, or 0.
int64_t sysfs_size(const std::string& dir, int level) {
  for (int index = 0; index < 16; ++index) {
    const std::string d = dir + "/index" + std::to_string(index) + "/";
    if (first_line(d + "level") != std::to_string(level)) continue;
    const std::string type = first_line(d + "type");
    if (type != "Data" && type != "Unified") continue;
    return parse_cache_size(first_line(d + "size"));
  }
  return 0;
}

int64_t sysconf_size(int level) {
  const int name = level == 1   ? _SC_LEVEL1_DCACHE_SIZE
                   : level == 2 ? _SC_LEVEL2_CACHE_SIZE
                                : _SC_LEVEL3_CACHE_SIZE;
  const long v = sysconf(name);
  return v > 0 ? static_cast<int64_t>(v) : 0;
}

constexpr int64_t default_size[4] = {0, int64_t{32} << 10, int64_t{1} << 20, int64_t{32} << 20};

std::atomic<int64_t> forced_l1d{0}, forced_l2{0}, forced_l3{0};

}  // namespace

int64_t parse_cache_size(const std::string& text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return 0;
  int64_t v = 0;
  std::size_t i = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    v = v * 10 + (text[i] - '0');
    if (v >= (int64_t{1} << 40)) return 0;
  }
  int shift = 0;
  if (i < text.size()) {
    switch (text[i]) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      default: return 0;
    }
    if (++i != text.size()) return 0;
  }
  return v < (int64_t{1} << (40 - shift)) ? v << shift : 0;
}

cache_sizes read_cache_sizes(const std::string& dir) {
  cache_sizes c;
  int64_t* out[4] = {nullptr, &c.l1d, &c.l2, &c.l3};
  for (int level = 1; level <= 3; ++level) {
    const char* from = "sysfs";
    int64_t v = sysfs_size(dir, level);
    if (v <= 0) {
      v = sysconf_size(level);
      from = "sysconf";
    }
    if (v <= 0) {
      v = default_size[level];
      from = "default";
    }
    *out[level] = v;
    if (c.source.find(from) == std::string::npos)
      c.source += c.source.empty() ? std::string(from) : std::string("+") + from;
  }
  return c;
}

cache_sizes caches() {
  static const cache_sizes machine = read_cache_sizes();
  const int64_t l1d = forced_l1d.load(), l2 = forced_l2.load(), l3 = forced_l3.load();
  if (l1d > 0 && l2 > 0 && l3 > 0) return {l1d, l2, l3, "set_cache_sizes"};
  return machine;
}

void set_cache_sizes(int64_t l1d, int64_t l2, int64_t l3) {
  const bool all = l1d > 0 && l2 > 0 && l3 > 0;
  forced_l1d.store(all ? l1d : 0);
  forced_l2.store(all ? l2 : 0);
  forced_l3.store(all ? l3 : 0);
}

// A regular store first reads the line it writes; a non-temporal one does
// not, but leaves nothing in the caches for the next reader of the output.
// Measured on the development machine (L2 1 MiB per core, L3 32 MiB, 2
// threads; docs/cpu-kernel.md, "Cache budgets from the machine"): with
// outputs rotated through 1 GiB, regular stores made 7 of 8 forward cases
// on 12.8 MB tensors 1.07-1.43x slower (nchw C2048 inference 1.14x faster)
// and inference on a 16.8 MB one 1.41x slower, though x and y fit in the
// L3 and L2s; with an output that stays in the L3 between calls they made
// inference 1.00-1.36x faster there (2026-12-05). The threshold is the
// constant the kernel had, twice the two L2s, now from the machine; sizes
// between it and 12.8 MB were not measured.
bool streams_output(int64_t bytes, int threads, const cache_sizes& c) {
  return bytes >= 2 * static_cast<int64_t>(threads) * c.l2;
}

// 128 KiB was the best measured on an L2 of 2 MiB (against 96-768 KiB) and
// on one of 1 MiB (against 64 and 96); the eighth is for smaller L2s, not
// measured.
int64_t channel_block_bytes(const cache_sizes& c) {
  return std::min<int64_t>(c.l2 / 8, int64_t{128} << 10);
}

// On an L2 of 1 MiB, blocks of 64, 256 and 1024 KiB took N32 C256 28x28 f32
// nhwc backward from 3.74 ms (forwards) to 3.53, 3.69 and 3.11 ms, training
// from 2.17 to 2.04, 2.11 and 1.91 (bench_cpu, one run, medians of 3).
int64_t backwards_block_bytes(const cache_sizes& c) { return c.l2; }

std::string cpu_maker() {
  __builtin_cpu_init();
  if (__builtin_cpu_is("intel")) return "intel";
  if (__builtin_cpu_is("amd")) return "amd";
  return "other";
}

// The sums read a unit of 256 channels over 256 rows, then the next 256
// channels of the same rows: runs of 1 KiB, 2-8 KiB apart. On the AMD
// machine (family 26) such runs read at 28 GB/s without a software prefetch,
// against 53 in memory order (bench/RESULTS.md, "Three machines"); on the
// Intel VM the prefetch made a backward from memory 1.04-1.12x slower
// (N32 C512 14x14, C2048 7x7, nc 4096 x 1024). Units of whole rows never
// prefetch (f32-inl.hpp). Makers not measured keep the prefetch the kernel
// was built with.
bool prefetches_part_rows(const std::string& maker) { return maker != "intel"; }

}  // namespace bncheck::eigen
