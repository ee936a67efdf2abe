// SHA-256 (FIPS 180-4) of a byte string, for the checksums in golden manifests.
#pragma once

#include <string>
#include <string_view>

namespace bncheck {

/// SHA-256 digest of bytes as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace bncheck
