// Exception types that map to the command's exit codes: input_error is bad
// input or usage (exit 2); anything else escaping is an internal error.
#pragma once

#include <stdexcept>
#include <string>

namespace bncheck {

/// Bad input: malformed text, file or size. The message is one line, meant
/// for the user; the command prints it and exits with status 2.
class input_error : public std::runtime_error {
 public:
  explicit input_error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace bncheck
