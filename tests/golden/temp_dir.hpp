// Test helpers: a temporary directory removed on scope exit, and whole-folder
// snapshots (relative path -> bytes) for byte-for-byte comparisons.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>

#include "golden/npy.hpp"

namespace bncheck {

class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("bncheck_golden_test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Every regular file under dir, by path relative to dir, with its bytes.
inline std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      files.emplace(std::filesystem::relative(e.path(), dir).string(), read_file_bytes(e.path()));
  return files;
}

/// The source tree's golden corpus.
inline std::filesystem::path committed_corpus() {
  return std::filesystem::path(BNCHECK_SOURCE_DIR) / "golden" / "cases";
}

}  // namespace bncheck
