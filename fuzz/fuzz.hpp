// What every fuzz target shares: the one exception a parser may throw
// (input_error, the command's exit 2), a check that aborts with a message,
// and a reader that takes typed values off the front of the fuzzed bytes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace bncheck::fuzz {

/// An invariant of a target: on failure prints what and aborts (a finding).
inline void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::abort();
}

/// Runs body; input_error is the parsers' one legitimate failure, so it is
/// caught, and its message must be the one line the command prints. Anything
/// else escapes, and libFuzzer reports it as a crash.
template <class Body>
void only_input_errors(Body&& body) {
  try {
    body();
  } catch (const input_error& e) {
    const std::string_view what = e.what();
    check(!what.empty() && what.find_first_of("\n\r") == std::string_view::npos,
          "an input error that is not one line: " + std::string(what));
  }
}

/// The fuzzed bytes as a stream of choices, each taken off the front; past
/// the end every value is 0 and every string empty.
class input {
 public:
  input(const uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  uint8_t byte() {
    if (rest_.empty()) return 0;
    const auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  template <class T>
  T integer() {
    T v{};
    const std::size_t n = std::min(sizeof v, rest_.size());
    std::memcpy(&v, rest_.data(), n);
    rest_.remove_prefix(n);
    return v;
  }
  /// Up to n bytes.
  std::string_view bytes(std::size_t n) {
    const std::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(out.size());
    return out;
  }
  /// A string whose length is the next byte.
  std::string_view short_string() { return bytes(byte()); }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

/// The source folder, for targets that start from real files (golden/cases).
inline std::string source_dir() { return BNCHECK_SOURCE_DIR; }

}  // namespace bncheck::fuzz
