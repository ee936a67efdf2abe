// A worker process for the exec: kernels (docs/protocol.md): started from an
// argument vector without a shell, its standard input and output are pipes to
// us, its standard error a file whose tail explains a failure. Reads and
// writes take a deadline; nothing here knows the protocol's messages.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace bncheck::exec {

/// `CMD ARGS...` split as a shell would split it, without expansions: blanks
/// separate words, '...' and "..." quote, a backslash escapes the next
/// character. Throws input_error for an unterminated quote or no word.
std::vector<std::string> split_command(const std::string& line);

/// What went wrong with the worker, for the case's failure message.
struct worker_failure {
  std::string what;
};

class worker {
 public:
  using clock = std::chrono::steady_clock;

  explicit worker(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  ~worker() { stop(); }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// Starts the process; throws input_error when it cannot be started (no
  /// such program). Its standard error starts empty.
  void start();
  bool running() const { return pid_ > 0; }
  /// Closes its input and waits up to grace for it to exit, then kills it.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(500));
  /// Kills it (SIGKILL) and reaps it; returns how it ended ("exited with
  /// status 1", "killed by signal 11 (SIGSEGV)"), or "" when it was not running.
  std::string kill_now();

  /// Writes all of `parts` before the deadline; throws worker_failure (the
  /// worker died, closed its input, or the deadline passed).
  void write_all(const std::vector<std::pair<const void*, std::size_t>>& parts, clock::time_point deadline);
  /// Reads exactly n bytes before the deadline; throws worker_failure (end
  /// of output: the worker exited; or the deadline passed).
  void read_exact(void* dst, std::size_t n, clock::time_point deadline);

  /// The last lines of what the worker wrote to its standard error (at most
  /// max_bytes, cut at a line start), or "" when it wrote nothing.
  std::string stderr_tail(std::size_t max_bytes = 2048) const;
  /// How the worker ended, if it has ended (reaps it): as kill_now says; ""
  /// while it runs.
  std::string exit_status();

 private:
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1, err_ = -1;  ///< its stdin (our write end), its stdout (our read end), its stderr file
  std::string ended_;                   ///< how it ended, once reaped
};

}  // namespace bncheck::exec
