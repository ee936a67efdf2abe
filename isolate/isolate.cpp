// The isolated call: fork, the child's side (fault handler, read-only inputs,
// the kernel call), and the parent's (timed wait, verdict on what happened).
#include "isolate/isolate.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "core/dtype.hpp"
#include "core/tensor.hpp"
#include "isolate/arena.hpp"

namespace bncheck {
namespace {

using isolation::arena;
using isolation::buffer_spec;
using isolation::control_block;

// The child's control block, for the fault handler.
control_block* child_control = nullptr;

// Records where a SIGSEGV/SIGBUS hit, then lets the signal kill the child:
// SA_RESETHAND restored the default action, and returning re-runs the
// faulting instruction. Only async-signal-safe stores here.
void on_fault(int sig, siginfo_t* info, void* context) {
  if (child_control != nullptr) {
    child_control->fault_address = reinterpret_cast<std::uintptr_t>(info->si_addr);
#if defined(__x86_64__)
    // Bit 1 of the page-fault error code: the access was a write.
    const auto* uc = static_cast<const ucontext_t*>(context);
    child_control->fault_access = (uc->uc_mcontext.gregs[REG_ERR] & 2) ? 2 : 1;
#else
    (void)context;
#endif
    child_control->fault_signal = sig;
  }
  if (info->si_code <= 0) raise(sig);  // sent by kill(), not a fault: deliver it again, now fatal
}

[[noreturn]] void child_main(kernel& inner, const problem& p, arena& a, bool protect, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive bncheck
  if (getppid() != parent) _exit(125);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);  // a crashing kernel is expected here: no core files
  child_control = &a.control();
  static char alt_stack[64 * 1024];  // faults from a stack overflow still get handled
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  if (protect) a.protect_inputs();

  const kernel_io io = bind_io(p.op, [&](const std::string& name) -> void* {
    for (const auto& b : a.buffers())
      if (b.spec.name == name) return b.start + extent_of(p, name).before * static_cast<int64_t>(b.spec.element_size);
    return nullptr;
  });
  kernel_result r;
  try {
    r = inner.run(p, io);
  } catch (const std::exception& e) {
    r = {kernel_status::error, std::string("an exception escaped the kernel: ") + e.what()};
  } catch (...) {
    r = {kernel_status::error, "an exception escaped the kernel"};
  }
  control_block& c = a.control();
  c.status = static_cast<int>(r.status);
  std::snprintf(c.message, sizeof c.message, "%s", r.message.c_str());
  std::string names;
  for (const std::string& n : r.not_produced) names += (names.empty() ? "" : " ") + n;
  std::snprintf(c.not_produced, sizeof c.not_produced, "%s", names.c_str());
  c.done = 1;
  _exit(0);
}

struct child_end {
  bool timed_out = false;
  int status = 0;  // waitpid status
};

// Waits for the child, at most timeout seconds (<= 0: no limit), then kills
// it. The pipe's write end lives only in the child: end of file on it wakes
// us the moment the child is gone, without polling in a loop.
child_end wait_for(pid_t pid, int pipe_read, double timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(timeout > 0 ? timeout : 0);
  bool pipe_open = true;
  child_end end;
  for (;;) {
    const pid_t r = waitpid(pid, &end.status, WNOHANG);
    if (r == pid) return end;
    if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("isolation: waitpid: ") + std::strerror(errno));
    int wait_ms = 100;
    if (timeout > 0) {
      const double left = std::chrono::duration<double>(deadline - clock::now()).count();
      if (left <= 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &end.status, 0) < 0 && errno == EINTR) {
        }
        end.timed_out = true;
        return end;
      }
      wait_ms = static_cast<int>(std::min(100.0, std::ceil(left * 1000)));
    }
    if (pipe_open) {
      pollfd pfd{pipe_read, POLLIN, 0};
      if (poll(&pfd, 1, wait_ms) > 0) {
        char byte;
        if (read(pipe_read, &byte, 1) == 0) pipe_open = false;
      }
    } else {
      usleep(1000);  // the child closed the pipe and is about to be reaped
    }
  }
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", s);
  return text;
}

// The first element of input b whose bytes changed, or -1.
long long first_changed(const isolation::placed_buffer& b, const void* original, long long* changed) {
  long long first = -1;
  *changed = 0;
  const auto* o = static_cast<const unsigned char*>(original);
  for (std::size_t i = 0; i < b.spec.bytes; i += b.spec.element_size)
    if (std::memcmp(b.start + i, o + i, b.spec.element_size) != 0) {
      if (first < 0) first = static_cast<long long>(i / b.spec.element_size);
      ++*changed;
    }
  return first;
}

}  // namespace

