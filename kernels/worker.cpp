// The worker process of an exec: kernel: spawn, pipes with deadlines, its
// standard error in a memory file, and how it ended (kernels/worker.hpp).
#include "kernels/worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "core/error.hpp"

extern char** environ;

namespace bncheck::exec {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "");
  }
  return "ended (wait status " + std::to_string(status) + ")";
}

// Milliseconds left before the deadline, for poll(); 0 once it has passed.
int remaining_ms(worker::clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - worker::clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// Waits until fd is ready for `events`; false when the deadline passed first.
bool wait_ready(int fd, short events, worker::clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::vector<std::string> split_command(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quote) {
      if (ch == quote) quote = 0;
      else if (ch == '\\' && quote == '"' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\'))
        word += line[++i];
      else word += ch;
    } else if (ch == '\'' || ch == '"') {
      quote = ch, in_word = true;
    } else if (ch == '\\' && i + 1 < line.size()) {
      word += line[++i], in_word = true;
    } else if (ch == ' ' || ch == '\t' || ch == '\n') {
      if (in_word) words.push_back(word);
      word.clear(), in_word = false;
    } else {
      word += ch, in_word = true;
    }
  }
  if (quote) throw input_error(std::string("exec: unterminated ") + quote + " in '" + line + "'");
  if (in_word) words.push_back(word);
  if (words.empty()) throw input_error("exec: no command (--kernel 'exec:CMD ARGS...')");
  return words;
}

void worker::start() {
  if (running()) return;
  // A worker that dies while we write must not take us with it.
  std::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error(std::string("exec: pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    throw std::runtime_error(std::string("exec: pipe: ") + std::strerror(errno));
  }
  close_fd(err_);  // the last worker's standard error, kept until now for its failure
  err_ = ::memfd_create("bncheck-worker-stderr", MFD_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (err_ >= 0) posix_spawn_file_actions_adddup2(&actions, err_, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: killing it kills its children
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (std::string& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]), ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]), ::close(out[0]);
    close_fd(err_);
    throw input_error("exec: cannot start '" + argv_[0] + "': " + std::strerror(rc));
  }
  pid_ = pid, to_ = in[1], from_ = out[0];
  ended_.clear();
  ::fcntl(to_, F_SETFL, ::fcntl(to_, F_GETFL) | O_NONBLOCK);
  ::fcntl(from_, F_SETFL, ::fcntl(from_, F_GETFL) | O_NONBLOCK);
}

std::string worker::exit_status() {
  if (pid_ <= 0) return ended_;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    ended_ = describe(status);
    pid_ = -1;
  }
  return ended_;
}

std::string worker::kill_now() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    ended_ = describe(status);
    pid_ = -1;
  }
  close_fd(to_), close_fd(from_);
  return ended_;
}

void worker::stop(std::chrono::milliseconds grace) {
  close_fd(to_);  // end of input: a worker takes it as bye
  const auto until = clock::now() + grace;
  while (pid_ > 0 && exit_status().empty() && clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill_now();
  close_fd(err_);
}

void worker::write_all(const std::vector<std::pair<const void*, std::size_t>>& parts, clock::time_point deadline) {
  for (const auto& [data, size] : parts) {
    const char* p = static_cast<const char*>(data);
    std::size_t left = size;
    while (left > 0) {
      const ssize_t n = ::write(to_, p, left);
      if (n > 0) {
        p += n, left -= static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        if (!wait_ready(to_, POLLOUT, deadline)) throw worker_failure{"timeout"};
        continue;
      }
      throw worker_failure{"closed"};  // EPIPE: it is gone, or closed its input
    }
  }
}

void worker::read_exact(void* dst, std::size_t n, clock::time_point deadline) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t r = ::read(from_, p, n);
    if (r > 0) {
      p += r, n -= static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) throw worker_failure{"closed"};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!wait_ready(from_, POLLIN, deadline)) throw worker_failure{"timeout"};
      continue;
    }
    throw worker_failure{"closed"};
  }
}

std::string worker::stderr_tail(std::size_t max_bytes) const {
  if (err_ < 0) return {};
  struct stat st {};
  if (::fstat(err_, &st) != 0 || st.st_size == 0) return {};
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  const std::size_t from = size > max_bytes ? size - max_bytes : 0;
  std::string tail(size - from, '\0');
  const ssize_t got = ::pread(err_, tail.data(), tail.size(), static_cast<off_t>(from));
  tail.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  if (from > 0) {  // start at a whole line
    const std::size_t nl = tail.find('\n');
    if (nl != std::string::npos) tail.erase(0, nl + 1);
  }
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  return tail;
}

}  // namespace bncheck::exec
