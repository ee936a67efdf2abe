// bncheck run with properties, end to end: the seed is printed and settable,
// the new flags' exit codes, a failure's REPRO lines, and --save-regressions
// writing a golden case that golden verify accepts and run --case fails.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>

#include "properties/property.hpp"
#include "tests/support/shell.hpp"

namespace fs = std::filesystem;

namespace bncheck {
namespace {

using result = testing::shell_result;

result bncheck(const std::string& args) {
  return testing::shell(std::string("cd ") + BNCHECK_SOURCE_DIR + " && " + BNCHECK_BIN + " " + args);
}

class cli_properties : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bncheck_cli_prop_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(cli_properties, default_run_prints_the_fixed_seed_and_a_property_table) {
  const result r = bncheck("run --kernel eigen --cases 3 --quiet");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("seed 20250301"), std::string::npos) << r.output;
  const std::string all = std::to_string(properties::property_catalog().size()) + " properties passed, 0 failed";
  EXPECT_NE(r.output.find(all), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("passed, 0 failed, 0 skipped"), std::string::npos) << r.output;  // the corpus
}

TEST_F(cli_properties, the_seed_is_settable_and_random_picks_one_and_prints_it) {
  result r = bncheck("run --kernel eigen --cases 2 --seed 12345 --property agreement");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("seed 12345"), std::string::npos) << r.output;
  r = bncheck("run --kernel eigen --cases 2 --seed random --property agreement");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("seed [0-9]+, 2 cases per property"))) << r.output;
}

TEST_F(cli_properties, bad_flags_exit_2) {
  EXPECT_EQ(bncheck("run --kernel eigen --seed abc").status, 2);
  EXPECT_EQ(bncheck("run --kernel eigen --cases 0").status, 2);
  EXPECT_EQ(bncheck("run --kernel eigen --property no_such_property").status, 2);
  EXPECT_EQ(bncheck("run --kernel eigen --property agreement --case seeds_example_fwd").status, 2);
  EXPECT_EQ(bncheck("run --kernel eigen --reproduce '!!'").status, 2);
}

TEST_F(cli_properties, no_properties_runs_the_corpus_only) {
  const result r = bncheck("run --kernel eigen --no-properties --quiet");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("property"), std::string::npos) << r.output;
}

TEST_F(cli_properties, a_failing_property_exits_1_and_saves_a_regression_that_keeps_failing) {
  const fs::path reg = dir_ / "regressions";
  fs::create_directories(reg);
  const result r = bncheck("run --kernel naive_variance --property agreement --cases 100 --save-regressions " +
                           reg.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("PROPERTY FAIL agreement"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("seed: 20250301"), std::string::npos) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("--reproduce ([A-Za-z0-9_+/=-]+)"))) << r.output;
  const std::string reproduce = m[1];
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("--golden \\S+ --case (agreement_naive_variance_[0-9a-f]{8})")))
      << r.output;
  const std::string name = m[1];
  EXPECT_TRUE(fs::exists(reg / name / "manifest.json"));
  EXPECT_EQ(bncheck("golden verify --dir " + reg.string()).status, 0);
  const result again = bncheck("run --kernel naive_variance --golden " + reg.string() + " --case " + name);
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_EQ(bncheck("run --kernel eigen --golden " + reg.string() + " --no-properties").status, 0);
  const result replay = bncheck("run --kernel naive_variance --property agreement --reproduce " + reproduce);
  EXPECT_EQ(replay.status, 1) << replay.output;
  EXPECT_NE(replay.output.find("falsified after 1 cases"), std::string::npos) << replay.output;
}

TEST_F(cli_properties, an_empty_corpus_still_runs_the_properties) {
  const result r = bncheck("run --kernel eigen --golden " + dir_.string() + " --cases 2");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("no golden cases"), std::string::npos) << r.output;
  EXPECT_EQ(bncheck("run --kernel eigen --golden " + dir_.string() + " --no-properties").status, 2);
}

TEST_F(cli_properties, the_committed_regressions_folder_runs_and_verifies) {
  EXPECT_EQ(bncheck("golden verify --dir golden/regressions").status, 0);
  EXPECT_EQ(bncheck("run --kernel eigen --golden golden/regressions --cases 2 --quiet").status, 0);
}

}  // namespace
}  // namespace bncheck
