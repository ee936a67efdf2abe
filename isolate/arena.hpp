// Shared memory for one isolated kernel call: a control block the child
// reports through, and every buffer of the call, each ending at a page
// boundary with an inaccessible guard page after it (and one before the
// first), the bytes between its page start and its first element filled
// with a canary. Mapped MAP_SHARED before fork, so parent and child see the
// same bytes.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bncheck::isolation {

/// What the child writes for the parent. Fields the signal handler writes are volatile.
struct control_block {
  volatile sig_atomic_t done;            ///< 1 once the kernel returned
  int status;                            ///< kernel_status as an int
  volatile sig_atomic_t fault_signal;    ///< SIGSEGV or SIGBUS caught, else 0
  volatile sig_atomic_t fault_access;    ///< 0 unknown, 1 read, 2 write (x86-64 only)
  volatile std::uintptr_t fault_address; ///< si_addr of the fault
  char message[4096];                    ///< the kernel's message, NUL-terminated
  char not_produced[256];                ///< kernel_result::not_produced, space-separated, NUL-terminated
};

/// One buffer of the call as the caller describes it.
struct buffer_spec {
  std::string name;    ///< tensor name: x, y, mean, ...
  bool input = false;  ///< read-only for the kernel (checked unchanged; mapped read-only on request)
  std::size_t bytes = 0;
  std::size_t element_size = 1;
};

/// A buffer as placed in the arena.
struct placed_buffer {
  buffer_spec spec;
  unsigned char* page_begin = nullptr;  ///< first byte of its first page (canary until start)
  unsigned char* start = nullptr;       ///< first element; start + bytes is a page boundary
  std::size_t page_bytes = 0;           ///< bytes from page_begin to the guard page after it
};

class arena {
 public:
  /// Maps the control block and the buffers, with guard pages and canaries.
  /// Throws std::runtime_error if the mapping fails.
  explicit arena(const std::vector<buffer_spec>& specs);
  ~arena();
  arena(const arena&) = delete;
  arena& operator=(const arena&) = delete;

  control_block& control() { return *control_; }
  const std::vector<placed_buffer>& buffers() const { return buffers_; }
  /// The buffer named name (which must exist).
  const placed_buffer& buffer(const std::string& name) const;

  /// Makes every input's pages read-only (call in the child only).
  void protect_inputs();
  /// Where address is: "past the end of output y: element 24 where y holds
  /// 24 elements of 4 bytes (the guard page after it)", "input x, element 3
  /// (inputs are read-only)", "1 byte before the start of output y", or
  /// "address 0x10, outside every buffer bncheck gave the kernel (a null pointer?)".
  std::string describe(std::uintptr_t address) const;
  /// "" when every canary is intact, else which buffer's bytes before its
  /// start were written and how far before it.
  std::string check_canaries() const;

 private:
  unsigned char* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t page_ = 0;
  control_block* control_ = nullptr;
  std::vector<placed_buffer> buffers_;
};

}  // namespace bncheck::isolation
