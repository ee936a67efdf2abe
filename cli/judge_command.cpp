// bncheck judge: the verdict on outputs a kernel wrote into an export folder,
// through the same judge() as bncheck run, by a kernel that reads files.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>

#include "check/deviations.hpp"
#include "check/gate.hpp"
#include "cli/exchange_commands.hpp"
#include "core/dtype.hpp"
#include "core/error.hpp"
#include "golden/npy.hpp"
#include "golden/store.hpp"
#include "report/report.hpp"
#include "report/terminal.hpp"

namespace fs = std::filesystem;

namespace bncheck::cli {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b)); }

// A "kernel" whose outputs are the .npy files in a case folder. The harness
// hands it NaN-poisoned buffers; it fills them from the files, so judge()
// compares exactly what the external kernel wrote.
class folder_kernel final : public kernel {
 public:
  folder_kernel(std::string name, fs::path dir, const test_case& c) : name_(std::move(name)), dir_(std::move(dir)), case_(c) {}
  std::string name() const override { return name_; }

  kernel_result run(const problem& p, const kernel_io& io) override {
    try {
      return read_outputs(p, io);
    } catch (const input_error& e) {
      return {kernel_status::error, e.what()};
    }
  }

 private:
  kernel_result read_outputs(const problem& p, const kernel_io& io) {
    if (fs::exists(dir_ / "UNIMPLEMENTED")) {
      std::ifstream in(dir_ / "UNIMPLEMENTED");
      std::string reason;
      std::getline(in, reason);
      return {kernel_status::unimplemented, reason.empty() ? "the kernel wrote UNIMPLEMENTED" : reason};
    }
    const std::vector<std::string> outputs = output_names(p);
    const auto is_output = [&](const std::string& n) {
      return std::find(outputs.begin(), outputs.end(), n) != outputs.end();
    };
    // Inputs the kernel only reads must be as exported (running statistics are updated in place).
    for (const auto& name : input_names(p)) {
      if (is_output(name)) continue;
      const fs::path file = dir_ / (name + ".npy");
      if (!fs::exists(file)) return {kernel_status::error, "the kernel removed its input " + name + ".npy"};
      if (!unchanged(file, type_of(p, name), case_.inputs.at(name)))
        return {kernel_status::error, "the kernel changed its input " + name + ".npy"};
    }
    std::vector<std::string> omitted;
    if (const std::optional<std::string> bad = read_not_produced(p, outputs, omitted)) return {kernel_status::error, *bad};
    const auto is_omitted = [&](const std::string& n) {
      return std::find(omitted.begin(), omitted.end(), n) != omitted.end();
    };
    std::string missing;
    for (const auto& name : outputs)
      if (!is_omitted(name) && !fs::exists(dir_ / (name + ".npy")))
        missing += (missing.empty() ? "" : ", ") + name + ".npy";
    if (!missing.empty())
      return {kernel_status::error, "the kernel wrote no " + missing + " in " + dir_.string() +
                                        " (outputs.txt lists the files to write)"};
    for (const auto& name : outputs) {
      if (is_omitted(name)) continue;
      const dtype t = type_of(p, name);
      const tensor got = read_npy(dir_ / (name + ".npy"), t);
      if (got.shape != shape_of(p, name))
        return {kernel_status::error, name + ".npy has the wrong shape for " + to_text(p)};
      unsigned char* dst = static_cast<unsigned char*>(io_output(io, name));
      for (std::size_t i = 0; i < got.values.size(); ++i) store(t, got.values[i], dst + i * size_of(t));
    }
    // judge() checks that only optional outputs are declared, as for every kernel.
    return {kernel_status::ok, "", omitted};
  }

  // The outputs the case folder's NOT_PRODUCED names (whitespace-separated,
  // one a line as documented), into omitted; or why the declaration is
  // unusable: a name that is not one of the case's outputs, or an output both
  // declared and written. A running statistic, exported as an input to update in place,
  // may stay as exported.
  std::optional<std::string> read_not_produced(const problem& p, const std::vector<std::string>& outputs,
                                               std::vector<std::string>& omitted) const {
    const fs::path file = dir_ / "NOT_PRODUCED";
    if (!fs::exists(file)) return std::nullopt;
    std::istringstream names(read_file_bytes(file));
    for (std::string n; names >> n;) {
      if (std::find(outputs.begin(), outputs.end(), n) == outputs.end())
        return file.string() + " names '" + n + "', which is " +
               (is_output_name(n) ? "not one of this case's outputs" : "no output of any op") +
               " (outputs.txt lists the case's outputs)";
      if (std::find(omitted.begin(), omitted.end(), n) != omitted.end()) continue;
      const fs::path npy = dir_ / (n + ".npy");
      const bool in_place = case_.inputs.count(n) != 0;
      if (fs::exists(npy) && !(in_place && unchanged(npy, type_of(p, n), case_.inputs.at(n))))
        return "the kernel declared " + n + " not produced in NOT_PRODUCED but wrote " + n +
               ".npy: which is meant? (remove one)";
      omitted.push_back(n);
    }
    return std::nullopt;
  }

