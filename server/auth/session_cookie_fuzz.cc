// libFuzzer target: a Cookie header from anyone. CookieValue, Base64UrlDecode and
// SessionCookie::Verify must never crash, and nothing the fuzzer makes may verify (it would have
// to forge HMAC-SHA256 under a secret it does not know).
#include <cstdint>
#include <string>

#include "server/auth/session_cookie.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroot::server::auth;
  const std::string header(reinterpret_cast<const char*>(data), size);
  const std::string value = CookieValue(header, kSessionCookie);
  std::string bytes;
  if (Base64UrlDecode(value, &bytes) && Base64UrlEncode(bytes).size() != value.size()) __builtin_trap();
  static const SessionCookie cookie("fuzz secret");
  if (cookie.Verify(value, 0).ok()) __builtin_trap();
  return 0;
}
