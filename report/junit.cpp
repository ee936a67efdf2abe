// JUnit XML for CI test reporters (Jenkins, GitLab, GitHub test-report actions),
// built as a pugixml tree, so markup is escaped by the writer.
#include <cstdio>
#include <pugixml.hpp>
#include <sstream>

#include "report/report.hpp"
#include "report/xml_chars.hpp"

namespace bncheck::report {
namespace {

// Text XML 1.0 can hold: pugixml escapes markup but passes bytes through, and
// writes a control character as a character reference that XML 1.0 forbids.
// So each byte that does not start an allowed UTF-8 character becomes '?'.
std::string xml_text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = xml_char_length(s, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

void set(pugi::xml_node n, const char* key, const std::string& value) {
  n.append_attribute(key).set_value(xml_text(value).c_str());
}

pugi::xml_node element(pugi::xml_node parent, const char* name, const std::string& text = "") {
  pugi::xml_node e = parent.append_child(name);
  if (!text.empty()) e.append_child(pugi::node_pcdata).set_value(xml_text(text).c_str());
  return e;
}

std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", s);
  return text;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

struct counts {
  int tests = 0, failures = 0, skipped = 0;
  double time = 0;
};

counts count(const std::vector<outcome>& outcomes) {
  counts c;
  for (const outcome& o : outcomes) {
    ++c.tests;
    c.failures += o.v == verdict::fail;
    c.skipped += o.v == verdict::skip || o.v == verdict::known;
    c.time += o.seconds;
  }
  return c;
}

void totals(pugi::xml_node n, const counts& c) {
  set(n, "tests", std::to_string(c.tests));
  set(n, "failures", std::to_string(c.failures));
  set(n, "errors", "0");
  set(n, "skipped", std::to_string(c.skipped));
  set(n, "time", seconds(c.time));
}

void property(pugi::xml_node properties, const char* name, const std::string& value) {
  pugi::xml_node p = properties.append_child("property");
  set(p, "name", name);
  set(p, "value", value);
}

}  // namespace

std::string junit_xml(const run_info& run, const std::vector<suite>& suites) {
  counts all;
  for (const suite& s : suites) {
    const counts c = count(s.outcomes);
    all.tests += c.tests;
    all.failures += c.failures;
    all.skipped += c.skipped;
    all.time += c.time;
  }
  std::ostringstream timeout;
  timeout << run.timeout_seconds;

  pugi::xml_document doc;
  pugi::xml_node declaration = doc.append_child(pugi::node_declaration);
  set(declaration, "version", "1.0");
  set(declaration, "encoding", "UTF-8");
  pugi::xml_node root = doc.append_child("testsuites");
  set(root, "name", "bncheck " + run.kernel);
  totals(root, all);
  for (const suite& s : suites) {
    pugi::xml_node suite = root.append_child("testsuite");
    set(suite, "name", s.name);
    totals(suite, count(s.outcomes));
    pugi::xml_node properties = suite.append_child("properties");
    property(properties, "kernel", run.kernel);
    if (!run.seed.empty()) property(properties, "seed", run.seed);
    if (!run.shard.empty()) property(properties, "shard", run.shard);
    property(properties, "isolated", run.isolated ? "true" : "false");
    if (run.isolated) property(properties, "timeout_seconds", timeout.str());
    for (const outcome& o : s.outcomes) {
      pugi::xml_node testcase = suite.append_child("testcase");
      set(testcase, "classname", "bncheck." + s.name);
      set(testcase, "name", o.name);
      set(testcase, "time", seconds(o.seconds));
      if (o.v == verdict::fail) {
        pugi::xml_node failure = element(testcase, "failure", o.report);
        set(failure, "message", first_line(o.report));
        set(failure, "type", "FAIL");
      } else if (o.v == verdict::known) {  // JUnit has no "expected failure": a skip that says what it is
        set(element(testcase, "skipped", o.report), "message", "known deviation: " + first_line(o.report));
      } else if (o.v == verdict::skip) {
        set(element(testcase, "skipped"), "message", o.report);
      }
    }
  }
  std::ostringstream x;
  doc.save(x, "  ", pugi::format_indent, pugi::encoding_utf8);
  return x.str();
}

}  // namespace bncheck::report
