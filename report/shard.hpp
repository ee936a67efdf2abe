// Splitting a run's case list across CI runners: --shard i/n.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace bncheck::report {

/// Shard index of count, 1 <= index <= count (as "--shard 2/4" reads).
struct shard {
  int index = 1;
  int count = 1;
};

/// Parses "i/n" with 1 <= i <= n <= 10000. Throws input_error otherwise.
shard parse_shard(const std::string& text);
/// "i/n".
std::string to_string(const shard& s);

/// Whether the item at position k (0-based) of the run's list belongs to s:
/// k mod count == index - 1. Deterministic, since the list is (the corpus is
/// listed sorted bytewise); the shards of one count are disjoint, cover the
/// list, and differ in size by at most one.
bool in_shard(const shard& s, std::size_t k);

/// The items of list that belong to s, in order.
template <class T>
std::vector<T> select_shard(const shard& s, std::vector<T> list) {
  std::vector<T> kept;
  for (std::size_t k = 0; k < list.size(); ++k)
    if (in_shard(s, k)) kept.push_back(std::move(list[k]));
  return kept;
}

}  // namespace bncheck::report
