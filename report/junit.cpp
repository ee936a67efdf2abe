// JUnit XML for CI test reporters (Jenkins, GitLab, GitHub test-report actions).
#include <cstdio>
#include <sstream>

#include "report/report.hpp"

namespace bncheck::report {
namespace {

// Length of the valid UTF-8 sequence at s[i] that is allowed in XML 1.0, or 0.
std::size_t xml_char_length(const std::string& s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
  std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  unsigned long cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  const bool excluded = (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF;
  return overlong || excluded ? 0 : n;
}

// Text as XML character data or attribute value: markup escaped, anything
// XML 1.0 cannot hold replaced by '?'.
std::string escape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = xml_char_length(s, i);
    if (n == 0) {
      out += '?';
      ++i;
      continue;
    }
    switch (s[i]) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.append(s, i, n);
    }
    i += n;
  }
  return out;
}

// Attribute values must not carry raw newlines (they normalize to spaces).
std::string attribute(const std::string& s) {
  std::string a = escape(s);
  std::string out;
  for (char c : a) {
    if (c == '\n') out += "&#10;";
    else if (c == '\r') out += "&#13;";
    else if (c == '\t') out += "&#9;";
    else out += c;
  }
  return out;
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

counts count(const std::vector<case_outcome>& outcomes) {
  counts c;
  for (const case_outcome& o : outcomes) {
    ++c.tests;
    c.failures += o.v == verdict::fail;
    c.skipped += o.v == verdict::skip || o.v == verdict::known;
    c.time += o.seconds;
  }
  return c;
}

std::string totals(const counts& c) {
  return "tests=\"" + std::to_string(c.tests) + "\" failures=\"" + std::to_string(c.failures) +
         "\" errors=\"0\" skipped=\"" + std::to_string(c.skipped) + "\" time=\"" + seconds(c.time) + "\"";
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
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"" << attribute("bncheck " + run.kernel) << "\" " << totals(all) << ">\n";
  for (const suite& s : suites) {
    x << "  <testsuite name=\"" << attribute(s.name) << "\" " << totals(count(s.outcomes)) << ">\n";
    x << "    <properties>\n";
    x << "      <property name=\"kernel\" value=\"" << attribute(run.kernel) << "\"/>\n";
    if (!run.seed.empty()) x << "      <property name=\"seed\" value=\"" << attribute(run.seed) << "\"/>\n";
    if (!run.shard.empty()) x << "      <property name=\"shard\" value=\"" << attribute(run.shard) << "\"/>\n";
    x << "      <property name=\"isolated\" value=\"" << (run.isolated ? "true" : "false") << "\"/>\n";
    if (run.isolated)
      x << "      <property name=\"timeout_seconds\" value=\"" << run.timeout_seconds << "\"/>\n";
    x << "    </properties>\n";
    for (const case_outcome& o : s.outcomes) {
      x << "    <testcase classname=\"" << attribute("bncheck." + s.name) << "\" name=\"" << attribute(o.name)
        << "\" time=\"" << seconds(o.seconds) << "\"";
      if (o.v == verdict::pass) {
        x << "/>\n";
        continue;
      }
      x << ">\n";
      if (o.v == verdict::fail)
        x << "      <failure message=\"" << attribute(first_line(o.report)) << "\" type=\"FAIL\">"
          << escape(o.report) << "</failure>\n";
      else if (o.v == verdict::known)  // JUnit has no "expected failure": a skip that says what it is
        x << "      <skipped message=\"" << attribute("known deviation: " + first_line(o.report)) << "\">"
          << escape(o.report) << "</skipped>\n";
      else
        x << "      <skipped message=\"" << attribute(o.report) << "\"/>\n";
      x << "    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

}  // namespace bncheck::report
