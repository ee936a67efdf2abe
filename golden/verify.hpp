// Verification of a golden corpus on disk: each case is read with every
// format check, then recomputed from its problem and compared byte for byte.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace bncheck {

/// The verdict on one case folder.
struct case_verdict {
  std::string name;   ///< the folder's name
  bool ok = false;
  std::string error;  ///< one line naming the case and the array; empty when ok
};

/// The verdicts on every case folder of a corpus, in list_cases order.
struct verify_report {
  std::vector<case_verdict> cases;
  /// Number of cases that failed.
  std::size_t failures() const;
  /// True when there is at least one case and none failed.
  bool ok() const;
};

/// Checks one case folder: read_case (format version, manifest, checksums,
/// .npy headers, shapes, formats), then make_case from its problem (and its
/// stored inputs where a fill is 'file'), re-encoded with its description,
/// must reproduce every file of the folder byte for byte.
case_verdict verify_case(const std::filesystem::path& case_dir);

/// verify_case on every case folder of corpus_dir. Throws input_error only if
/// corpus_dir cannot be listed.
verify_report verify(const std::filesystem::path& corpus_dir);

}  // namespace bncheck
