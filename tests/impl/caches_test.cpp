// The kernel's cache sizes come from the machine: sysfs first, sysconf for a
// level sysfs lacks, the development machine's sizes for a level neither
// gives; and the budgets derived from them (impl/eigen/caches.hpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "impl/eigen/caches.hpp"

namespace bncheck {
namespace {

namespace fs = std::filesystem;

constexpr int64_t KiB = 1024, MiB = 1024 * KiB;

TEST(eigen_caches, parses_sizes_as_sysfs_writes_them) {
  EXPECT_EQ(eigen::parse_cache_size("32K"), 32 * KiB);
  EXPECT_EQ(eigen::parse_cache_size("1024K"), MiB);
  EXPECT_EQ(eigen::parse_cache_size("32M"), 32 * MiB);
  EXPECT_EQ(eigen::parse_cache_size("1G"), 1024 * MiB);
  EXPECT_EQ(eigen::parse_cache_size("1023G"), 1023 * 1024 * MiB);
  EXPECT_EQ(eigen::parse_cache_size("49152"), 48 * KiB);
  for (const char* bad : {"", "K", "32KB", "32k", "-1", " 32K", "3.5M", "1024G", "1099511627775G",
                          "99999999999999"})
    EXPECT_EQ(eigen::parse_cache_size(bad), 0) << '"' << bad << '"';
}

// A sysfs cache directory in a fresh temporary folder.
struct fake_sysfs {
  fs::path dir = fs::temp_directory_path() /
                 ("bncheck_caches_" + std::to_string(getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fake_sysfs() { fs::create_directories(dir); }
  ~fake_sysfs() { fs::remove_all(dir); }
  void add(int index, const std::string& level, const std::string& type, const std::string& size) {
    const fs::path d = dir / ("index" + std::to_string(index));
    fs::create_directories(d);
    std::ofstream(d / "level") << level << '\n';
    std::ofstream(d / "type") << type << '\n';
    std::ofstream(d / "size") << size << '\n';
  }
};

// What read_cache_sizes must give for a level sysfs does not have.
int64_t fallback(int name, int64_t development_machine) {
  const long v = sysconf(name);
  return v > 0 ? v : development_machine;
}

TEST(eigen_caches, reads_each_level_from_sysfs_skipping_instruction_caches) {
  fake_sysfs s;
  s.add(0, "1", "Instruction", "64K");  // first, so that a reader ignoring the type fails
  s.add(1, "1", "Data", "48K");
  s.add(2, "2", "Unified", "2048K");
  s.add(3, "3", "Unified", "96M");
  const eigen::cache_sizes c = eigen::read_cache_sizes(s.dir.string());
  EXPECT_EQ(c.l1d, 48 * KiB);
  EXPECT_EQ(c.l2, 2 * MiB);
  EXPECT_EQ(c.l3, 96 * MiB);
  EXPECT_EQ(c.source, "sysfs");
}

TEST(eigen_caches, a_level_sysfs_lacks_or_garbles_comes_from_sysconf_or_the_default) {
  fake_sysfs s;
  s.add(0, "1", "Data", "32K");
  s.add(1, "2", "Unified", "a lot");
  const eigen::cache_sizes c = eigen::read_cache_sizes(s.dir.string());
  EXPECT_EQ(c.l1d, 32 * KiB);
  EXPECT_EQ(c.l2, fallback(_SC_LEVEL2_CACHE_SIZE, MiB));
  EXPECT_EQ(c.l3, fallback(_SC_LEVEL3_CACHE_SIZE, 32 * MiB));
  EXPECT_NE(c.source.find("sysfs+"), std::string::npos) << c.source;
}

TEST(eigen_caches, no_sysfs_at_all_gives_sysconf_or_the_default_for_every_level) {
  const eigen::cache_sizes c = eigen::read_cache_sizes("/nonexistent/bncheck/cache");
  EXPECT_EQ(c.l1d, fallback(_SC_LEVEL1_DCACHE_SIZE, 32 * KiB));
  EXPECT_EQ(c.l2, fallback(_SC_LEVEL2_CACHE_SIZE, MiB));
  EXPECT_EQ(c.l3, fallback(_SC_LEVEL3_CACHE_SIZE, 32 * MiB));
  EXPECT_EQ(c.source.find("sysfs"), std::string::npos) << c.source;
}

TEST(eigen_caches, the_kernel_uses_the_machines_sizes_unless_a_test_sets_others) {
  const eigen::cache_sizes machine = eigen::read_cache_sizes();
  EXPECT_GT(machine.l1d, 0);
  EXPECT_GT(machine.l2, 0);
  EXPECT_GT(machine.l3, 0);
  eigen::set_cache_sizes(16 * KiB, 256 * KiB, 8 * MiB);
  EXPECT_EQ(eigen::caches().l2, 256 * KiB);
  EXPECT_EQ(eigen::caches().l3, 8 * MiB);
  eigen::set_cache_sizes(0, 0, 0);
  EXPECT_EQ(eigen::caches().l1d, machine.l1d);
  EXPECT_EQ(eigen::caches().l2, machine.l2);
  EXPECT_EQ(eigen::caches().l3, machine.l3);
  EXPECT_EQ(eigen::caches().source, machine.source);
}

// The budgets on the development machine (L2 1 MiB per core, 2 threads),
// on the first VM (L2 2 MiB) and on a machine with an L2 of 256 KiB, as
// docs/cpu-kernel.md derives them.
TEST(eigen_caches, budgets_follow_the_l2_and_the_threads) {
  const eigen::cache_sizes here{32 * KiB, MiB, 32 * MiB, "test"};
  // Outputs from twice the threads' L2s on: 4 MiB with 2 threads, 2 MiB
  // with one; N32 C512 14x14 f32 (12.8 MB) is streamed, as measured best.
  EXPECT_FALSE(eigen::streams_output(4 * MiB - 1, 2, here));
  EXPECT_TRUE(eigen::streams_output(4 * MiB, 2, here));
  EXPECT_TRUE(eigen::streams_output(2 * MiB, 1, here));
  EXPECT_FALSE(eigen::streams_output(2 * MiB - 1, 1, here));
  EXPECT_TRUE(eigen::streams_output(int64_t{4} * 32 * 512 * 14 * 14, 2, here));
  EXPECT_EQ(eigen::channel_block_bytes(here), 128 * KiB);
  EXPECT_EQ(eigen::backwards_block_bytes(here), MiB);

  const eigen::cache_sizes first_vm{32 * KiB, 2 * MiB, 480 * MiB, "test"};
  EXPECT_FALSE(eigen::streams_output(8 * MiB - 1, 2, first_vm));
  EXPECT_TRUE(eigen::streams_output(8 * MiB, 2, first_vm));
  EXPECT_EQ(eigen::channel_block_bytes(first_vm), 128 * KiB);  // measured best there too
  EXPECT_EQ(eigen::backwards_block_bytes(first_vm), 2 * MiB);

  const eigen::cache_sizes small{32 * KiB, 256 * KiB, 8 * MiB, "test"};
  EXPECT_TRUE(eigen::streams_output(MiB, 2, small));
  EXPECT_EQ(eigen::channel_block_bytes(small), 32 * KiB);
  EXPECT_EQ(eigen::backwards_block_bytes(small), 256 * KiB);
}

// The maker comes from cpuid (GCC's __builtin_cpu_is); /proc/cpuinfo's
// vendor_id, which Linux reads from cpuid at boot, is a second reader's
// account of the same fact.
TEST(eigen_caches, the_maker_is_the_one_proc_cpuinfo_names) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor;
  while (std::getline(in, line))
    if (line.rfind("vendor_id", 0) == 0) {
      vendor = line.substr(line.find(':') + 1);
      vendor.erase(0, vendor.find_first_not_of(" \t"));
      break;
    }
  if (vendor.empty()) GTEST_SKIP() << "/proc/cpuinfo names no vendor_id on this machine";
  const std::string expected = vendor == "GenuineIntel"   ? "intel"
                               : vendor == "AuthenticAMD" ? "amd"
                                                          : "other";
  EXPECT_EQ(eigen::cpu_maker(), expected) << "vendor_id " << vendor;
}

// The backward sums prefetch parts of rows on the AMD machines, where that
// was measured to help, and on makers not measured; not on Intel, where it
// was measured to cost (docs/cpu-kernel.md, "The backward sums' prefetch by
// the CPU's maker").
TEST(eigen_caches, the_sums_prefetch_parts_of_rows_except_on_intel) {
  EXPECT_TRUE(eigen::prefetches_part_rows("amd"));
  EXPECT_TRUE(eigen::prefetches_part_rows("other"));
  EXPECT_FALSE(eigen::prefetches_part_rows("intel"));
}

}  // namespace
}  // namespace bncheck
