// bncheck export: golden cases as folders of .npy inputs for a kernel that
// runs outside bncheck; and the declarations of export and judge.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/exchange_commands.hpp"
#include "core/error.hpp"
#include "golden/npy.hpp"
#include "golden/store.hpp"

namespace fs = std::filesystem;

namespace bncheck::cli {
namespace {

void write_text(const fs::path& path, const std::string& text) { write_file_bytes(path, text); }

void export_case(const fs::path& root, const fs::path& golden_dir, const test_case& c) {
  write_case(root / ".bncheck" / "cases" / c.name, c, read_case_description(golden_dir / c.name));
  const fs::path dir = root / c.name;
  fs::create_directories(dir);
  write_text(dir / "problem.txt", to_text(c.prob) + "\n");
  std::string outputs;
  for (const auto& name : output_names(c.prob)) outputs += name + "\n";
  write_text(dir / "outputs.txt", outputs);
  for (const auto& name : input_names(c.prob)) write_npy(dir / (name + ".npy"), c.inputs.at(name));
}

}  // namespace

int export_cases(const export_options& o) {
  const fs::path out = o.out;
  if (fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out)))
    throw input_error("--out '" + o.out + "' exists and is not an empty folder");
  const std::vector<std::string> names = o.cases.empty() ? list_cases(o.golden) : o.cases;
  if (names.empty()) throw input_error("no golden cases in '" + o.golden + "'");
  std::vector<test_case> cases;
  for (const auto& name : names) cases.push_back(read_case(fs::path(o.golden) / name));

  // Written beside the target, then renamed: a killed export leaves nothing half-made.
  fs::path tmp = fs::absolute(out);
  tmp += ".export-" + std::to_string(getpid());
  fs::remove_all(tmp);
  try {
    fs::create_directories(tmp / ".bncheck" / "cases");
    nlohmann::json manifest;
    manifest["format"] = "bncheck-export";
    manifest["version"] = 1;
    manifest["golden"] = o.golden;
    manifest["cases"] = names;
    write_text(tmp / ".bncheck" / "export.json", manifest.dump(2) + "\n");
    for (const auto& c : cases) export_case(tmp, o.golden, c);
    if (fs::exists(out)) fs::remove(out);  // an empty folder
    fs::rename(tmp, out);
  } catch (const fs::filesystem_error& e) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw input_error("cannot write '" + o.out + "': " + e.code().message());
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  std::cout << "exported " << cases.size() << " cases to " << o.out
            << ": run your kernel on each folder (problem.txt, inputs as .npy; write the outputs outputs.txt "
               "names as .npy), then: bncheck judge --in "
            << o.out << "\n";
  return 0;
}

void add_exchange_commands(CLI::App& app, exchange_commands& x) {
  x.export_command = app.add_subcommand(
      "export",
      "Write golden cases as folders of .npy inputs for a kernel that is not a C library (then bncheck judge).\n"
      "OUT/<case>/ holds problem.txt (the problem's text form), outputs.txt (the outputs to write, one name a\n"
      "line) and the inputs in their own formats (bf16 stored as float32). The kernel writes each output as\n"
      "<name>.npy in the case's format into the same folder; running_mean/running_var are updated in place.");
  x.export_command->add_option("--golden", x.export_opts.golden, "golden corpus folder")->capture_default_str();
  x.export_command->add_option("--out", x.export_opts.out, "folder to create (must not exist or be empty)")
      ->required();
  x.export_command->add_option("--case", x.export_opts.cases, "export only this case (repeatable)");

  x.judge_command = app.add_subcommand(
      "judge",
      "Judge the outputs a kernel wrote into an export folder: the same table, reports, REPRO lines and exit\n"
      "status as bncheck run. A case folder holding a file UNIMPLEMENTED (its first line the reason) is skipped;\n"
      "one holding a file NOT_PRODUCED (output names, one a line, with no .npy) has those optional outputs\n"
      "(forward training's mean, var, invstd, running_mean, running_var) reported as not checked.");
  x.judge_command->add_option("--in", x.judge_opts.in, "the folder bncheck export wrote")->required();
  x.judge_command->add_option("--case", x.judge_opts.cases, "judge only this case (repeatable)");
  x.judge_command->add_flag("--quiet", x.judge_opts.quiet, "print only failures and the summary");
  x.judge_command->add_option("--junit", x.judge_opts.junit, "also write the results as JUnit XML to this file");
  x.judge_command->add_option("--json", x.judge_opts.json, "also write the full results as JSON to this file");
  x.judge_command->add_option("--html", x.judge_opts.html,
                              "also write an HTML report (tables, error pictures, repro commands) to this file");
  x.judge_command->add_option("--deviations", x.judge_opts.deviations,
                              "the kernel's known deviations, as for bncheck run (docs/deviations.md)");
}

std::optional<int> run_exchange_commands(const exchange_commands& x) {
  if (x.export_command != nullptr && x.export_command->parsed()) return export_cases(x.export_opts);
  if (x.judge_command != nullptr && x.judge_command->parsed()) return judge_exported(x.judge_opts);
  return std::nullopt;
}

}  // namespace bncheck::cli
