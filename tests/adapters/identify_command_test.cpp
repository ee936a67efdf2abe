// bncheck identify as a command: its output names the conventions and its
// exit status follows the command's rules (0, or 2 for an unknown kernel).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct result {
  int status = -1;
  std::string out;
};

result run(const std::string& args) {
  result r;
  const std::string cmd = std::string(BNCHECK_EXE) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) r.out += buf.data();
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

TEST(identify_command, prints_the_conventions_of_a_kernel) {
  const result r = run("identify --kernel eigen");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("identify: kernel eigen"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("eps inside the square root"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backward reads       saved mean, invstd"), std::string::npos) << r.out;
}

TEST(identify_command, probes_mutants_and_controls_too) {
  const result mutant = run("identify --kernel eps_outside_sqrt");
  EXPECT_EQ(mutant.status, 0);
  EXPECT_NE(mutant.out.find("eps outside the square root"), std::string::npos) << mutant.out;
  EXPECT_EQ(run("identify --kernel welford_chan").status, 0);
}

TEST(identify_command, unknown_kernel_is_bad_input) {
  const result r = run("identify --kernel no_such_kernel");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown kernel 'no_such_kernel'"), std::string::npos) << r.out;
}

}  // namespace
