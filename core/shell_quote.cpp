// Quoting for the shell (core/shell_quote.hpp).
#include "core/shell_quote.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace bncheck {

std::string shell_quote(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char ch) {
    return std::isalnum(ch) || std::strchr("_-./:=+,@", ch) != nullptr;
  });
  if (plain) return s;
  std::string q = "'";
  for (const char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

}  // namespace bncheck
