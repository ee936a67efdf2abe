// JUnit XML and JSON reports: well-formed (our strict reader and, when
// installed, xmllint), the counts and elements CI reporters read, text that
// XML cannot hold replaced; --shard parsing and partitions; atomic writes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "golden/npy.hpp"
#include "report/report.hpp"
#include "report/shard.hpp"
#include "tests/report/xml_shape.hpp"

namespace bncheck {
namespace {

using testing::check_junit_shape;
using testing::xml_node;
using testing::xml_reader;

outcome make(std::string name, std::string problem, verdict v, double max_normalized, std::string worst,
             std::string report, double seconds, std::vector<std::string> repro = {}) {
  outcome o;
  o.name = std::move(name);
  o.problem_text = std::move(problem);
  o.v = v;
  o.max_normalized = max_normalized;
  o.worst_tensor = std::move(worst);
  o.report = std::move(report);
  o.seconds = seconds;
  o.repro = std::move(repro);
  return o;
}

// A comparison of 2x3 elements of dx: one over its bound in channel 2.
check_result dx_comparison() {
  check_result r;
  r.pass = false;
  r.checked = 6;
  r.failed = 1;
  r.max_normalized = std::numeric_limits<double>::infinity();
  r.worst = {{"dx", 5, 1.0, 2.0, 0.25, std::numeric_limits<double>::infinity(), 8388608, 1, "dx[1,2]"},
             {"dx", 0, 0.5, 0.5, 0.25, 0, 0, 0, "dx[0,0]"}};
  output_errors e;
  e.tensor = "dx";
  e.checked = 6;
  e.failed = 1;
  e.max_normalized = r.max_normalized;
  e.histogram.assign(histogram_bins, 0);
  e.histogram[0] = 4;
  e.histogram[3] = 1;
  e.histogram[histogram_bins - 1] = 1;
  e.channel_max = {0, 1e-5, r.max_normalized};
  r.outputs = {e};
  return r;
}

std::vector<report::suite> sample() {
  outcome pass = make("offset_1e4_f32_nchw", "forward_training nchw f32:f32 mb4ic3ih5iw5", verdict::pass, 0.25, "y", "", 0.002);
  outcome fail = make("tiny <spread> & \"quotes\" 'too'", "backward nc f32:f32 mb2ic3", verdict::fail,
                      std::numeric_limits<double>::infinity(), "dx",
                      "FAIL tiny\n  kernel: k reported a \x01 control char and bad UTF-8 \xff and caf\xc3\xa9\n"
                      "REPRO: bncheck run --kernel ./libk.so --problem 'backward nc f32:f32 mb2ic3'\n",
                      0.5, {"bncheck run --kernel ./libk.so --problem 'backward nc f32:f32 mb2ic3'"});
  fail.check = dx_comparison();
  outcome skip = make("f16_fwd_nchw", "forward_training nchw f16:f32 mb2ic3ih2iw2", verdict::skip, 0, "",
                      "skipped: ./libk.so does not implement this problem: only float32 and float64", 0.001);
  outcome crash = make("crash_case", "forward_inference nc f64:f64 mb2ic2", verdict::fail, 0, "",
                       "FAIL crash_case\n  kernel: ./libk.so reported an error: isolated call: the kernel crashed\n"
                       "REPRO: bncheck run --kernel ./libk.so --problem 'forward_inference nc f64:f64 mb2ic2'\n",
                       0.1, {"bncheck run --kernel ./libk.so --problem 'forward_inference nc f64:f64 mb2ic2'"});
  outcome property = make("shift_invariance", "", verdict::pass, 0, "", "", 1.5);
  property.kind = outcome_kind::property;
  property.cases = 300;
  return {{"golden", {pass, fail, skip, crash}}, {"properties", {property}}};
}

report::run_info info() { return {"./libk.so", "2/4", true, 10, "20250301"}; }

TEST(report_junit, is_well_formed_with_consistent_counts_and_every_element_ci_reads) {
  const std::string xml = report::junit_xml(info(), sample());
  const xml_node root = xml_reader(xml).document();
  check_junit_shape(root);
  EXPECT_EQ(root.attr("tests"), "5");
  EXPECT_EQ(root.attr("failures"), "2");
  EXPECT_EQ(root.attr("skipped"), "1");
  EXPECT_EQ(root.attr("errors"), "0");
  const auto suites = root.all("testsuite");
  ASSERT_EQ(suites.size(), 2u);
  EXPECT_EQ(suites[0]->attr("name"), "golden");
  const auto cases = suites[0]->all("testcase");
  ASSERT_EQ(cases.size(), 4u);
  EXPECT_EQ(cases[0]->attr("classname"), "bncheck.golden");
  EXPECT_TRUE(cases[0]->children.empty());
  // Markup characters survive the round trip exactly.
  EXPECT_EQ(cases[1]->attr("name"), "tiny <spread> & \"quotes\" 'too'");
  const xml_node& failure = *cases[1]->all("failure").at(0);
  EXPECT_EQ(failure.attr("message"), "FAIL tiny");
  EXPECT_EQ(failure.attr("type"), "FAIL");
  // A control character and a broken UTF-8 byte are replaced; valid UTF-8 stays.
  EXPECT_NE(failure.text.find("a ? control char and bad UTF-8 ? and caf\xc3\xa9"), std::string::npos) << failure.text;
  EXPECT_NE(failure.text.find("REPRO: bncheck run --kernel ./libk.so"), std::string::npos);
  EXPECT_EQ(cases[2]->all("skipped").at(0)->attr("message"),
            "skipped: ./libk.so does not implement this problem: only float32 and float64");
  std::map<std::string, std::string> props;
  for (const xml_node* p : suites[0]->all("properties").at(0)->all("property")) props[p->attr("name")] = p->attr("value");
  EXPECT_EQ(props["kernel"], "./libk.so");
  EXPECT_EQ(props["shard"], "2/4");
  EXPECT_EQ(props["isolated"], "true");
  EXPECT_EQ(props["seed"], "20250301");
}

TEST(report_junit, the_shape_check_rejects_what_it_should) {
  EXPECT_THROW(xml_reader("<a><b></a>").document(), std::runtime_error);
  EXPECT_THROW(xml_reader("<a x='1'/>").document(), std::runtime_error);
  EXPECT_THROW(xml_reader("<a>&nbsp;</a>").document(), std::runtime_error);
  EXPECT_THROW(xml_reader("<a>\x01</a>").document(), std::runtime_error);
  EXPECT_THROW(xml_reader("<a/><b/>").document(), std::runtime_error);
  const xml_node lying = xml_reader(
      "<testsuites tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\">"
      "<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\">"
      "<testcase classname=\"c\" name=\"n\" time=\"0\"/></testsuite></testsuites>").document();
  EXPECT_THROW(check_junit_shape(lying), std::runtime_error);
}

TEST(report_junit, xmllint_accepts_it) {
  if (std::system("command -v xmllint > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "xmllint is not installed (ci/deps installs libxml2-utils)";
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("bncheck_junit_" + std::to_string(getpid()) + ".xml");
  report::write_report(file, report::junit_xml(info(), sample()));
  const int status = std::system(("xmllint --noout " + file.string()).c_str());
  std::filesystem::remove(file);
  EXPECT_EQ(status, 0);
}

// A known deviation (check/deviations.hpp) is neither a pass nor a failure:
// JUnit has no "expected failure", so it is a skip whose message says what it
// is and whose body keeps the full report; JSON names it.
TEST(report_junit_json, a_known_deviation_is_a_skip_that_says_so_and_keeps_its_report) {
  outcome known = make("constant_channel_fwd_f32_nchw", "forward_training nchw f32:f32 mb2ic3ih3iw3", verdict::known,
                       std::numeric_limits<double>::infinity(), "y",
                       "KNOWN constant_channel_fwd_f32_nchw (adapters/libtorch/deviations:14: folded affine)\n"
                       "FAIL constant_channel_fwd_f32_nchw\nREPRO: bncheck run --kernel libtorch --case x\n",
                       0.01, {"bncheck run --kernel libtorch --case x"});
  const std::vector<report::suite> suites = {{"golden", {known}}};
  const xml_node root = xml_reader(report::junit_xml(info(), suites)).document();
  check_junit_shape(root);
  EXPECT_EQ(root.attr("failures"), "0");
  EXPECT_EQ(root.attr("skipped"), "1");
  const xml_node& skipped = *root.all("testsuite").at(0)->all("testcase").at(0)->all("skipped").at(0);
  EXPECT_EQ(skipped.attr("message"),
            "known deviation: KNOWN constant_channel_fwd_f32_nchw (adapters/libtorch/deviations:14: folded affine)");
  EXPECT_NE(skipped.text.find("REPRO: bncheck run --kernel libtorch"), std::string::npos) << skipped.text;
  const auto j = nlohmann::json::parse(report::json_report(info(), suites));
  EXPECT_EQ(j["suites"][0]["cases"][0]["verdict"], "known");
  EXPECT_EQ(j["totals"]["known"], 1);
  EXPECT_EQ(j["totals"]["fail"], 0);
  EXPECT_EQ(j["totals"]["cases"], 1);
}

TEST(report_json, holds_every_outcome_with_its_verdict_error_and_repro) {
  const auto j = nlohmann::json::parse(report::json_report(info(), sample()));
  EXPECT_EQ(j["format"], "bncheck-run");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["kernel"], "./libk.so");
  EXPECT_EQ(j["shard"], "2/4");
  EXPECT_EQ(j["isolated"], true);
  EXPECT_EQ(j["timeout_seconds"], 10);
  EXPECT_EQ(j["seed"], "20250301");
  EXPECT_EQ(j["totals"]["cases"], 5);
  EXPECT_EQ(j["totals"]["pass"], 2);
  EXPECT_EQ(j["totals"]["fail"], 2);
  EXPECT_EQ(j["totals"]["skip"], 1);
  const auto& golden = j["suites"][0]["cases"];
  EXPECT_EQ(golden[0]["verdict"], "pass");
  EXPECT_EQ(golden[0]["max_err_over_bound"], 0.25);
  EXPECT_EQ(golden[0]["worst_output"], "y");
  EXPECT_EQ(golden[1]["max_err_over_bound"], "inf");
  EXPECT_EQ(golden[1]["repro"], "bncheck run --kernel ./libk.so --problem 'backward nc f32:f32 mb2ic3'");
  EXPECT_EQ(golden[2]["verdict"], "skip");
  EXPECT_FALSE(golden[2].contains("max_err_over_bound"));
  EXPECT_FALSE(golden[3].contains("max_err_over_bound"));  // a crash compares nothing
  EXPECT_EQ(j["suites"][1]["name"], "properties");
  EXPECT_EQ(j["suites"][1]["cases"][0]["kind"], "property");
  EXPECT_EQ(j["suites"][1]["cases"][0]["cases"], 300);
  EXPECT_EQ(golden[1]["kind"], "case");
  EXPECT_EQ(golden[1]["checked"], 6);
  EXPECT_EQ(golden[1]["failed"], 1);
  EXPECT_EQ(golden[1]["worst_elements"][0]["element"], "dx[1,2]");
  EXPECT_EQ(golden[1]["worst_elements"][0]["err_over_bound"], "inf");
  EXPECT_EQ(golden[1]["worst_elements"][0]["got"], "0x1p+1");
}

// The repro command is the outcome's field: the report's text is not read.
TEST(report_json, takes_the_repro_command_from_the_outcome_not_from_its_text) {
  outcome told = make("told", "forward_training nc f32:f32 mb2ic3", verdict::fail, 3, "y",
                      "FAIL told\n  no repro line in this text\n", 0.1,
                      {"bncheck run --kernel k --property agreement --seed 7", "bncheck run --kernel k --problem 'p'"});
  outcome untold = make("untold", "forward_training nc f32:f32 mb2ic3", verdict::fail, 3, "y",
                        "FAIL untold\nREPRO: bncheck run --kernel from --the text\n", 0.1);
  const auto j = nlohmann::json::parse(report::json_report(info(), {{"golden", {told, untold}}}));
  const auto& cases = j["suites"][0]["cases"];
  EXPECT_EQ(cases[0]["repro"], "bncheck run --kernel k --problem 'p'");
  EXPECT_EQ(cases[0]["repro_commands"].size(), 2u);
  EXPECT_EQ(cases[0]["repro_commands"][0], "bncheck run --kernel k --property agreement --seed 7");
  EXPECT_FALSE(cases[1].contains("repro")) << cases[1].dump();
}

// The HTML report is well-formed (as XML too: our strict reader), escapes
// what it shows, and holds for a failure the histogram, the worst
// elements, the per-channel picture and the repro command to copy.
TEST(report_html, is_well_formed_and_shows_the_pictures_and_repro_of_a_failure) {
  const std::string html = report::html_report(info(), sample());
  const std::string doctype = "<!DOCTYPE html>\n";
  ASSERT_EQ(html.rfind(doctype, 0), 0u) << html.substr(0, 100);
  const xml_node root = xml_reader("<?xml version=\"1.0\"?>" + html.substr(doctype.size())).document();
  EXPECT_EQ(root.name, "html");
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, nothing to run
  EXPECT_EQ(html.find("http://", html.find("</head>")), html.find("http://www.w3.org/2000/svg"));
  EXPECT_NE(html.find("<svg class=\"histogram\""), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"channels\""), std::string::npos);
  EXPECT_NE(html.find("<td>dx[1,2]</td>"), std::string::npos);
  EXPECT_NE(html.find("<pre class=\"repro\"><code>bncheck run --kernel ./libk.so --problem &#39;backward nc f32:f32 "
                      "mb2ic3&#39;</code></pre>"),
            std::string::npos);
  EXPECT_NE(html.find("tiny &lt;spread&gt; &amp; &quot;quotes&quot; &#39;too&#39;"), std::string::npos);
  EXPECT_EQ(html.find("\x01"), std::string::npos);
  EXPECT_EQ(html.find("\xff"), std::string::npos);
  EXPECT_NE(html.find("caf\xc3\xa9"), std::string::npos);
  // The histogram's bars: one <rect> per bin with its count in the tooltip.
  EXPECT_NE(html.find("<title>0: 4</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>1e4+: 1</title>"), std::string::npos);
}

TEST(report_files, are_written_whole_and_a_missing_folder_is_an_input_error) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("bncheck_report_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  report::write_report(dir / "r.json", "{}\n");
  EXPECT_EQ(read_file_bytes(dir / "r.json"), "{}\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temporary left
  EXPECT_THROW(report::write_report(dir / "no" / "r.json", "{}"), input_error);
  std::filesystem::remove_all(dir);
}

TEST(report_shard, parses_i_of_n_and_refuses_anything_else) {
  const report::shard s = report::parse_shard("2/4");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(report::to_string(s), "2/4");
  for (const char* bad : {"0/4", "5/4", "1/0", "a/b", "2", "1/4x", "-1/4", "/4", "1/", ""})
    EXPECT_THROW(report::parse_shard(bad), input_error) << bad;
}

TEST(report_shard, shards_partition_the_list_evenly_and_deterministically) {
  std::vector<int> list(65);
  for (int i = 0; i < 65; ++i) list[i] = i;
  for (int n = 1; n <= 8; ++n) {
    std::set<int> seen;
    std::size_t smallest = list.size(), largest = 0;
    for (int i = 1; i <= n; ++i) {
      const auto part = report::select_shard({i, n}, list);
      EXPECT_EQ(part, report::select_shard({i, n}, list));
      smallest = std::min(smallest, part.size());
      largest = std::max(largest, part.size());
      for (int v : part) EXPECT_TRUE(seen.insert(v).second) << v << " in two shards of " << n;
    }
    EXPECT_EQ(seen.size(), list.size());
    EXPECT_LE(largest - smallest, 1u);
  }
}

}  // namespace
}  // namespace bncheck
