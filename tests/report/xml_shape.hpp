// A small, strict XML reader for the tests: well-formedness (one root,
// matched tags, quoted attributes, only the five predefined entities and
// character references, only XML 1.0 characters) and a tree to check the
// shape of a JUnit report against. Throws std::runtime_error on anything else.
#pragma once

#include <cctype>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bncheck::testing {

struct xml_node {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<xml_node> children;
  std::string text;  ///< character data directly inside, entities decoded

  const std::string& attr(const std::string& key) const {
    auto it = attributes.find(key);
    if (it == attributes.end()) throw std::runtime_error("<" + name + "> lacks attribute " + key);
    return it->second;
  }
  std::vector<const xml_node*> all(const std::string& child) const {
    std::vector<const xml_node*> found;
    for (const xml_node& c : children)
      if (c.name == child) found.push_back(&c);
    return found;
  }
};

class xml_reader {
 public:
  explicit xml_reader(std::string text) : s_(std::move(text)) {}

  xml_node document() {
    if (s_.compare(0, 5, "<?xml") == 0) {
      const std::size_t end = s_.find("?>");
      if (end == std::string::npos) fail("unterminated XML declaration");
      i_ = end + 2;
    }
    skip_space();
    xml_node root = element();
    skip_space();
    if (i_ != s_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("XML at byte " + std::to_string(i_) + ": " + what);
  }
  bool at_end() const { return i_ >= s_.size(); }
  void skip_space() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  std::string name() {
    const std::size_t b = i_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '-' ||
                         s_[i_] == '.' || s_[i_] == ':'))
      ++i_;
    if (b == i_) fail("expected a name");
    return s_.substr(b, i_ - b);
  }
  // Character data up to `stop`, with entities decoded and characters checked.
  std::string chars(char stop) {
    std::string out;
    while (!at_end() && s_[i_] != stop) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '<') fail("'<' in character data");
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') fail("control character " + std::to_string(c));
      if (c == '&') {
        const std::size_t semi = s_.find(';', i_);
        if (semi == std::string::npos) fail("unterminated entity");
        const std::string e = s_.substr(i_ + 1, semi - i_ - 1);
        if (e == "amp") out += '&';
        else if (e == "lt") out += '<';
        else if (e == "gt") out += '>';
        else if (e == "quot") out += '"';
        else if (e == "apos") out += '\'';
        else if (e.size() > 1 && e[0] == '#') out += static_cast<char>(std::stoi(e.substr(1)));
        else fail("unknown entity &" + e + ";");
        i_ = semi + 1;
        continue;
      }
      const std::size_t n = c >= 0x80 ? check_utf8() : 1;
      out.append(s_, i_, n);
      i_ += n;
    }
    return out;
  }
  // Length of the valid UTF-8 sequence at i_.
  std::size_t check_utf8() {
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    const int n = c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : -1;
    if (n < 0) fail("invalid UTF-8 lead byte");
    for (int k = 1; k <= n; ++k)
      if (i_ + k >= s_.size() || (static_cast<unsigned char>(s_[i_ + k]) & 0xC0) != 0x80)
        fail("invalid UTF-8 continuation");
    return static_cast<std::size_t>(n + 1);
  }
  xml_node element() {
    if (at_end() || s_[i_] != '<') fail("expected '<'");
    ++i_;
    xml_node n;
    n.name = name();
    for (;;) {
      skip_space();
      if (at_end()) fail("unterminated start tag");
      if (s_.compare(i_, 2, "/>") == 0) {
        i_ += 2;
        return n;
      }
      if (s_[i_] == '>') {
        ++i_;
        break;
      }
      const std::string key = name();
      skip_space();
      if (at_end() || s_[i_] != '=') fail("expected '=' after " + key);
      ++i_;
      skip_space();
      if (at_end() || s_[i_] != '"') fail("attribute " + key + " not in double quotes");
      ++i_;
      const std::string value = chars('"');
      if (at_end()) fail("unterminated attribute");
      ++i_;
      if (!n.attributes.emplace(key, value).second) fail("duplicate attribute " + key);
    }
    for (;;) {
      n.text += chars('<');
      if (at_end()) fail("unterminated element <" + n.name + ">");
      if (s_.compare(i_, 2, "</") == 0) {
        i_ += 2;
        if (name() != n.name) fail("end tag does not match <" + n.name + ">");
        skip_space();
        if (at_end() || s_[i_] != '>') fail("expected '>'");
        ++i_;
        return n;
      }
      n.children.push_back(element());
    }
  }

  std::string s_;
  std::size_t i_ = 0;
};

/// Checks the JUnit shape: <testsuites> whose tests/failures/errors/skipped
/// equal the sums of its <testsuite>s, each of whose counts equal its
/// <testcase>s; every testcase has classname, name, time and at most one of
/// <failure message type> / <skipped message>. Throws std::runtime_error.
inline void check_junit_shape(const xml_node& root) {
  const auto number = [](const xml_node& n, const std::string& key) { return std::stoi(n.attr(key)); };
  if (root.name != "testsuites") throw std::runtime_error("root is <" + root.name + ">");
  int tests = 0, failures = 0, skipped = 0;
  for (const xml_node* suite : root.all("testsuite")) {
    int t = 0, f = 0, s = 0;
    suite->attr("name");
    std::stod(suite->attr("time"));
    for (const xml_node* tc : suite->all("testcase")) {
      ++t;
      tc->attr("classname");
      tc->attr("name");
      std::stod(tc->attr("time"));
      const auto fs = tc->all("failure");
      const auto ss = tc->all("skipped");
      if (fs.size() + ss.size() > 1) throw std::runtime_error("testcase " + tc->attr("name") + " has two verdicts");
      for (const xml_node* x : fs) x->attr("message"), x->attr("type"), ++f;
      for (const xml_node* x : ss) x->attr("message"), ++s;
    }
    if (number(*suite, "tests") != t || number(*suite, "failures") != f || number(*suite, "skipped") != s ||
        number(*suite, "errors") != 0)
      throw std::runtime_error("counts of testsuite " + suite->attr("name") + " disagree with its testcases");
    tests += t, failures += f, skipped += s;
  }
  if (number(root, "tests") != tests || number(root, "failures") != failures || number(root, "skipped") != skipped)
    throw std::runtime_error("counts of testsuites disagree with its testsuite elements");
}

}  // namespace bncheck::testing
