#pragma once
// The session cookie `coroot_session` (spec §3.12): base64url(JSON payload) "." base64url(HMAC-SHA256
// of the payload under the server's secret). The payload carries the user id and, unlike Coroot's,
// the expiry time, so that a copied cookie stops working after its 7 days on the server side too.
#include <cstdint>
#include <string>

#include "lib/base/status.h"

namespace coroot::server::auth {

inline constexpr const char* kSessionCookie = "coroot_session";
inline constexpr int64_t kSessionSeconds = 7 * 24 * 3600;

class SessionCookie {
 public:
  explicit SessionCookie(std::string secret) : secret_(std::move(secret)) {}

  // The cookie value for user `id`, valid until `expires` (unix seconds).
  std::string Sign(int64_t id, int64_t expires) const;
  // The user id of a cookie value: kPermissionDenied when it is malformed, its signature is not
  // ours, or it expired before `now`.
  StatusOr<int64_t> Verify(const std::string& value, int64_t now) const;

 private:
  std::string Mac(const std::string& payload) const;
  std::string secret_;
};

// The value of cookie `name` in a Cookie header ("a=1; coroot_session=..."); empty when absent.
std::string CookieValue(const std::string& header, const std::string& name);

std::string Base64UrlEncode(const std::string& bytes);
// Empty and false on anything but unpadded base64url.
bool Base64UrlDecode(const std::string& text, std::string* bytes);

}  // namespace coroot::server::auth
