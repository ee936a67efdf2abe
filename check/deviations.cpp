// Reading a known-deviations file and applying it to a gate's outcomes.
#include "check/deviations.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.hpp"
#include "core/kernel.hpp"

namespace bncheck {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The rest of a line after `--`, the reason every line must give.
std::string reason_of(const std::string& line, const std::string& where) {
  const auto dash = line.find(" -- ");
  const std::string r = dash == std::string::npos ? "" : trim(line.substr(dash + 4));
  if (r.empty()) throw input_error(where + ": every line needs a reason after ' -- '");
  return r;
}

}  // namespace

deviations read_deviations(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error("cannot read the deviations file '" + path + "'");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw input_error("cannot read the deviations file '" + path + "'");
  return parse_deviations(text, path);
}

deviations parse_deviations(std::string_view text, const std::string& path) {
  std::istringstream in{std::string(text)};
  deviations d;
  d.path = path;
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path + ":" + std::to_string(number);
    const std::string head = line.substr(0, line.find(" -- "));
    std::istringstream words(head);
    std::string kind;
    words >> kind;
    if (kind == "case" || kind == "case-or-pass") {
      case_deviation c;
      words >> c.case_name >> c.tensor;
      std::string extra;
      if (c.case_name.empty() || c.tensor.empty() || (words >> extra))
        throw input_error(where + ": expected '" + kind + " CASE TENSOR -- reason'");
      if (!is_output_name(c.tensor)) throw input_error(where + ": '" + c.tensor + "' is not an output tensor");
      c.may_pass = kind == "case-or-pass";
      c.reason = reason_of(line, where);
      c.line = number;
      for (const case_deviation& other : d.cases)
        if (other.case_name == c.case_name) throw input_error(where + ": case '" + c.case_name + "' listed twice");
      d.cases.push_back(c);
    } else if (kind == "exclude") {
      excluded_region e;
      std::string what, arg, extra;
      words >> what >> arg >> extra;
      if (what == "constant-channels" && arg.empty()) {
        d.constant_channels = false;
        e.what = what;
      } else if (what == "long-reductions" && arg.empty()) {
        d.long_reductions = false;
        e.what = what;
      } else if (what == "data-type" && !arg.empty() && extra.empty()) {
        try {
          d.excluded_data_types.push_back(parse_dtype(arg));
        } catch (const std::exception&) {
          throw input_error(where + ": unknown data type '" + arg + "'");
        }
        e.what = what + " " + arg;
      } else if (what == "region" && !arg.empty() && extra.empty()) {
        d.excluded_regions.push_back(arg);
        e.what = what + " " + arg;
      } else {
        throw input_error(where + ": expected 'exclude constant-channels', 'exclude long-reductions', "
                          "'exclude data-type T' or 'exclude region R', each followed by ' -- reason'");
      }
      e.reason = reason_of(line, where);
      e.line = number;
      d.excluded.push_back(e);
    } else {
      throw input_error(where + ": a line starts with 'case', 'case-or-pass', 'exclude' or '#', not '" + kind + "'");
    }
  }
  return d;
}

void apply_deviations(const deviations& d, std::vector<outcome>& outcomes) {
  for (outcome& o : outcomes) {
    const auto it = std::find_if(d.cases.begin(), d.cases.end(),
                                 [&](const case_deviation& c) { return c.case_name == o.name; });
    if (it == d.cases.end() || o.v == verdict::skip) continue;
    const std::string where = d.path + ":" + std::to_string(it->line);
    if (o.v == verdict::pass) {
      if (it->may_pass) continue;
      o.v = verdict::fail;
      o.report = "FAIL " + o.name + "\n  problem: " + o.problem_text + "\n  stale known deviation: " + where +
                 " says this case fails on " + it->tensor + " (" + it->reason +
                 "), but it passes now; remove that line\n";
    } else if (o.worst_tensor == it->tensor) {
      o.v = verdict::known;
      o.known_deviation = where + ": " + it->reason;
      o.report = "KNOWN " + o.name + " (" + where + ": " + it->reason + ")\n" + o.report;
    } else {
      o.report = "  note: " + where + " lists this case as a known deviation on " + it->tensor +
                 ", but this failure is worst on " + (o.worst_tensor.empty() ? "no tensor" : o.worst_tensor) +
                 ": not waived\n" + o.report;
    }
  }
}

std::vector<std::string> unknown_cases(const deviations& d, const std::vector<std::string>& corpus) {
  std::vector<std::string> out;
  for (const case_deviation& c : d.cases)
    if (std::find(corpus.begin(), corpus.end(), c.case_name) == corpus.end())
      out.push_back(d.path + ":" + std::to_string(c.line) + ": no golden case '" + c.case_name + "'");
  return out;
}

std::string describe_exclusions(const deviations& d) {
  std::string out;
  for (const excluded_region& e : d.excluded)
    out += "known deviation: properties exclude " + e.what + " (" + d.path + ":" + std::to_string(e.line) + ": " +
           e.reason + ")\n";
  return out;
}

}  // namespace bncheck
