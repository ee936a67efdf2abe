// Guarded shared buffers for an isolated call, and what an address in them means.
#include "isolate/arena.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace bncheck::isolation {
namespace {

constexpr unsigned char canary = 0xA5;

std::size_t round_up(std::size_t n, std::size_t page) { return (n + page - 1) / page * page; }

std::string role(const placed_buffer& b) { return (b.spec.input ? "input " : "output ") + b.spec.name; }

std::string holds(const placed_buffer& b) {
  return b.spec.name + " holds " + std::to_string(b.spec.bytes / b.spec.element_size) + " elements of " +
         std::to_string(b.spec.element_size) + " bytes";
}

std::string byte_count(std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

arena::arena(const std::vector<buffer_spec>& specs) {
  page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t control_bytes = round_up(sizeof(control_block), page_);
  size_ = control_bytes + page_;  // control block, then the guard before the first buffer
  for (const buffer_spec& s : specs) size_ += round_up(s.bytes, page_) + page_;
  void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::runtime_error("isolation: cannot map " + std::to_string(size_) + " bytes");
  base_ = static_cast<unsigned char*>(m);
  control_ = new (base_) control_block{};
  std::size_t offset = control_bytes;
  auto guard = [&] {
    if (mprotect(base_ + offset, page_, PROT_NONE) != 0)
      throw std::runtime_error("isolation: cannot protect a guard page");
    offset += page_;
  };
  guard();
  for (const buffer_spec& s : specs) {
    placed_buffer b;
    b.spec = s;
    b.page_begin = base_ + offset;
    b.page_bytes = round_up(s.bytes, page_);
    b.start = b.page_begin + b.page_bytes - s.bytes;
    std::memset(b.page_begin, canary, b.page_bytes - s.bytes);
    buffers_.push_back(b);
    offset += b.page_bytes;
    guard();
  }
}

arena::~arena() {
  if (base_ != nullptr) munmap(base_, size_);
}

const placed_buffer& arena::buffer(const std::string& name) const {
  for (const placed_buffer& b : buffers_)
    if (b.spec.name == name) return b;
  throw std::logic_error("isolation: no buffer " + name);
}

void arena::protect_inputs() {
  for (const placed_buffer& b : buffers_)
    if (b.spec.input) mprotect(b.page_begin, b.page_bytes, PROT_READ);
}

std::string arena::describe(std::uintptr_t address) const {
  const auto at = [](const unsigned char* p) { return reinterpret_cast<std::uintptr_t>(p); };
  if (address >= at(base_) && address < at(base_) + sizeof(control_block)) return "bncheck's control block";
  for (std::size_t i = 0; i < buffers_.size(); ++i) {
    const placed_buffer& b = buffers_[i];
    const std::uintptr_t start = at(b.start), end = start + b.spec.bytes;
    if (address >= start && address < end)
      return role(b) + ", element " + std::to_string((address - start) / b.spec.element_size) +
             (b.spec.input ? " (inputs are read-only)" : "");
    if (address >= at(b.page_begin) && address < start)
      return byte_count(start - address) + " before the start of " + role(b);
    // The guard page after b; it is also the one before the next buffer's page.
    if (address >= end && address < end + page_) {
      if (i + 1 < buffers_.size() && at(buffers_[i + 1].start) - address < address - end)
        return byte_count(at(buffers_[i + 1].start) - address) + " before the start of " +
               role(buffers_[i + 1]) + " (the guard page before it)";
      return "past the end of " + role(b) + ": element " +
             std::to_string((address - start) / b.spec.element_size) + " where " + holds(b) +
             " (the guard page after it)";
    }
  }
  if (!buffers_.empty() && address >= at(buffers_[0].page_begin) - page_ && address < at(buffers_[0].page_begin))
    return byte_count(at(buffers_[0].start) - address) + " before the start of " + role(buffers_[0]) +
           " (the guard page before it)";
  char text[96];
  std::snprintf(text, sizeof text, "address %#lx, outside every buffer bncheck gave the kernel",
                static_cast<unsigned long>(address));
  return std::string(text) + (address < 65536 ? " (a null pointer?)" : "");
}

std::string arena::check_canaries() const {
  std::string found;
  for (const placed_buffer& b : buffers_) {
    for (const unsigned char* p = b.page_begin; p < b.start; ++p)
      if (*p != canary) {
        found += (found.empty() ? "" : "; ") + std::string("wrote ") +
                 byte_count(static_cast<std::size_t>(b.start - p)) + " before the start of " + role(b);
        break;
      }
  }
  return found;
}

}  // namespace bncheck::isolation
