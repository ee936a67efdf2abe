// Regeneration: write every case into a temporary sibling folder, then swap
// it with the corpus in one atomic rename (Linux renameat2 RENAME_EXCHANGE).
#include "golden/regen.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "golden/store.hpp"

namespace bncheck {
namespace {

namespace fs = std::filesystem;

// Removes "<corpus>.regen-<pid>" folders left by runs that were killed.
// A folder whose process is still alive belongs to a concurrent run and is left alone.
void remove_stale_temporaries(const fs::path& corpus_dir) {
  const fs::path parent = corpus_dir.parent_path().empty() ? fs::path(".") : corpus_dir.parent_path();
  const std::string prefix = corpus_dir.filename().string() + ".regen-";
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    char* end = nullptr;
    const long pid = std::strtol(pid_text.c_str(), &end, 10);
    if (pid_text.empty() || *end != '\0' || pid <= 0) continue;
    const bool alive = pid != static_cast<long>(getpid()) &&
                       (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (alive) continue;
    stale.push_back(entry.path());
  }
  for (const auto& p : stale) fs::remove_all(p, ec);
}

std::uintmax_t folder_bytes(const fs::path& dir) {
  std::uintmax_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

// Puts the finished temporary folder in place of corpus_dir.
void swap_in(const fs::path& temp, const fs::path& corpus_dir) {
  std::error_code ec;
  if (!fs::exists(corpus_dir, ec)) {
    fs::rename(temp, corpus_dir, ec);
    if (ec) throw input_error(corpus_dir.string() + ": cannot move the new corpus in place: " + ec.message());
    return;
  }
  if (renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, corpus_dir.c_str(), RENAME_EXCHANGE) == 0) {
    // temp now holds the previous corpus.
    fs::remove_all(temp, ec);
    if (ec) throw input_error(temp.string() + ": cannot remove the previous corpus: " + ec.message());
    return;
  }
  if (errno != EINVAL && errno != ENOSYS)
    throw input_error(corpus_dir.string() + ": atomic exchange with " + temp.string() + " failed: " +
                      std::strerror(errno));
  // The file system cannot exchange: two renames. Between them corpus_dir is
  // briefly absent, but the previous corpus is whole under its ".previous" name.
  const fs::path previous = temp.string() + ".previous";
  fs::rename(corpus_dir, previous, ec);
  if (!ec) fs::rename(temp, corpus_dir, ec);
  if (ec) throw input_error(corpus_dir.string() + ": cannot move the new corpus in place: " + ec.message());
  fs::remove_all(previous, ec);
}

}  // namespace

regen_stats regen(const fs::path& corpus_dir, std::ostream& progress) {
  return regen(corpus_dir, progress, regen_options{});
}

regen_stats regen(const fs::path& corpus_dir_in, std::ostream& progress, const regen_options& options) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  // "cases/" and "cases" name the same folder; the sibling is built from the last real component.
  const fs::path corpus_dir = corpus_dir_in.has_filename() ? corpus_dir_in : corpus_dir_in.parent_path();
  remove_stale_temporaries(corpus_dir);
  const fs::path temp = corpus_dir.string() + ".regen-" + std::to_string(getpid());
  std::error_code ec;
  fs::create_directories(temp, ec);
  if (ec) throw input_error(temp.string() + ": cannot create: " + ec.message());

  const std::vector<case_spec> specs = options.specs ? *options.specs : corpus_specs();
  regen_stats stats;
  try {
    for (std::size_t k = 0; k < specs.size(); ++k) {
      const auto case_start = clock::now();
      const test_case c = build_case(specs[k], &stats.rounding);
      write_case(temp / c.name, c, specs[k].description);
      ++stats.cases;
      const double seconds = std::chrono::duration<double>(clock::now() - case_start).count();
      char line[256];
      std::snprintf(line, sizeof line, "[%zu/%zu] %s %.2f s\n", k + 1, specs.size(), c.name.c_str(), seconds);
      progress << line << std::flush;
      if (options.after_case) options.after_case(k + 1, c.name);
    }
    stats.bytes = folder_bytes(temp);
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
  swap_in(temp, corpus_dir);
  stats.seconds = std::chrono::duration<double>(clock::now() - start).count();
  return stats;
}

}  // namespace bncheck
