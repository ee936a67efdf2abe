// The command end to end for third-party kernels: plugins by path (isolated
// by default), a crash or hang failing one case while the run goes on,
// JUnit/JSON files, shards that partition the corpus, usage errors, and
// export -> numpy kernel -> judge.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "golden/npy.hpp"
#include "tests/report/xml_shape.hpp"
#include "tests/support/shell.hpp"

namespace fs = std::filesystem;

namespace bncheck {
namespace {

using result = testing::shell_result;
using testing::shell;

// Runs in the source root, where the corpus is golden/cases.
result bncheck(const std::string& args) {
  return shell("cd " + std::string(BNCHECK_SOURCE_DIR) + " && " + BNCHECK_BIN + " " + args);
}

class command : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bncheck_command_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// Cases in the committed corpus.
std::size_t corpus_size() {
  const fs::path dir = fs::path(BNCHECK_SOURCE_DIR) / "golden" / "cases";
  return static_cast<std::size_t>(std::count_if(fs::directory_iterator(dir), fs::directory_iterator(),
                                                [](const fs::directory_entry& e) { return e.is_directory(); }));
}

// Committed cases whose problem gives a data tensor its own storage: files
// carry dense arrays, so export/judge reports them skipped.
std::size_t storage_cases() {
  const fs::path dir = fs::path(BNCHECK_SOURCE_DIR) / "golden" / "cases";
  return static_cast<std::size_t>(std::count_if(fs::directory_iterator(dir), fs::directory_iterator(), [](const fs::directory_entry& e) {
    return e.is_directory() && e.path().filename().string().rfind("storage_", 0) == 0;
  }));
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(command, a_plugin_by_path_is_judged_isolated_with_junit_and_json_reports) {
  const result r = bncheck(std::string("run --no-properties --kernel ") + BNC_EXAMPLE_PLUGIN + " --junit " +
                           file("junit.xml") + " --json " + file("result.json"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("skipped, of " + std::to_string(corpus_size()) + " cases"), std::string::npos) << r.output;
  const testing::xml_node root = testing::xml_reader(read_file_bytes(file("junit.xml"))).document();
  testing::check_junit_shape(root);
  EXPECT_EQ(root.attr("failures"), "0");
  EXPECT_NE(root.attr("skipped"), "0");  // f16 and bf16 cases: the example does not implement them
  const auto j = nlohmann::json::parse(read_file_bytes(file("result.json")));
  EXPECT_EQ(j["isolated"], true);
  EXPECT_EQ(j["totals"]["cases"], std::stoi(root.attr("tests")));
  EXPECT_EQ(j["totals"]["skip"], std::stoi(root.attr("skipped")));
  if (std::system("command -v xmllint > /dev/null 2>&1") == 0) {
    EXPECT_EQ(shell("xmllint --noout " + file("junit.xml")).status, 0);
  }
}

TEST_F(command, a_crashing_plugin_fails_its_cases_and_the_run_goes_on) {
  const result r = bncheck(std::string("run --no-properties --kernel ") + BNC_CRASH_PLUGIN +
                           " --case profile_onnx_fwd --case profile_onnx_bwd --case profile_pytorch_fwd"
                           " --case profile_onnx_inference --junit " + file("junit.xml"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("2 passed, 2 failed, 0 skipped, of 4 cases"), std::string::npos) << r.output;
  EXPECT_EQ(count_of(r.output, "the kernel crashed: signal 11 (Segmentation fault)"), 2) << r.output;
  EXPECT_EQ(count_of(r.output, "REPRO: bncheck run --kernel " + std::string(BNC_CRASH_PLUGIN)), 2);
  const testing::xml_node root = testing::xml_reader(read_file_bytes(file("junit.xml"))).document();
  testing::check_junit_shape(root);
  EXPECT_EQ(root.attr("failures"), "2");
}

TEST_F(command, a_hanging_plugin_is_killed_at_the_timeout) {
  const result r = bncheck(std::string("run --no-properties --kernel ") + BNC_HANG_PLUGIN +
                           " --timeout 0.2 --case profile_onnx_fwd --case profile_onnx_bwd");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("did not return within 0.2 s and was killed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 passed, 1 failed"), std::string::npos) << r.output;
}

TEST_F(command, isolate_runs_a_builtin_kernel_in_a_child_with_the_same_verdicts) {
  const std::string args = "run --no-properties --kernel naive_variance --case offset_1e4_f32_nchw --case profile_onnx_fwd";
  const result in_process = bncheck(args);
  const result isolated = bncheck(args + " --isolate --json " + file("r.json"));
  EXPECT_EQ(in_process.status, 1);
  EXPECT_EQ(isolated.status, 1);
  EXPECT_EQ(nlohmann::json::parse(read_file_bytes(file("r.json")))["isolated"], true);
  const auto failure = [](const std::string& out) { return out.substr(out.find("FAIL offset_1e4_f32_nchw")); };
  EXPECT_EQ(failure(isolated.output), failure(in_process.output));
}

TEST_F(command, properties_are_a_suite_of_the_reports) {
  const result r = bncheck(std::string("run --kernel ") + BNC_EXAMPLE_PLUGIN +
                           " --property shift_invariance --cases 10 --junit " + file("junit.xml") + " --json " +
                           file("r.json"));
  EXPECT_EQ(r.status, 0) << r.output;
  const testing::xml_node root = testing::xml_reader(read_file_bytes(file("junit.xml"))).document();
  testing::check_junit_shape(root);
  const auto suites = root.all("testsuite");
  ASSERT_EQ(suites.size(), 1u);
  EXPECT_EQ(suites[0]->attr("name"), "properties");
  EXPECT_EQ(suites[0]->all("testcase").at(0)->attr("name"), "shift_invariance");
  const auto j = nlohmann::json::parse(read_file_bytes(file("r.json")));
  EXPECT_FALSE(j["seed"].get<std::string>().empty());
  EXPECT_EQ(j["suites"][0]["cases"][0]["verdict"], "pass");
}

TEST_F(command, shards_partition_the_corpus) {
  std::multiset<std::string> seen;
  for (int i = 1; i <= 3; ++i) {
    const std::string json = file("shard" + std::to_string(i) + ".json");
    const result r = bncheck(std::string("run --no-properties --kernel eigen --shard ") + std::to_string(i) +
                             "/3 --json " + json);
    EXPECT_EQ(r.status, 0) << r.output;
    const auto j = nlohmann::json::parse(read_file_bytes(json));
    EXPECT_EQ(j["shard"], std::to_string(i) + "/3");
    for (const auto& c : j["suites"][0]["cases"]) seen.insert(c["name"].get<std::string>());
  }
  EXPECT_EQ(seen.size(), corpus_size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
}

TEST_F(command, usage_errors_exit_2_with_one_line) {
  for (const std::string& args :
       {std::string("run --kernel eigen --shard 0/3"), std::string("run --kernel eigen --shard 4/3"),
        std::string("run --kernel eigen --isolate --no-isolate"), std::string("run --kernel eigen --timeout 0"),
        std::string("run --kernel /nonexistent/libnothing.so"),
        std::string("run --kernel eigen --junit /nonexistent/dir/junit.xml"),
        std::string("run --kernel ") + BNC_FUTURE_PLUGIN, std::string("judge --in /nonexistent"),
        std::string("export --out ") + BNCHECK_SOURCE_DIR}) {
    const result r = bncheck(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_EQ(count_of(r.output, "\n"), 1) << args << "\n" << r.output;
  }
}

// export -> numpy kernel -> judge, the kernel right and then wrong.
TEST_F(command, a_numpy_kernel_passes_through_export_and_judge_and_a_wrong_one_fails) {
  const std::string out = file("bn");
  result r = bncheck("export --golden golden/cases --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir_ / "bn" / "offset_1e4_f32_nchw" / "problem.txt"));
  r = shell(std::string("/usr/bin/python3 ") + BNCHECK_SOURCE_DIR + "/examples/numpy/batch_norm.py " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  r = bncheck("judge --in " + out + " --junit " + file("junit.xml"));
  EXPECT_EQ(r.status, 0) << r.output;
  const std::string all = std::to_string(corpus_size());
  ASSERT_GT(storage_cases(), 0u);
  EXPECT_NE(r.output.find(std::to_string(corpus_size() - storage_cases()) + " passed, 0 failed, " +
                          std::to_string(storage_cases()) + " skipped, of " + all + " cases"),
            std::string::npos)
      << r.output;
  testing::check_junit_shape(testing::xml_reader(read_file_bytes(file("junit.xml"))).document());

  const std::string wrong = file("wrong");
  ASSERT_EQ(bncheck("export --golden golden/cases --out " + wrong).status, 0);
  r = shell(std::string("/usr/bin/python3 ") + BNCHECK_SOURCE_DIR + "/tests/report/wrong_numpy_kernel.py " + wrong);
  ASSERT_EQ(r.status, 0) << r.output;
  r = bncheck("judge --in " + wrong);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL offset_1e4_f32_nchw"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("REPRO: bncheck export --golden golden/cases --case offset_1e4_f32_nchw --out "
                          "offset_1e4_f32_nchw.export && <run your kernel on "
                          "offset_1e4_f32_nchw.export/offset_1e4_f32_nchw> && bncheck judge --in "
                          "offset_1e4_f32_nchw.export --case offset_1e4_f32_nchw"),
            std::string::npos)
      << r.output;
}

// judge takes a known-deviations file as run does: the recorded failure is
// 'known' (exit 0); recorded on another tensor it is not waived (exit 1).
TEST_F(command, judge_applies_known_deviations) {
  const std::string out = file("bn");
  ASSERT_EQ(bncheck("export --out " + out + " --case offset_1e4_f32_nchw").status, 0);
  ASSERT_EQ(shell(std::string("/usr/bin/python3 ") + BNCHECK_SOURCE_DIR + "/tests/report/wrong_numpy_kernel.py " + out)
                .status,
            0);
  result r = bncheck("judge --in " + out);
  ASSERT_EQ(r.status, 1) << r.output;
  const std::size_t worst = r.output.find("offset_1e4_f32_nchw                      FAIL");
  ASSERT_NE(worst, std::string::npos) << r.output;
  std::istringstream row(r.output.substr(worst));
  std::string name, verdict_word, ratio, tensor;
  row >> name >> verdict_word >> ratio >> tensor;
  write_file_bytes(dir_ / "deviations", "case offset_1e4_f32_nchw " + tensor + " -- E[x^2]-E[x]^2 in float32\n");
  r = bncheck("judge --in " + out + " --deviations " + file("deviations"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 failed, 1 known deviations"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("KNOWN offset_1e4_f32_nchw"), std::string::npos) << r.output;
  write_file_bytes(dir_ / "deviations", std::string("case offset_1e4_f32_nchw ") + (tensor == "y" ? "dx" : "y") +
                                            " -- recorded on another tensor\n");
  r = bncheck("judge --in " + out + " --deviations " + file("deviations"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("not waived"), std::string::npos) << r.output;
  write_file_bytes(dir_ / "deviations", "case no_such_case y -- typo\n");
  EXPECT_EQ(bncheck("judge --in " + out + " --deviations " + file("deviations")).status, 2);
}

// `exclude region R` names a generator region; a misspelt one is bad input
// (exit 2, file and line) before any verdict, not an exclusion of nothing.
TEST_F(command, run_refuses_an_unknown_region_in_a_deviations_file) {
  write_file_bytes(dir_ / "deviations", "# near overflow\nexclude region near-overflow -- typo\n");
  const result r = bncheck("run --kernel eigen --property agreement --cases 1 --deviations " + file("deviations"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(file("deviations") + ":2: unknown region 'near-overflow'"), std::string::npos) << r.output;
  write_file_bytes(dir_ / "deviations", "exclude region near_overflow -- sums in float\n");
  const result ok = bncheck("run --kernel eigen --property agreement --cases 5 --deviations " + file("deviations"));
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("known deviation: properties exclude region near_overflow"), std::string::npos)
      << ok.output;
}

TEST_F(command, judge_reports_missing_outputs_changed_inputs_and_unimplemented) {
  const std::string out = file("bn");
  ASSERT_EQ(bncheck("export --out " + out + " --case profile_onnx_fwd --case profile_onnx_bwd --case "
                    "profile_onnx_inference").status,
            0);
  ASSERT_EQ(shell(std::string("/usr/bin/python3 ") + BNCHECK_SOURCE_DIR + "/examples/numpy/batch_norm.py " + out).status, 0);
  fs::remove(dir_ / "bn" / "profile_onnx_fwd" / "y.npy");
  write_npy(dir_ / "bn" / "profile_onnx_bwd" / "x.npy", read_npy(dir_ / "bn" / "profile_onnx_bwd" / "dy.npy"));
  write_file_bytes(dir_ / "bn" / "profile_onnx_inference" / "UNIMPLEMENTED", "no inference on this device\n");
  const result r = bncheck("judge --in " + out);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("the kernel wrote no y.npy"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the kernel changed its input x.npy"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0 passed, 2 failed, 1 skipped"), std::string::npos) << r.output;
  EXPECT_EQ(bncheck("judge --in " + out + " --case profile_pytorch_fwd").status, 2);
}

// .bncheck/export.json is outside bytes too: each way of breaking it is bad
// input (exit 2, one line naming the file), never an internal error, and no
// case name in it reaches outside the export (found by fuzz/judge.cpp).
TEST_F(command, judge_refuses_a_malformed_export_json_with_one_line) {
  const std::string out = file("bn");
  ASSERT_EQ(bncheck("export --out " + out + " --case profile_onnx_inference").status, 0);
  for (const std::string json : {"[]", "{\"format\": 7}", "{\"format\": \"bncheck-export\", \"version\": 1}",
                                 "{\"format\": \"bncheck-export\", \"version\": 1, \"golden\": 1, \"cases\": []}",
                                 "{\"format\": \"bncheck-export\", \"version\": 1, \"cases\": [\"../bn/x\"]}",
                                 "{\"format\": \"bncheck-export\", \"version\": 1, \"cases\": [3]}", "{"}) {
    write_file_bytes(dir_ / "bn" / ".bncheck" / "export.json", json);
    const result r = bncheck("judge --in " + out);
    EXPECT_EQ(r.status, 2) << json << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << json << ": " << r.output;
    EXPECT_NE(r.output.find("export.json: "), std::string::npos) << json << ": " << r.output;
  }
}

// A file NOT_PRODUCED in a case folder declares outputs the kernel does not
// compute, as a C plugin's not_produced does: judged only where the
// declaration is one an in-process kernel could make and the files agree.
TEST_F(command, judge_takes_outputs_declared_in_not_produced) {
  const std::string out = file("bn");
  ASSERT_EQ(bncheck("export --out " + out + " --case profile_onnx_fwd --case seeds_example_fwd --case "
                    "seeds_two_rows_fwd --case profile_pytorch_fwd --case profile_cudnn_fwd --case seeds_gpa_iq_fwd")
                .status,
            0);
  const fs::path bn = dir_ / "bn";
  const std::string exported_running_mean = read_file_bytes(bn / "profile_cudnn_fwd" / "running_mean.npy");
  ASSERT_EQ(shell(std::string("/usr/bin/python3 ") + BNCHECK_SOURCE_DIR + "/examples/numpy/batch_norm.py " + out).status, 0);
  // Declared and absent: not checked.
  write_file_bytes(bn / "profile_onnx_fwd" / "NOT_PRODUCED", "var\n");
  fs::remove(bn / "profile_onnx_fwd" / "var.npy");
  // Declared and written anyway: which is meant?
  write_file_bytes(bn / "seeds_example_fwd" / "NOT_PRODUCED", "var\n");
  // y is never optional.
  write_file_bytes(bn / "seeds_two_rows_fwd" / "NOT_PRODUCED", "y\n");
  fs::remove(bn / "seeds_two_rows_fwd" / "y.npy");
  // A name that is no output.
  write_file_bytes(bn / "profile_pytorch_fwd" / "NOT_PRODUCED", "banana\n");
  // A running statistic, updated in place: not produced means left as exported ...
  write_file_bytes(bn / "profile_cudnn_fwd" / "NOT_PRODUCED", "running_mean\n");
  write_file_bytes(bn / "profile_cudnn_fwd" / "running_mean.npy", exported_running_mean);
  // ... and not updated.
  write_file_bytes(bn / "seeds_gpa_iq_fwd" / "NOT_PRODUCED", "running_var\n");

  const result r = bncheck("judge --in " + out + " --json " + file("judge.json"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("2 passed, 4 failed, 0 skipped, of 6 cases"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not checked in 1 case: var (the kernel declares"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not checked in 1 case: running_mean (the kernel declares"), std::string::npos) << r.output;
  std::map<std::string, nlohmann::json> cases;
  const nlohmann::json report = nlohmann::json::parse(read_file_bytes(file("judge.json")));
  for (const auto& c : report["suites"][0]["cases"])
    cases[c["name"].get<std::string>()] = c;
  ASSERT_EQ(cases.size(), 6u) << r.output;
  EXPECT_EQ(cases["profile_onnx_fwd"]["verdict"], "pass");
  EXPECT_EQ(cases["profile_onnx_fwd"]["not_produced"], "var");
  EXPECT_EQ(cases["profile_cudnn_fwd"]["verdict"], "pass");
  EXPECT_EQ(cases["profile_cudnn_fwd"]["not_produced"], "running_mean");
  const std::map<std::string, std::string> failures{
      {"seeds_example_fwd", "declared var not produced in NOT_PRODUCED but wrote var.npy"},
      {"seeds_two_rows_fwd", "declared 'y' not produced, but forward_training must produce it"},
      {"profile_pytorch_fwd", "names 'banana', which is no output of any op"},
      {"seeds_gpa_iq_fwd", "declared running_var not produced in NOT_PRODUCED but wrote running_var.npy"}};
  for (const auto& [name, message] : failures) {
    EXPECT_EQ(cases[name]["verdict"], "fail") << name;
    EXPECT_NE(cases[name]["report"].get<std::string>().find(message), std::string::npos)
        << name << ": " << cases[name]["report"];
    EXPECT_FALSE(cases[name].contains("not_produced")) << name;
  }
}

}  // namespace
}  // namespace bncheck
