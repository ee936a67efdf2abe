// Reading and writing NumPy .npy files (format 1.0; 2.0 read too) for the
// little-endian float arrays of the golden corpus: '<f8', '<f4', '<f2'.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/problem.hpp"
#include "core/tensor.hpp"

namespace bncheck {

/// The numpy descr a tensor of format t is stored as: f64 '<f8', f32 '<f4',
/// f16 '<f2', and bf16 '<f4' (numpy has no bf16; every bf16 value is an f32).
std::string_view npy_descr(dtype t);
/// The format whose own encoding a descr names ('<f4' -> f32). Throws
/// input_error for any other descr.
dtype npy_storage_type(std::string_view descr);

/// The exact bytes of the .npy (version 1.0) file for t: magic, version,
/// header dict {'descr', 'fortran_order': False, 'shape'} padded with spaces
/// and '\n' so the data starts at a multiple of 64 bytes, then the values in
/// C order, little-endian. Deterministic: every NaN is written as the
/// positive quiet NaN of the storage format. Rank 0 tensors hold one value.
std::string encode_npy(const tensor& t);
/// Parses .npy bytes (version 1.0 or 2.0). The tensor's type is the storage
/// format (a bf16 array comes back as f32: see read_npy with a dtype).
/// Throws input_error naming source on anything malformed or unsupported.
tensor decode_npy(std::string_view bytes, const std::string& source);
/// Parses .npy bytes holding a tensor of format t: the descr must be
/// npy_descr(t) and every value must be representable in t (this is what
/// tells a bf16 array stored as '<f4' from an f32 one). The result has type t.
tensor decode_npy(std::string_view bytes, const std::string& source, dtype t);

/// Writes encode_npy(t) to path (replacing it). Throws input_error on I/O failure.
void write_npy(const std::filesystem::path& path, const tensor& t);
/// Reads and decodes a .npy file; the tensor's type is the storage format.
tensor read_npy(const std::filesystem::path& path);
/// Reads a .npy file holding a tensor of format t (checked as decode_npy with t does).
tensor read_npy(const std::filesystem::path& path, dtype t);

/// The whole content of a file as bytes. Throws input_error naming the file.
std::string read_file_bytes(const std::filesystem::path& path);
/// Writes bytes to path (replacing it). Throws input_error naming the file.
void write_file_bytes(const std::filesystem::path& path, std::string_view bytes);

}  // namespace bncheck
