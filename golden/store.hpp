// A golden case on disk: a folder with manifest.json and one .npy per array
// (format described in docs/golden-format.md), written and read back strictly.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "check/harness.hpp"

namespace bncheck {

/// The manifest format version this code writes and the only one it reads.
inline constexpr int golden_format_version = 1;

/// File name of the .npy holding array `name` with the given role:
/// inputs "x.npy", expected outputs "expected_y.npy".
std::string array_file_name(const std::string& name, bool expected);

/// The files of case c, file name -> exact bytes: one .npy per array (as
/// write_case describes) and manifest.json. Deterministic: equal arguments
/// give equal bytes. Throws std::invalid_argument as write_case does.
std::map<std::string, std::string> encode_case(const test_case& c, const std::string& description);

/// Writes c into case_dir (created; it must not exist or be empty, and its
/// last component must equal c.name): the inputs input_names(c.prob) in their
/// own formats (bf16 stored as '<f4'), the expected outputs output_names(c.prob)
/// as '<f8', then manifest.json. Byte-deterministic for equal arguments.
/// Throws std::invalid_argument if c lacks an array or has a wrong shape or
/// format, input_error on I/O failure.
void write_case(const std::filesystem::path& case_dir, const test_case& c,
                const std::string& description);

/// Reads a case folder and checks everything: format version, name equal to
/// the folder name, the problem text and its redundant manifest fields, the
/// list of arrays (exactly the op's inputs and outputs), each file's sha256,
/// .npy header, format, representability and shape; no unlisted files.
/// Throws input_error naming the case and the array on any mismatch.
test_case read_case(const std::filesystem::path& case_dir);
/// The case that the files of a case folder hold (file name -> bytes, what
/// encode_case gives), with every check read_case makes; case_dir is where
/// they came from: its last component must be the case's name, and messages
/// name it. read_case is this on the folder's files.
test_case decode_case(const std::filesystem::path& case_dir, const std::map<std::string, std::string>& files);

/// The description line from a case's manifest (read without checking arrays).
std::string read_case_description(const std::filesystem::path& case_dir);

/// Names of the case folders (subdirectories) of corpus_dir, sorted bytewise.
/// Throws input_error if corpus_dir is not a readable directory.
std::vector<std::string> list_cases(const std::filesystem::path& corpus_dir);

}  // namespace bncheck
