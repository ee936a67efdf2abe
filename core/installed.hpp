// Where an installed bncheck keeps its files, found from the running
// executable: PREFIX/bin/bncheck reads PREFIX/share/bncheck/golden and
// PREFIX/lib/bncheck/ (cmake/install.cmake). In a build tree none of them
// exists and the callers keep their build-tree defaults.
#pragma once

#include <optional>
#include <string>

namespace bncheck {

/// PREFIX/relative when the running executable is PREFIX/bin/NAME and that
/// path exists; nothing otherwise (a build tree, or /proc unreadable).
std::optional<std::string> installed_path(const std::string& relative);

}  // namespace bncheck
