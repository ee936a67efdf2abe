// SHA-256 (FIPS 180-4) by OpenSSL's libcrypto, through its EVP digest API.
#include "golden/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace bncheck {

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1 || length != 32)
    throw std::runtime_error("sha256_hex: OpenSSL's EVP_Digest failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int k = 0; k < length; ++k) {
    out += hex[digest[k] >> 4];
    out += hex[digest[k] & 0xf];
  }
  return out;
}

}  // namespace bncheck
