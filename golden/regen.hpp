// Regenerating the golden corpus from its definition (corpus.hpp), replacing
// the committed folder atomically so a failed run leaves it untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "golden/corpus.hpp"
#include "reference/reference.hpp"

namespace bncheck {

/// What a regeneration did.
struct regen_stats {
  std::size_t cases = 0;                ///< case folders written
  std::uintmax_t bytes = 0;             ///< bytes of all files written (apparent size)
  double seconds = 0;                   ///< wall time of the whole run
  reference::rounding_stats rounding;   ///< the reference's rounding proof, summed over cases
};

/// Knobs for tests; the defaults regenerate the committed corpus.
struct regen_options {
  /// The cases to write; corpus_specs() when empty.
  std::optional<std::vector<case_spec>> specs;
  /// Called after each case is written, with the count written so far and the
  /// case's name. If it throws, the run stops as a crash would (the exception
  /// propagates, the previous corpus stays in place, the temporary folder is removed).
  std::function<void(std::size_t done, const std::string& name)> after_case;
};

/// Writes every case into a fresh sibling folder "<corpus_dir>.regen-<pid>",
/// then swaps it with corpus_dir in one renameat2(RENAME_EXCHANGE) (a plain
/// rename when corpus_dir does not exist yet) and deletes the old corpus.
/// Until the swap corpus_dir is untouched; a killed run leaves at most the
/// temporary folder, which the next run removes (stale "<corpus_dir>.regen-*"
/// folders of processes no longer alive). Prints one line per case to
/// progress: "[12/57] offset_1e4_f32_nchw 0.31 s". The output is
/// byte-identical on every run. Throws input_error on I/O failure.
regen_stats regen(const std::filesystem::path& corpus_dir, std::ostream& progress);
/// Same, with test knobs.
regen_stats regen(const std::filesystem::path& corpus_dir, std::ostream& progress, const regen_options& options);

}  // namespace bncheck
