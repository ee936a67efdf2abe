// Template bodies of the small generator combinators of properties/gen.hpp.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace bncheck::properties {

template <class T>
rc::Gen<T> in_range(T lo, T hi, T target) {
  if (hi < lo) throw std::invalid_argument("in_range: empty range");
  if (target < lo) target = lo;
  if (target > hi) target = hi;
  return [=](const rc::Random& random, int) {
    const auto span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    const uint64_t r = rc::Random(random).next();
    const T v = static_cast<T>(static_cast<uint64_t>(lo) + (span == 0 ? r : r % span));
    return rc::shrinkable::shrinkRecur(v, [=](T x) { return rc::shrink::towards<T>(x, target); });
  };
}

template <class T>
rc::Gen<T> pick(std::vector<std::pair<int, T>> weighted) {
  if (weighted.empty()) throw std::invalid_argument("pick: no items");
  int total = 0;
  for (const auto& w : weighted) total += w.first;
  // The index is drawn by weight; it shrinks toward 0, the first item.
  return rc::gen::map(in_range<int>(0, total - 1, 0), [weighted](int r) {
    std::size_t i = 0;
    while (r >= weighted[i].first) r -= weighted[i++].first;
    return weighted[i].second;
  });
}

template <class T>
rc::Gen<T> pick_of(std::vector<T> items) {
  std::vector<std::pair<int, T>> w;
  for (auto& t : items) w.emplace_back(1, std::move(t));
  return pick(std::move(w));
}

}  // namespace bncheck::properties
