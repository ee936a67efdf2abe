// bncheck identify as a command: its output names the conventions and its
// exit status follows the command's rules (0, or 2 for an unknown kernel).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "tests/support/shell.hpp"

namespace {

using result = bncheck::testing::shell_result;

result run(const std::string& args) { return bncheck::testing::shell(std::string(BNCHECK_EXE) + " " + args); }

TEST(identify_command, prints_the_conventions_of_a_kernel) {
  const result r = run("identify --kernel eigen");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("identify: kernel eigen"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("eps inside the square root"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("backward reads       saved mean, invstd"), std::string::npos) << r.output;
}

TEST(identify_command, probes_mutants_and_controls_too) {
  const result mutant = run("identify --kernel eps_outside_sqrt");
  EXPECT_EQ(mutant.status, 0);
  EXPECT_NE(mutant.output.find("eps outside the square root"), std::string::npos) << mutant.output;
  EXPECT_EQ(run("identify --kernel welford_chan").status, 0);
}

TEST(identify_command, probes_a_plugin_in_a_child_process) {
  const result r = run(std::string("identify --kernel ") + BNC_EXAMPLE_PLUGIN);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(std::string("identify: kernel ") + BNC_EXAMPLE_PLUGIN), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("eps inside the square root"), std::string::npos) << r.output;
}

TEST(identify_command, probes_a_worker_process) {
  const result r = run(std::string("identify --kernel 'exec:") + BNC_EXEC_WORKER + " none'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("eps inside the square root"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("backward reads       saved mean, invstd"), std::string::npos) << r.output;
}

TEST(identify_command, unknown_kernel_is_bad_input) {
  const result r = run("identify --kernel no_such_kernel");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("unknown kernel 'no_such_kernel'"), std::string::npos) << r.output;
}

}  // namespace
