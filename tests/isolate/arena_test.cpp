// The guarded arena: each buffer ends at a page boundary with a guard page
// after it, describe() names the buffer an address falls in, and a byte
// written before a buffer is found by its canary.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>

#include "isolate/arena.hpp"

namespace bncheck::isolation {
namespace {

std::uintptr_t at(const unsigned char* p) { return reinterpret_cast<std::uintptr_t>(p); }

TEST(isolation_arena, buffers_end_at_page_boundaries_in_order) {
  arena a({{"x", true, 96, 4}, {"y", false, 96, 4}, {"big", false, 3 * 4096 + 8, 8}});
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  ASSERT_EQ(a.buffers().size(), 3u);
  for (const placed_buffer& b : a.buffers()) {
    EXPECT_EQ((at(b.start) + b.spec.bytes) % page, 0u) << b.spec.name;
    EXPECT_EQ(at(b.start) % b.spec.element_size, 0u) << b.spec.name;
  }
  EXPECT_LT(at(a.buffer("x").start), at(a.buffer("y").start));
  EXPECT_EQ(at(a.buffer("y").page_begin), at(a.buffer("x").start) + 96 + page);  // one guard page between
}

TEST(isolation_arena, describe_names_the_buffer_element_and_side) {
  arena a({{"x", true, 96, 4}, {"y", false, 96, 4}});
  const placed_buffer& x = a.buffer("x");
  const placed_buffer& y = a.buffer("y");
  EXPECT_EQ(a.describe(at(x.start) + 8), "input x, element 2 (inputs are read-only)");
  EXPECT_EQ(a.describe(at(y.start) + 96),
            "past the end of output y: element 24 where y holds 24 elements of 4 bytes (the guard page after it)");
  EXPECT_EQ(a.describe(at(y.start) - 1), "1 byte before the start of output y");
  EXPECT_EQ(a.describe(at(x.start) - 5000), "5000 bytes before the start of input x (the guard page before it)");
  EXPECT_EQ(a.describe(16), "address 0x10, outside every buffer bncheck gave the kernel (a null pointer?)");
}

TEST(isolation_arena, canaries_find_a_byte_written_before_a_buffer) {
  arena a({{"x", true, 96, 4}, {"y", false, 96, 4}});
  EXPECT_EQ(a.check_canaries(), "");
  const_cast<unsigned char*>(a.buffer("y").start)[-3] = 0;
  EXPECT_EQ(a.check_canaries(), "wrote 3 bytes before the start of output y");
}

}  // namespace
}  // namespace bncheck::isolation
