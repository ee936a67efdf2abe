// Fuzz target: the folder bncheck judge reads (cli/judge_command.cpp): an
// export of a real golden case whose outputs pass, with one of its files
// replaced by the fuzzed bytes (the first byte says which), judged as
// `bncheck judge --in` does. Any verdict is fine; only input_error may escape.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "cli/exchange_commands.hpp"
#include "core/dtype.hpp"
#include "fuzz/fuzz.hpp"
#include "golden/npy.hpp"
#include "golden/store.hpp"

using namespace bncheck;
namespace fs = std::filesystem;

namespace {

constexpr const char* case_name = "batch_one_fwd_f32_nc_onnx";
fs::path export_dir;
// The files an input may replace, and what each held (nullopt: absent).
std::vector<std::pair<fs::path, std::optional<std::string>>> files;
std::ofstream null_stream;

std::optional<std::string> content(const fs::path& p) {
  if (!fs::exists(p)) return std::nullopt;
  return read_file_bytes(p);
}

void remove_export() {
  std::error_code ec;
  fs::remove_all(export_dir.parent_path(), ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  export_dir = fs::temp_directory_path() / ("bncheck-fuzz-judge-" + std::to_string(getpid())) / "export";
  remove_export();
  fs::create_directories(export_dir.parent_path());
  std::atexit(remove_export);
  null_stream.open("/dev/null");
  std::cout.rdbuf(null_stream.rdbuf());  // judge prints its table
  cli::export_options e;
  e.golden = (fs::path(fuzz::source_dir()) / "golden" / "cases").string();
  e.out = export_dir.string();
  e.cases = {case_name};
  cli::export_cases(e);
  // The kernel's outputs: the expected values rounded to their formats.
  const fs::path dir = export_dir / case_name;
  const test_case c = read_case(export_dir / ".bncheck" / "cases" / case_name);
  for (const auto& [name, expected] : c.expected) {
    const dtype t = type_of(c.prob, name);
    tensor out{t, expected.shape, {}};
    for (double v : expected.values) out.values.push_back(round_to(t, v));
    write_npy(dir / (name + ".npy"), out);
  }
  for (const fs::path& p : {export_dir / ".bncheck" / "export.json", dir / "NOT_PRODUCED", dir / "UNIMPLEMENTED",
                            dir / "y.npy", dir / "running_var.npy", dir / "x.npy",
                            export_dir / ".bncheck" / "cases" / case_name / "manifest.json"})
    files.emplace_back(p, content(p));
  cli::judge_options o;
  o.in = export_dir.string();
  fuzz::check(cli::judge_exported(o) == 0, "the unchanged export does not pass");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const auto& [path, original] = files[in.byte() % files.size()];
  write_file_bytes(path, in.rest());
  fuzz::only_input_errors([&] {
    cli::judge_options o;
    o.in = export_dir.string();
    o.quiet = true;
    const int status = cli::judge_exported(o);
    fuzz::check(status == 0 || status == 1, "judge returned " + std::to_string(status));
  });
  if (original) write_file_bytes(path, *original);
  else fs::remove(path);
  return 0;
}
