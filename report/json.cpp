// The run as JSON, and atomic report files.
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/problem.hpp"
#include "report/report.hpp"

namespace bncheck::report {
namespace {

// A number, or "inf"/"nan" where JSON has none.
nlohmann::json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

nlohmann::json outcome_json(const outcome& o) {
  nlohmann::json j;
  j["name"] = o.name;
  j["kind"] = o.kind == outcome_kind::property ? "property" : "case";
  j["problem"] = o.problem_text;
  j["verdict"] = std::string(to_string(o.v));
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
  if (!o.repro.empty()) {
    j["repro"] = o.repro.back();
    j["repro_commands"] = o.repro;
  }
  if (o.kind == outcome_kind::property) {
    j["cases"] = o.cases;
    j["skipped"] = o.skipped;
    j["shrinks"] = o.shrinks;
    if (!o.reproduce.empty()) j["reproduce"] = o.reproduce;
    if (o.elements > 0) j["shrunk_elements"] = o.elements;  // elements of x of the shrunk case
  }
  if (o.check && (o.v != verdict::pass || o.kind == outcome_kind::property)) {
    j["checked"] = o.check->checked;
    j["failed"] = o.check->failed;
    j["nans"] = o.check->nans;
    nlohmann::json worst = nlohmann::json::array();
    for (const element_error& e : o.check->worst)
      worst.push_back({{"element", e.position}, {"expected", hex_float(e.expected)}, {"got", hex_float(e.got)},
                       {"ulps", number(e.ulps)}, {"relative", number(e.relative)},
                       {"err_over_bound", number(e.normalized)}});
    j["worst_elements"] = std::move(worst);
  }
  if (!o.not_produced.empty()) j["not_produced"] = o.not_produced;
  if (!o.known_deviation.empty()) j["known_deviation"] = o.known_deviation;
  if (!o.skip_reason.empty()) j["skip_reason"] = o.skip_reason;
  return j;
}

}  // namespace

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
    for (const outcome& o : s.outcomes) {
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
