// Deterministic, platform-independent generation of input tensors from a
// problem's seed and fill specs. Only integer arithmetic and single IEEE
// operations are used, so every machine generates the same bits.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/problem.hpp"

namespace bncheck {

/// Parses one fill as the problem text writes it after `x=`: normal:A:B,
/// uniform:A:B, const:A or file, then (not after file) up to max_specials
/// placed non-finite values ",nan@I", ",inf@I", ",-inf@I" with strictly
/// increasing flat indices I. Throws input_error on anything else; A and B
/// may be any double here (validate() requires them finite and I inside the tensor).
fill_spec parse_fill(std::string_view s);

/// Stream identifiers so that each input tensor has its own random sequence.
enum class fill_stream : uint64_t { x = 1, gamma, beta, dy, running_mean, running_var, shard_mean, shard_var };

/// count values of spec, rounded to t, drawn from (seed, stream), then the
/// placed non-finite values put at their indices (the others unchanged).
/// Throws input_error for fill_kind::file or a placement at or beyond count.
std::vector<double> generate(const fill_spec& spec, dtype t, int64_t count, uint64_t seed,
                             fill_stream stream);

/// splitmix64: the generator behind generate(); exposed for tests and for
/// properties that need their own deterministic draws.
struct splitmix64 {
  uint64_t state;
  uint64_t next();
};

}  // namespace bncheck