kernel_result isolated_kernel::run(const problem& p, const kernel_io& io) {
  // kernel::run must not throw: a failure to isolate (no memory to map, no
  // process to fork) fails the case, saying it was bncheck's.
  try {
    return run_in_child(p, io);
  } catch (const std::exception& e) {
    return {kernel_status::error, std::string("bncheck could not isolate the call: ") + e.what()};
  }
}

kernel_result isolated_kernel::run_in_child(const problem& p, const kernel_io& io) {
  std::vector<buffer_spec> specs;
  std::vector<const void*> originals;
  for (const io_slot& slot : io_slots(p.op)) {
    const void* ptr = io_buffer(io, slot.name);
    if (ptr == nullptr) continue;
    // The whole allocation: a data tensor in a channel slice starts before its pointer.
    const buffer_extent extent = extent_of(p, slot.name);
    const std::size_t size = size_of(type_of(p, slot.name));
    specs.push_back({slot.name, !slot.written, static_cast<std::size_t>(extent.count) * size, size});
    originals.push_back(static_cast<const unsigned char*>(ptr) - extent.before * static_cast<int64_t>(size));
  }
  arena a(specs);
  for (std::size_t i = 0; i < specs.size(); ++i)
    std::memcpy(a.buffers()[i].start, originals[i], specs[i].bytes);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("isolation: cannot make a pipe");
  std::cout.flush();  // what is buffered would be written twice, by both processes
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(std::string("isolation: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    child_main(inner_, p, a, options_.protect_inputs, parent);
  }
  close(fds[1]);
  child_end end;
  try {
    end = wait_for(pid, fds[0], options_.timeout_seconds);
  } catch (...) {
    close(fds[0]);
    throw;
  }
  close(fds[0]);

  const control_block& c = a.control();
  const std::string prefix = "isolated call: ";
  if (end.timed_out)
    return {kernel_status::error, prefix + "the kernel did not return within " +
                                      seconds_text(options_.timeout_seconds) +
                                      " s and was killed (a hang; if it is only slow, raise --timeout)"};
  if (WIFSIGNALED(end.status)) {
    const int sig = WTERMSIG(end.status);
    std::string what = prefix + "the kernel crashed: signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
    if (c.fault_signal == sig) {
      const char* access = c.fault_access == 2 ? "writing " : c.fault_access == 1 ? "reading " : "at ";
      what += std::string(", ") + access + a.describe(c.fault_address);
    }
    return {kernel_status::error, what};
  }
  if (!c.done)
    return {kernel_status::error, prefix + "the kernel process exited with status " +
                                      std::to_string(WEXITSTATUS(end.status)) +
                                      " during the call (exit() in the kernel?)"};
  // The kernel returned: did it keep to its buffers?
  std::string broken;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (!specs[i].input) continue;
    long long changed = 0;
    const long long first = first_changed(a.buffers()[i], originals[i], &changed);
    if (first >= 0)
      broken += (broken.empty() ? "" : "; ") + std::string("the kernel wrote its input ") + specs[i].name +
                ": " + std::to_string(changed) + " of " + std::to_string(specs[i].bytes / specs[i].element_size) +
                " elements changed, the first at flat index " + std::to_string(first);
  }
  const std::string canaries = a.check_canaries();
  if (!canaries.empty()) broken += (broken.empty() ? "the kernel " : "; the kernel ") + canaries;
  if (!broken.empty()) return {kernel_status::error, prefix + broken};
  for (std::size_t i = 0; i < specs.size(); ++i)
    if (!specs[i].input) std::memcpy(const_cast<void*>(originals[i]), a.buffers()[i].start, specs[i].bytes);
  if (c.status < static_cast<int>(kernel_status::ok) || c.status > static_cast<int>(kernel_status::error))
    return {kernel_status::error, prefix + "the kernel overwrote bncheck's control block"};
  kernel_result r;
  r.status = static_cast<kernel_status>(c.status);
  r.message = std::string(c.message, strnlen(c.message, sizeof c.message));
  std::istringstream names(std::string(c.not_produced, strnlen(c.not_produced, sizeof c.not_produced)));
  for (std::string n; names >> n;) r.not_produced.push_back(n);
  return r;
}

kernel_output run_isolated(kernel& k, const problem& p, const tensor_map& inputs,
                           const isolation_options& options) {
  isolated_kernel isolated(k, options);
  return run_kernel(isolated, p, inputs);
}

outcome judge_isolated(kernel& k, const test_case& c, const isolation_options& options) {
  isolated_kernel isolated(k, options);
  return judge(isolated, c);
}

}  // namespace bncheck
