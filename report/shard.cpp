// --shard i/n: parsing and membership.
#include "report/shard.hpp"

#include <charconv>

#include "core/error.hpp"

namespace bncheck::report {

shard parse_shard(const std::string& text) {
  const auto bad = [&] {
    return input_error("--shard '" + text + "': expected i/n with 1 <= i <= n, e.g. 2/4");
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) throw bad();
  shard s;
  const char* b = text.data();
  const char* e = b + text.size();
  auto r1 = std::from_chars(b, b + slash, s.index);
  auto r2 = std::from_chars(b + slash + 1, e, s.count);
  if (r1.ec != std::errc() || r1.ptr != b + slash || r2.ec != std::errc() || r2.ptr != e) throw bad();
  if (s.count < 1 || s.count > 10000 || s.index < 1 || s.index > s.count) throw bad();
  return s;
}

std::string to_string(const shard& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

bool in_shard(const shard& s, std::size_t k) {
  return k % static_cast<std::size_t>(s.count) == static_cast<std::size_t>(s.index - 1);
}

}  // namespace bncheck::report
