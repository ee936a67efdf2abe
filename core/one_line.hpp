// Outside text quoted in a message: an input_error's message is the one line
// the command prints, so a newline inside a quoted name must not break it.
#pragma once

#include <string>
#include <string_view>

namespace bncheck {

/// text with every control character (newlines among them, and DEL) written
/// as \xNN; everything else, UTF-8 included, unchanged.
inline std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (u >= 0x20 && u != 0x7f) {
      out += ch;
      continue;
    }
    constexpr char hex[] = "0123456789abcdef";
    out += "\\x";
    out += hex[u >> 4];
    out += hex[u & 15];
  }
  return out;
}

}  // namespace bncheck
