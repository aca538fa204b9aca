#include "server/auth/session_cookie.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <cstring>

#include "lib/base/strings.h"

namespace coroot::server::auth {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace

std::string Base64UrlEncode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (rest == 2) v |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(const std::string& text, std::string* bytes) {
  bytes->clear();
  if (text.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* at = c == '\0' ? nullptr : strchr(kAlphabet, c);
    if (at == nullptr) return false;
    acc = (acc << 6) | uint32_t(at - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes->push_back(char((acc >> bits) & 0xff));
    }
  }
  return true;
}

std::string SessionCookie::Mac(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string SessionCookie::Sign(int64_t id, int64_t expires) const {
  const std::string payload = "{\"id\":" + std::to_string(id) + ",\"exp\":" + std::to_string(expires) + "}";
  return Base64UrlEncode(payload) + "." + Base64UrlEncode(Mac(payload));
}

StatusOr<int64_t> SessionCookie::Verify(const std::string& value, int64_t now) const {
  const size_t dot = value.find('.');
  std::string payload, mac;
  if (dot == std::string::npos || !Base64UrlDecode(value.substr(0, dot), &payload) ||
      !Base64UrlDecode(value.substr(dot + 1), &mac))
    return PermissionDenied("malformed session cookie");
  const std::string want = Mac(payload);
  if (mac.size() != want.size() || CRYPTO_memcmp(mac.data(), want.data(), want.size()) != 0)
    return PermissionDenied("session cookie not signed by this server");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t id = 0, exp = 0;
  if (parser.parse(payload).get(doc) != simdjson::SUCCESS || doc["id"].get_int64().get(id) != simdjson::SUCCESS ||
      doc["exp"].get_int64().get(exp) != simdjson::SUCCESS)
    return PermissionDenied("malformed session cookie");
  if (exp <= now) return PermissionDenied("session expired: log in again");
  return id;
}

std::string CookieValue(const std::string& header, const std::string& name) {
  for (const std::string& part : Split(header, ';')) {
    const std::string kv = Trim(part);
    const size_t eq = kv.find('=');
    if (eq != std::string::npos && kv.compare(0, eq, name) == 0) return kv.substr(eq + 1);
  }
  return "";
}

}  // namespace coroot::server::auth
