// Running a shell command from a test: its exit status and its output, with
// standard error merged into standard output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace bncheck::testing {

struct shell_result {
  int status = -1;     ///< exit status, or -1 if the command did not exit normally
  std::string output;  ///< standard output and standard error together
};

/// Runs cmd with /bin/sh ("2>&1" is appended).
inline shell_result shell(const std::string& cmd) {
  shell_result r;
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) r.output.append(buf.data(), n);
  const int st = pclose(pipe);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace bncheck::testing
