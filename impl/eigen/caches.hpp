// The data caches of the machine the kernel runs on, and the budgets the
// Eigen kernel derives from them (docs/cpu-kernel.md, "Cache budgets from
// the machine"); and the CPU's maker, which decides one software prefetch.
// Budgets and prefetches only choose block sizes, store and prefetch
// instructions: outputs are bitwise the same for every machine.
#pragma once

#include <cstdint>
#include <string>

namespace bncheck::eigen {

/// Bytes of data cache: L1d and L2 of one core, L3 in all (the L3 that core
/// shares, as the OS lists it). source says where each came from: "sysfs"
/// (/sys/devices/system/cpu/cpu0/cache), "sysconf" (glibc, from cpuid), or
/// "default" (the development machine's: 32 KiB, 1 MiB, 32 MiB) for a level
/// neither gives.
struct cache_sizes {
  int64_t l1d = 0, l2 = 0, l3 = 0;
  std::string source;
};

/// Reads the sizes: each level from the sysfs directory `dir` (its
/// index*/level, type, size files), else from sysconf, else the default.
/// A malformed size file counts as absent.
cache_sizes read_cache_sizes(const std::string& dir = "/sys/devices/system/cpu/cpu0/cache");

/// "32K", "1024K", "32M", "1G" or a plain number of bytes, as sysfs writes a
/// cache size; 0 for anything else (or a size of 2^40 bytes or more).
int64_t parse_cache_size(const std::string& text);

/// The sizes the kernel uses: the machine's, read once, unless tests set
/// others with set_cache_sizes.
cache_sizes caches();
/// Tests: use these sizes from the next call on; a size <= 0 restores the
/// machine's. Outputs are bitwise the same for every size.
void set_cache_sizes(int64_t l1d, int64_t l2, int64_t l3);

// The budgets (docs/cpu-kernel.md, "Cache budgets from the machine").

/// Whether an output tensor (y or dx) of `bytes`, written by `threads`
/// threads, goes to memory with non-temporal stores: from twice the L2 of
/// those threads together on (4 MiB on the development machine).
bool streams_output(int64_t bytes, int threads, const cache_sizes& c);

/// Bytes of data tensors per block of channel-first channels: an eighth of
/// one core's L2, at most 128 KiB (two blocks share the L2 with the
/// output's staging and the decoded values).
int64_t channel_block_bytes(const cache_sizes& c);

/// Bytes of each tensor per block of a channel-last pass taken backwards
/// after the statistics (fast.hpp: dims::backwards): one core's L2, which
/// holds the rows the statistics read last.
int64_t backwards_block_bytes(const cache_sizes& c);

/// The CPU's maker: "intel", "amd" or "other" (GCC's __builtin_cpu_is, which
/// reads cpuid's vendor string).
std::string cpu_maker();

/// Whether the channel-last f32 backward sums prefetch the next unit's rows
/// where a unit is part of each row (more than 256 channels): on every maker
/// but Intel, whose hardware prefetchers brought those rows on the Intel VM
/// (docs/cpu-kernel.md, "The backward sums' prefetch by the CPU's maker").
bool prefetches_part_rows(const std::string& maker);

}  // namespace bncheck::eigen