  // Whether file holds exactly the tensor was (the same shape and bits).
  static bool unchanged(const fs::path& file, dtype t, const tensor& was) {
    const tensor now = read_npy(file, t);
    bool same = now.shape == was.shape;
    for (std::size_t i = 0; same && i < was.values.size(); ++i) same = same_bits(now.values[i], was.values[i]);
    return same;
  }

  std::string name_;
  fs::path dir_;
  const test_case& case_;
};

std::string export_repro(const std::string& golden, const std::string& name) {
  const std::string dir = name + ".export";
  return "bncheck export --golden " + golden + " --case " + name + " --out " + dir +
         " && <run your kernel on " + dir + "/" + name + "> && bncheck judge --in " + dir + " --case " + name;
}

// The REPRO: line of a report, replaced: a judged case reproduces by export and judge.
std::string with_repro(const std::string& report, const std::string& repro) {
  std::string out;
  std::size_t begin = 0;
  while (begin < report.size()) {
    std::size_t end = report.find('\n', begin);
    if (end == std::string::npos) end = report.size();
    const std::string line = report.substr(begin, end - begin);
    out += (line.rfind("REPRO: ", 0) == 0 ? "REPRO: " + repro : line) + (end < report.size() ? "\n" : "");
    begin = end + 1;
  }
  return out;
}

}  // namespace

export_manifest parse_export_manifest(std::string_view bytes, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {
    throw input_error(source + ": " + e.what());
  }
  const auto text = [&](const char* key) -> const nlohmann::json* {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? &*it : nullptr;
  };
  if (!j.is_object() || text("format") == nullptr || *text("format") != "bncheck-export" ||
      !j.contains("version") || j.at("version") != 1)
    throw input_error(source + ": not a version 1 bncheck export");
  export_manifest m;
  if (j.contains("golden")) {
    if (text("golden") == nullptr) throw input_error(source + ": \"golden\" must be a string");
    m.golden = text("golden")->get<std::string>();
  }
  const auto cases = j.find("cases");
  if (cases == j.end() || !cases->is_array()) throw input_error(source + ": \"cases\" must be a list of case names");
  for (const nlohmann::json& c : *cases) {
    // A name is one folder of the export: nothing that reaches outside it.
    const std::string name = c.is_string() ? c.get<std::string>() : std::string();
    if (name.empty() || name == "." || name == ".." || name.find_first_of(std::string("/\\\0", 3)) != std::string::npos)
      throw input_error(source + ": \"cases\" holds " + c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                        ", which is not the name of a case folder");
    m.cases.push_back(name);
  }
  return m;
}

int judge_exported(const judge_options& o) {
  const fs::path root = o.in;
  const fs::path manifest_path = root / ".bncheck" / "export.json";
  if (!fs::exists(manifest_path))
    throw input_error("'" + o.in + "' is not a folder bncheck export wrote (no .bncheck/export.json)");
  const export_manifest manifest = parse_export_manifest(read_file_bytes(manifest_path), manifest_path.string());
  const std::string& golden = manifest.golden;
  const std::vector<std::string>& exported = manifest.cases;
  std::vector<std::string> names = o.cases.empty() ? exported : o.cases;
  for (const auto& n : names)
    if (std::find(exported.begin(), exported.end(), n) == exported.end())
      throw input_error("case '" + n + "' was not exported to '" + o.in + "'");
  std::vector<test_case> cases;
  for (const auto& n : names) cases.push_back(read_case(root / ".bncheck" / "cases" / n));
  std::optional<deviations> known;
  if (!o.deviations.empty()) {
    known = read_deviations(o.deviations);
    if (o.cases.empty())
      if (const std::vector<std::string> unknown = unknown_cases(*known, exported); !unknown.empty())
        throw input_error(unknown.front());
  }

  const std::string kernel_name = "outputs in " + o.in;
  std::vector<outcome> outcomes;
  for (const test_case& c : cases) {
    folder_kernel k(kernel_name, root / c.name, c);
    outcome oc = judge(k, c);
    if (oc.v == verdict::fail) {
      oc.repro = {export_repro(golden, c.name)};
      oc.report = with_repro(oc.report, oc.repro.back());
    }
    outcomes.push_back(std::move(oc));
  }
  if (known) apply_deviations(*known, outcomes);
  const report::gate_totals t = report::print_table(outcomes, kernel_name, std::cout, o.quiet);
  report::print_failures(outcomes, std::cout);
  report::run_info run;
  run.kernel = kernel_name;
  const std::vector<report::suite> suites{{"judged", outcomes}};
  if (!o.junit.empty()) report::write_report(o.junit, report::junit_xml(run, suites));
  if (!o.json.empty()) report::write_report(o.json, report::json_report(run, suites));
  if (!o.html.empty()) report::write_report(o.html, report::html_report(run, suites));
  if (t.fail) return 1;
  if (t.pass == 0 && t.known == 0) {  // a known deviation was judged: it failed as recorded
    std::cout << "nothing was checked: every case was skipped\n";
    return 1;
  }
  return 0;
}

}  // namespace bncheck::cli
