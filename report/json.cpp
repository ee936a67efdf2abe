// The run as JSON, the REPRO command of a report, and atomic report files.
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "report/report.hpp"

namespace bncheck::report {
namespace {

std::string verdict_text(verdict v) {
  switch (v) {
    case verdict::pass: return "pass";
    case verdict::fail: return "fail";
    case verdict::skip: return "skip";
    case verdict::known: return "known";
  }
  return "fail";
}

nlohmann::json outcome_json(const case_outcome& o) {
  nlohmann::json j;
  j["name"] = o.name;
  j["problem"] = o.problem_text;
  j["verdict"] = verdict_text(o.v);
  // A skip or a kernel error compares nothing: no error to give.
  const bool compared = o.v == verdict::pass || !o.worst_tensor.empty() || o.max_normalized > 0;
  if (compared) {
    if (std::isfinite(o.max_normalized))
      j["max_err_over_bound"] = o.max_normalized;
    else
      j["max_err_over_bound"] = "inf";
    j["worst_output"] = o.worst_tensor;
  }
  j["seconds"] = o.seconds;
  j["report"] = o.report;
  const std::string repro = repro_command(o.report);
  if (!repro.empty()) j["repro"] = repro;
  return j;
}

}  // namespace

std::string repro_command(const std::string& report) {
  const std::string tag = "REPRO: ";
  std::size_t at = report.rfind(tag);
  while (at != std::string::npos && at != 0 && report[at - 1] != '\n')
    at = at == 0 ? std::string::npos : report.rfind(tag, at - 1);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + tag.size();
  return report.substr(begin, report.find('\n', begin) - begin);
}

std::string json_report(const run_info& run, const std::vector<suite>& suites) {
  nlohmann::json j;
  j["format"] = "bncheck-run";
  j["version"] = 1;
  j["kernel"] = run.kernel;
  j["shard"] = run.shard.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.shard);
  j["isolated"] = run.isolated;
  if (run.isolated) j["timeout_seconds"] = run.timeout_seconds;
  if (!run.seed.empty()) j["seed"] = run.seed;
  int pass = 0, fail = 0, skip = 0, known = 0;
  j["suites"] = nlohmann::json::array();
  for (const suite& s : suites) {
    nlohmann::json js;
    js["name"] = s.name;
    js["cases"] = nlohmann::json::array();
    for (const case_outcome& o : s.outcomes) {
      (o.v == verdict::pass ? pass : o.v == verdict::fail ? fail : o.v == verdict::skip ? skip : known)++;
      js["cases"].push_back(outcome_json(o));
    }
    j["suites"].push_back(std::move(js));
  }
  j["totals"] = {{"cases", pass + fail + skip + known}, {"pass", pass}, {"fail", fail}, {"skip", skip}, {"known", known}};
  // Kernel messages may hold any bytes: invalid UTF-8 becomes U+FFFD.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write_report(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw input_error("cannot write report '" + path.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw input_error("cannot write report '" + path.string() + "': " + ec.message());
  }
}

}  // namespace bncheck::report
