// Known deviations: the file is read strictly (line numbers in every error),
// and applying it waives only the recorded failure: a listed case that
// passes again fails (stale), a failure on another tensor stays a failure.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "check/deviations.hpp"
#include "core/error.hpp"
#include "report/terminal.hpp"

namespace bncheck {
namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const std::filesystem::path path = std::filesystem::path(::testing::TempDir()) / name;
  std::ofstream(path) << text;
  return path.string();
}

outcome make_outcome(const std::string& name, verdict v, const std::string& worst) {
  outcome o;
  o.name = name;
  o.problem_text = "forward_training nc f32:f32 mb2ic1";
  o.v = v;
  o.worst_tensor = worst;
  o.report = v == verdict::fail ? "FAIL " + name + "\n" : "";
  return o;
}

TEST(deviations, reads_cases_and_excludes) {
  const deviations d = read_deviations(write_file("good", R"(# a comment

case a y -- folded affine
case-or-pass b dbeta -- per-thread sums
exclude constant-channels -- folded affine
exclude long-reductions -- sequential sums
exclude data-type bf16 -- flushes subnormals
exclude region near_overflow -- sums x in float
)"));
  ASSERT_EQ(d.cases.size(), 2u);
  EXPECT_EQ(d.cases[0].case_name, "a");
  EXPECT_EQ(d.cases[0].tensor, "y");
  EXPECT_FALSE(d.cases[0].may_pass);
  EXPECT_EQ(d.cases[0].reason, "folded affine");
  EXPECT_EQ(d.cases[0].line, 3);
  EXPECT_TRUE(d.cases[1].may_pass);
  EXPECT_FALSE(d.constant_channels);
  EXPECT_FALSE(d.long_reductions);
  EXPECT_EQ(d.excluded_data_types, std::vector<dtype>{dtype::bf16});
  EXPECT_EQ(d.excluded_regions, std::vector<std::string>{"near_overflow"});
  const std::string text = describe_exclusions(d);
  EXPECT_NE(text.find("exclude constant-channels"), std::string::npos) << text;
  EXPECT_NE(text.find("good:7: flushes subnormals"), std::string::npos) << text;
}

TEST(deviations, refuses_what_it_does_not_understand_with_file_and_line) {
  const std::pair<const char*, const char*> bad[] = {
      {"case a y\n", "needs a reason"},
      {"case a -- no tensor\n", "expected 'case CASE TENSOR"},
      {"case a yy -- what tensor\n", "'yy' is not an output tensor"},
      {"case a y extra -- too many words\n", "expected 'case CASE TENSOR"},
      {"case a y -- one\ncase a dx -- twice\n", "listed twice"},
      {"exclude everything -- no\n", "expected 'exclude constant-channels'"},
      {"exclude data-type f8 -- no such type\n", "unknown data type 'f8'"},
      {"exclude region -- which\n", "'exclude region R'"},
      {"waive a -- no\n", "starts with 'case'"},
  };
  for (const auto& [text, why] : bad) {
    const std::string path = write_file("bad", text);
    try {
      read_deviations(path);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const input_error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path + ":"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(read_deviations("/nonexistent/deviations"), input_error);
}

TEST(deviations, waive_only_the_recorded_failure_and_fail_stale_lines) {
  const deviations d = read_deviations(write_file("apply", R"(case known_fail y -- recorded
case now_passes y -- recorded, fixed since
case other_tensor y -- recorded on y
case-or-pass flaky dbeta -- thread count
case skipped y -- out of reach here
)"));
  std::vector<outcome> o = {make_outcome("known_fail", verdict::fail, "y"),
                            make_outcome("now_passes", verdict::pass, "y"),
                            make_outcome("other_tensor", verdict::fail, "invstd"),
                            make_outcome("flaky", verdict::pass, "dbeta"),
                            make_outcome("skipped", verdict::skip, ""),
                            make_outcome("unlisted", verdict::fail, "y")};
  apply_deviations(d, o);
  EXPECT_EQ(o[0].v, verdict::known);
  EXPECT_NE(o[0].report.find("KNOWN known_fail"), std::string::npos) << o[0].report;
  EXPECT_NE(o[0].report.find("recorded"), std::string::npos);
  EXPECT_EQ(o[1].v, verdict::fail);
  EXPECT_NE(o[1].report.find("stale known deviation"), std::string::npos) << o[1].report;
  EXPECT_EQ(o[2].v, verdict::fail);
  EXPECT_NE(o[2].report.find("not waived"), std::string::npos) << o[2].report;
  EXPECT_EQ(o[3].v, verdict::pass);
  EXPECT_EQ(o[4].v, verdict::skip);
  EXPECT_EQ(o[5].v, verdict::fail);
  // The table counts known deviations apart and lists them with failures.
  std::ostringstream table;
  const report::gate_totals t = report::print_table(o, "k", table, /*failures_only=*/true);
  EXPECT_EQ(t.known, 1);
  EXPECT_EQ(t.fail, 3);
  EXPECT_NE(table.str().find("1 known deviations"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("known_fail"), std::string::npos) << table.str();
}

TEST(deviations, a_case_missing_from_the_corpus_is_named) {
  const deviations d = read_deviations(write_file("typo", "case constant_chanel_fwd y -- typo\n"));
  const std::vector<std::string> unknown = unknown_cases(d, {"constant_channel_fwd"});
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_NE(unknown[0].find("no golden case 'constant_chanel_fwd'"), std::string::npos);
  EXPECT_TRUE(unknown_cases(d, {"constant_chanel_fwd"}).empty());
}

}  // namespace
}  // namespace bncheck
