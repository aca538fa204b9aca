#include "server/auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>
#include <memory>

namespace coroot::server::auth {

namespace {
constexpr unsigned long kCost = 10;
}  // namespace

StatusOr<std::string> HashPassword(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // Null entropy: libxcrypt reads the salt from the kernel's random source.
  if (crypt_gensalt_rn("$2b$", kCost, nullptr, 0, setting, sizeof(setting)) == nullptr)
    return Internal("bcrypt salt: " + std::string(strerror(errno)));
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  if (hash == nullptr || hash[0] == '*') return Internal("bcrypt failed");
  return std::string(hash);
}

bool CheckPassword(const std::string& password, const std::string& hash) {
  if (hash.rfind("$2", 0) != 0) return false;
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (computed == nullptr || computed[0] == '*') return false;
  const size_t n = strlen(computed);
  return n == hash.size() && CRYPTO_memcmp(computed, hash.data(), n) == 0;
}

}  // namespace coroot::server::auth
