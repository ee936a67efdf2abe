// The bncheck command end to end: exit codes 0/1/2, one-line errors for bad
// input, nothing half-written, and the reference command read back by numpy.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/tensor.hpp"
#include "golden/npy.hpp"
#include "golden/store.hpp"
#include "mutants/catalog.hpp"
#include "tests/support/shell.hpp"

namespace fs = std::filesystem;

namespace bncheck {
namespace {

using result = testing::shell_result;

result bncheck(const std::string& args) { return testing::shell(std::string(BNCHECK_BIN) + " " + args); }

class cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bncheck_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A valid nchw f32 input folder: x (2,3,2,2), gamma, beta (3), dy.
  void write_inputs() {
    tensor x{dtype::f32, {2, 3, 2, 2}, {}};
    for (int i = 0; i < 24; ++i) x.values.push_back(0.25 * i - 1.5 + (i % 3) * 0.125);
    write_npy(dir_ / "in/x.npy", x);
    write_npy(dir_ / "in/dy.npy", tensor{dtype::f32, {2, 3, 2, 2}, std::vector<double>(24, 0.5)});
    write_npy(dir_ / "in/gamma.npy", tensor{dtype::f32, {3}, {1.0, -2.0, 0.5}});
    write_npy(dir_ / "in/beta.npy", tensor{dtype::f32, {3}, {0.0, 0.25, -1.0}});
  }
  std::string in() const { return (dir_ / "in").string(); }
  std::string out() const { return (dir_ / "out").string(); }
  fs::path dir_;
};

TEST_F(cli, help_documents_every_command) {
  const result r = bncheck("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* word : {"run", "golden", "reference"}) EXPECT_NE(r.output.find(word), std::string::npos);
  EXPECT_EQ(bncheck("reference --help").status, 0);
}

TEST_F(cli, usage_errors_exit_2) {
  EXPECT_EQ(bncheck("").status, 2);
  EXPECT_EQ(bncheck("frobnicate").status, 2);
  EXPECT_EQ(bncheck("run --kernel nosuch --problem 'nc mb2ic3'").status, 2);
}

TEST_F(cli, bad_problem_text_is_one_line_and_exit_2) {
  for (const char* text : {"nchw mb-2ic3ih2iw2", "nchw mb2ic3ih2iw2 eps=nan",
                           "nchw mb99999999999ic99999999999ih99999iw99999", "nchw mb2ic3 colour=red"}) {
    const result r = bncheck(std::string("run --problem '") + text + "'");
    EXPECT_EQ(r.status, 2) << text << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_EQ(r.output.rfind("bncheck: ", 0), 0u) << r.output;
  }
}

// A problem whose tensors cannot fit in this machine's memory is bad input,
// refused before anything is allocated, with the bytes it would need (it
// was an internal error: std::bad_alloc, exit 3).
TEST_F(cli, a_problem_too_large_for_the_machine_is_one_line_and_exit_2) {
  for (const char* text : {"forward_training nchw f32:f32 mb99999999999ic3ih2iw2", "backward nc f64:f64 mb4000000000ic1000"}) {
    const result r = bncheck(std::string("run --kernel eigen --problem '") + text + "'");
    EXPECT_EQ(r.status, 2) << text << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find("too large for this machine"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("GiB"), std::string::npos) << r.output;
  }
}

TEST_F(cli, run_on_a_generated_problem_passes_for_our_kernel) {
  const result r = bncheck("run --kernel eigen --problem 'backward nhwc f32:f32 mb2ic3ih3iw3 seed=4'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("1 passed, 0 failed"), std::string::npos) << r.output;
}

TEST_F(cli, reference_writes_every_output_and_numpy_reads_them) {
  write_inputs();
  const result r = bncheck("reference --in " + in() + " --out " + out() + " --layout nchw --eps 1e-5");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* name : {"y", "mean", "var", "invstd", "dx", "dgamma", "dbeta"}) {
    const tensor t = read_npy(dir_ / "out" / (std::string(name) + ".npy"));
    EXPECT_EQ(t.type, dtype::f64) << name;
  }
  // y is normalized per channel: mean ~0 and variance ~var/(var+eps), read by numpy.
  const std::string py = "/usr/bin/python3";
  if (std::system((py + " -c 'import numpy' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "/usr/bin/python3 has no numpy (install python3-numpy) so the numpy read is not checked";
  const std::string script =
      py + " -c \"import numpy as n; y=n.load('" + out() + "/y.npy'); g=n.load('" + in() + "/gamma.npy');"
      " b=n.load('" + in() + "/beta.npy'); z=(y-b[None,:,None,None])/g[None,:,None,None]; m=z.mean(axis=(0,2,3)); assert y.dtype==n.float64 and y.shape==(2,3,2,2);"
      " assert abs(m).max() < 1e-6, m\"";
  EXPECT_EQ(std::system(script.c_str()), 0);
}

TEST_F(cli, reference_rejects_bad_input_with_exit_2_and_writes_nothing) {
  write_inputs();
  // Truncated x.
  {
    std::string bytes = read_file_bytes(dir_ / "in/x.npy");
    write_file_bytes(dir_ / "in/x.npy", bytes.substr(0, bytes.size() - 5));
  }
  result r = bncheck("reference --in " + in() + " --out " + out());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  // Not an npy at all.
  write_file_bytes(dir_ / "in/x.npy", "hello");
  EXPECT_EQ(bncheck("reference --in " + in() + " --out " + out()).status, 2);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  // Shape that does not match the layout: rank 3 for nchw; gamma of the wrong length.
  write_inputs();
  write_npy(dir_ / "in/x.npy", tensor{dtype::f32, {2, 3, 4}, std::vector<double>(24, 1.0)});
  r = bncheck("reference --in " + in() + " --out " + out() + " --layout nchw");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("layout nchw"), std::string::npos) << r.output;
  write_inputs();
  write_npy(dir_ / "in/gamma.npy", tensor{dtype::f32, {4}, {1, 1, 1, 1}});
  EXPECT_EQ(bncheck("reference --in " + in() + " --out " + out()).status, 2);
  // NaN eps.
  write_inputs();
  EXPECT_EQ(bncheck("reference --in " + in() + " --out " + out() + " --eps nan").status, 2);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(cli, reference_refuses_to_overwrite_a_folder_with_content) {
  write_inputs();
  fs::create_directories(dir_ / "out");
  write_file_bytes(dir_ / "out/keep.txt", "mine");
  EXPECT_EQ(bncheck("reference --in " + in() + " --out " + out()).status, 2);
  EXPECT_EQ(read_file_bytes(dir_ / "out/keep.txt"), "mine");
}

// Inference on values chosen so that every y is exact: running_var + eps is
// 1, 4 and 16 (eps = 0.25), so y = gamma * (x - running_mean) / {1, 2, 4} + beta
// holds few enough bits to be exact in double, and the expected values are
// computed here in plain double arithmetic.
TEST_F(cli, reference_op_forward_inference_gives_the_exact_y) {
  const std::vector<int64_t> shape{2, 3, 1, 2};  // nchw
  tensor x{dtype::f32, shape, {}};
  for (int i = 0; i < 12; ++i) x.values.push_back(0.5 * i - 2.75);
  const std::vector<double> gamma{1.0, -2.0, 0.5}, beta{0.0, 0.25, -1.0};
  const std::vector<double> mean{0.5, -1.25, 3.0}, var{0.75, 3.75, 15.75}, root{1.0, 2.0, 4.0};
  write_npy(dir_ / "in/x.npy", x);
  write_npy(dir_ / "in/gamma.npy", tensor{dtype::f32, {3}, gamma});
  write_npy(dir_ / "in/beta.npy", tensor{dtype::f32, {3}, beta});
  write_npy(dir_ / "in/running_mean.npy", tensor{dtype::f32, {3}, mean});
  write_npy(dir_ / "in/running_var.npy", tensor{dtype::f32, {3}, var});
  const result r = bncheck("reference --op forward_inference --in " + in() + " --out " + out() +
                           " --layout nchw --eps 0.25");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(std::vector<fs::path>(fs::directory_iterator(dir_ / "out"), fs::directory_iterator()),
            std::vector<fs::path>{dir_ / "out/y.npy"});
  const tensor y = read_npy(dir_ / "out/y.npy");
  EXPECT_EQ(y.type, dtype::f64);
  ASSERT_EQ(y.shape, shape);
  for (int i = 0; i < 12; ++i) {
    const int c = (i / 2) % 3;
    EXPECT_EQ(y.values[i], gamma[c] * (x.values[i] - mean[c]) / root[c] + beta[c]) << "element " << i;
  }
}

// Every forward_inference case of the committed corpus, its inputs given to
// bncheck reference: y is the committed expected_y.npy, bit for bit.
TEST_F(cli, reference_op_forward_inference_reproduces_the_golden_expected_y) {
  const fs::path corpus = fs::path(BNCHECK_SOURCE_DIR) / "golden/cases";
  int cases = 0;
  for (const auto& name : list_cases(corpus)) {
    const test_case c = read_case(corpus / name);
    if (c.prob.op != op_kind::forward_inference) continue;
    ++cases;
    const fs::path out = dir_ / ("out_" + name);
    const result r = bncheck("reference --op forward_inference --in " + (corpus / name).string() + " --out " +
                             out.string() + " --layout " + std::string(to_string(c.prob.lay)) + " --dtype " +
                             std::string(to_string(c.prob.data_type)) + " --eps " + hex_float(c.prob.eps));
    ASSERT_EQ(r.status, 0) << name << "\n" << r.output;
    const tensor got = read_npy(out / "y.npy"), want = read_npy(corpus / name / "expected_y.npy");
    ASSERT_EQ(got.shape, want.shape) << name;
    for (std::size_t i = 0; i < want.values.size(); ++i)
      EXPECT_EQ(hex_float(got.values[i]), hex_float(want.values[i])) << name << " element " << i;
  }
  EXPECT_GE(cases, 5) << "the corpus should hold forward_inference cases";
}

TEST_F(cli, reference_op_forward_inference_without_running_statistics_is_one_line_and_exit_2) {
  write_inputs();
  result r = bncheck("reference --op forward_inference --in " + in() + " --out " + out());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("running_mean.npy and running_var.npy"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  // One of the two is not enough.
  write_npy(dir_ / "in/running_mean.npy", tensor{dtype::f32, {3}, {0, 0, 0}});
  r = bncheck("reference --op forward_inference --in " + in() + " --out " + out());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("needs running_var.npy"), std::string::npos) << r.output;
  // Both, one of the wrong length.
  write_npy(dir_ / "in/running_var.npy", tensor{dtype::f32, {4}, {1, 1, 1, 1}});
  r = bncheck("reference --op forward_inference --in " + in() + " --out " + out());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("running_var.npy has shape (4)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  // An op that does not exist.
  r = bncheck("reference --op sideways --in " + in() + " --out " + out());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

// --op forward_training and --op backward split what the default writes
// from a folder with dy.npy, value for value.
TEST_F(cli, reference_op_training_and_backward_split_the_default_outputs) {
  write_inputs();
  ASSERT_EQ(bncheck("reference --in " + in() + " --out " + out()).status, 0);
  const fs::path fwd = dir_ / "fwd", bwd = dir_ / "bwd";
  result r = bncheck("reference --op forward_training --in " + in() + " --out " + fwd.string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = bncheck("reference --op backward --in " + in() + " --out " + bwd.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto bytes = [](const fs::path& dir, const std::string& name) { return read_file_bytes(dir / (name + ".npy")); };
  for (const char* n : {"y", "mean", "var", "invstd"}) EXPECT_EQ(bytes(fwd, n), bytes(dir_ / "out", n)) << n;
  for (const char* n : {"dx", "dgamma", "dbeta"}) {
    EXPECT_EQ(bytes(bwd, n), bytes(dir_ / "out", n)) << n;
    EXPECT_FALSE(fs::exists(fwd / (std::string(n) + ".npy"))) << n;
  }
  EXPECT_FALSE(fs::exists(bwd / "y.npy"));
  fs::remove(dir_ / "in/dy.npy");
  r = bncheck("reference --op backward --in " + in() + " --out " + (dir_ / "bwd2").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--op backward needs dy.npy"), std::string::npos) << r.output;
}

TEST_F(cli, run_and_verify_report_a_corrupted_golden_array_with_exit_2) {
  const fs::path corpus = fs::path(BNCHECK_SOURCE_DIR) / "golden/cases";
  ASSERT_TRUE(fs::is_directory(corpus));
  fs::copy(corpus, dir_ / "cases", fs::copy_options::recursive);
  // Flip one byte of the first case's x.
  fs::path victim;
  for (const auto& e : fs::directory_iterator(dir_ / "cases"))
    if (fs::is_directory(e) && (victim.empty() || e.path() < victim)) victim = e.path();
  std::string bytes = read_file_bytes(victim / "x.npy");
  bytes[bytes.size() - 1] ^= 0x40;
  write_file_bytes(victim / "x.npy", bytes);
  const std::string name = victim.filename().string();
  result r = bncheck("run --kernel eigen --golden " + (dir_ / "cases").string() + " --case " + name);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(name), std::string::npos) << r.output;
  r = bncheck("golden verify --dir " + (dir_ / "cases").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(name), std::string::npos) << r.output;
}

TEST_F(cli, a_broken_kernel_fails_with_exit_1_and_its_repro_line_reproduces_the_failure) {
  const result r = bncheck("run --kernel naive_variance --golden " +
                           (fs::path(BNCHECK_SOURCE_DIR) / "golden/cases").string() + " --case offset_1e4_f32_nchw");
  EXPECT_EQ(r.status, 1) << r.output;
  const std::string prefix = "REPRO: bncheck ";
  const auto at = r.output.find(prefix);
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string args = r.output.substr(at + prefix.size(), r.output.find('\n', at) - at - prefix.size());
  const result again = bncheck(args);
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_NE(again.output.find("FAIL"), std::string::npos) << again.output;
}

// Detection power, enforced: the default gate kills every mutant of the
// catalog and passes every correct control (issue 3).
TEST_F(cli, mutants_are_all_killed_and_controls_all_pass) {
  const result r = bncheck("mutants --golden " + (fs::path(BNCHECK_SOURCE_DIR) / "golden/cases").string());
  EXPECT_EQ(r.status, 0) << r.output;
  const std::size_t n = mutants::mutant_catalog().size(), c = mutants::control_catalog().size();
  EXPECT_GE(n, 30u);
  EXPECT_GE(c, 4u);
  EXPECT_NE(r.output.find("killed " + std::to_string(n) + " of " + std::to_string(n)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("controls passed " + std::to_string(c) + " of " + std::to_string(c)), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("SURVIVED"), std::string::npos) << r.output;
}

TEST_F(cli, gate_on_the_committed_corpus_passes_for_our_kernel) {
  const result r = bncheck("run --kernel eigen --golden " + (fs::path(BNCHECK_SOURCE_DIR) / "golden/cases").string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(" 0 failed"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bncheck
