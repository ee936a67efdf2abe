// Regeneration reproduces the committed corpus byte for byte, and a run that
// fails or is killed midway leaves the previous corpus exactly as it was.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

#include "golden/regen.hpp"
#include "golden/store.hpp"
#include "tests/golden/temp_dir.hpp"

namespace bncheck {
namespace {

namespace fs = std::filesystem;

// A few small cases, and a different few, for the atomicity tests.
std::vector<case_spec> some_specs(std::initializer_list<const char*> names) {
  std::vector<case_spec> out;
  for (const auto& s : corpus_specs())
    for (const char* n : names)
      if (s.name == n) out.push_back(s);
  return out;
}
const std::initializer_list<const char*> first_set = {"seeds_example_fwd", "seeds_gpa_iq_bwd", "profile_onnx_inference"};
const std::initializer_list<const char*> second_set = {"seeds_two_rows_fwd", "batch_one_bwd_f32_nc", "eps_100_fwd_f64_nc",
                                                       "f16_fwd_nchw", "bf16_bwd_nchw"};

std::vector<std::string> siblings(const fs::path& parent) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(parent)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(regen, reproduces_the_committed_corpus_byte_for_byte) {
  temp_dir tmp;
  std::ostringstream progress;
  const regen_stats stats = regen(tmp.path() / "cases", progress);
  const auto fresh = snapshot(tmp.path() / "cases");
  const auto committed = snapshot(committed_corpus());
  EXPECT_EQ(stats.cases, corpus_specs().size());
  ASSERT_FALSE(committed.empty()) << "no committed corpus under " << committed_corpus();
  for (const auto& [file, bytes] : committed) {
    const auto it = fresh.find(file);
    if (it == fresh.end()) ADD_FAILURE() << file << " is committed but no longer generated";
    else EXPECT_TRUE(it->second == bytes) << file << " differs from the committed bytes: run bncheck_golden_regen";
  }
  for (const auto& [file, bytes] : fresh)
    EXPECT_TRUE(committed.count(file)) << file << " is generated but not committed";
  std::uintmax_t total = 0;
  for (const auto& [file, bytes] : fresh) total += bytes.size();
  EXPECT_EQ(stats.bytes, total);
  EXPECT_NE(progress.str().find("[1/" + std::to_string(stats.cases) + "] "), std::string::npos) << progress.str();
  EXPECT_EQ(siblings(tmp.path()), std::vector<std::string>{"cases"});
  std::printf("regen: %zu cases, %ju bytes, %.2f s, %lld rounding escalations, max precision %u bits\n",
              stats.cases, stats.bytes, stats.seconds, static_cast<long long>(stats.rounding.escalations),
              stats.rounding.max_precision);
}

TEST(regen, a_failure_midway_leaves_the_previous_corpus_untouched) {
  temp_dir tmp;
  const fs::path corpus = tmp.path() / "cases";
  std::ostringstream progress;
  regen_options first;
  first.specs = some_specs(first_set);
  regen(corpus, progress, first);
  const auto before = snapshot(corpus);
  ASSERT_EQ(list_cases(corpus).size(), 3u);

  regen_options failing;
  failing.specs = some_specs(second_set);
  failing.after_case = [](std::size_t done, const std::string&) {
    if (done == 3) throw std::runtime_error("injected failure after 3 cases");
  };
  EXPECT_THROW(regen(corpus, progress, failing), std::runtime_error);
  EXPECT_TRUE(snapshot(corpus) == before) << "the corpus changed although regeneration failed";
  EXPECT_EQ(siblings(tmp.path()), std::vector<std::string>{"cases"}) << "temporary folder left behind";

  failing.after_case = nullptr;
  regen(corpus, progress, failing);
  EXPECT_EQ(list_cases(corpus), (std::vector<std::string>{"batch_one_bwd_f32_nc", "bf16_bwd_nchw", "eps_100_fwd_f64_nc",
                                                          "f16_fwd_nchw", "seeds_two_rows_fwd"}));
  EXPECT_EQ(siblings(tmp.path()), std::vector<std::string>{"cases"});
}

TEST(regen, a_killed_run_leaves_the_corpus_whole_and_the_next_run_removes_its_leftovers) {
  temp_dir tmp;
  const fs::path corpus = tmp.path() / "cases";
  std::ostringstream progress;
  regen_options first;
  first.specs = some_specs(first_set);
  regen(corpus, progress, first);
  const auto before = snapshot(corpus);

  std::fflush(nullptr);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    regen_options killed;
    killed.specs = some_specs(second_set);
    killed.after_case = [](std::size_t done, const std::string&) {
      if (done == 2) kill(getpid(), SIGKILL);  // no unwinding, no cleanup: as if killed from outside
    };
    std::ostringstream quiet;
    regen(corpus, quiet, killed);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child was not killed";
  EXPECT_TRUE(snapshot(corpus) == before) << "a killed regeneration changed the corpus";
  const std::string leftover = "cases.regen-" + std::to_string(child);
  EXPECT_EQ(siblings(tmp.path()), (std::vector<std::string>{"cases", leftover}));

  regen(corpus, progress, first);
  EXPECT_EQ(siblings(tmp.path()), std::vector<std::string>{"cases"}) << "stale temporary folder not removed";
  EXPECT_TRUE(snapshot(corpus) == before) << "regeneration is not deterministic";
}

TEST(regen, creates_the_corpus_folder_when_it_does_not_exist) {
  temp_dir tmp;
  regen_options one;
  one.specs = some_specs({"seeds_example_fwd"});
  std::ostringstream progress;
  const regen_stats s = regen(tmp.path() / "new" / "cases", progress, one);
  EXPECT_EQ(s.cases, 1u);
  EXPECT_EQ(list_cases(tmp.path() / "new" / "cases"), std::vector<std::string>{"seeds_example_fwd"});
  EXPECT_EQ(progress.str().rfind("[1/1] seeds_example_fwd ", 0), 0u) << progress.str();
}

}  // namespace
}  // namespace bncheck
