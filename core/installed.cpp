// Paths of an installed bncheck, relative to the executable (core/installed.hpp).
#include "core/installed.hpp"

#include <filesystem>
#include <system_error>

namespace bncheck {

std::optional<std::string> installed_path(const std::string& relative) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.parent_path().filename() != "bin") return std::nullopt;
  const std::filesystem::path p = exe.parent_path().parent_path() / relative;
  if (!std::filesystem::exists(p, ec)) return std::nullopt;
  return p.string();
}

}  // namespace bncheck
