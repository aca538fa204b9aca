#include "agent/protocols/http/parse.h"

#include <array>

namespace coroot::agent::protocols::http {
namespace {

constexpr std::array<std::string_view, 9> kMethods = {"GET",     "POST",    "HEAD",  "PUT",  "DELETE",
                                                      "CONNECT", "OPTIONS", "PATCH", "TRACE"};
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Request-target bytes: visible ASCII, no space (RFC 9112 forbids whitespace in the target).
bool IsTargetChar(char c) { return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f; }

}  // namespace

bool DetectRequest(std::string_view buf) {
  for (std::string_view m : kMethods) {
    if (buf.size() > m.size() && buf.substr(0, m.size()) == m && buf[m.size()] == ' ') return true;
  }
  return false;
}

bool DetectResponse(std::string_view buf) {
  int code = 0;
  return ParseResponseStatus(buf, &code) == ParseResult::kSuccess;
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  std::string_view method;
  for (std::string_view m : kMethods) {
    if (buf.size() > m.size() && buf.substr(0, m.size()) == m && buf[m.size()] == ' ') {
      method = m;
      break;
    }
  }
  if (method.empty()) return ParseResult::kInvalid;
  out->protocol = L7Protocol::kHttp;
  out->method = std::string(method);
  size_t pos = method.size() + 1;
  size_t t = pos;
  while (t < buf.size() && IsTargetChar(buf[t])) t++;
  out->path = std::string(buf.substr(pos, t - pos));
  if (t == buf.size()) {  // cut inside the target
    out->truncated = true;
    return out->path.empty() ? ParseResult::kInvalid : ParseResult::kNeedMoreData;
  }
  if (buf[t] != ' ' || out->path.empty()) return ParseResult::kInvalid;
  std::string_view rest = buf.substr(t + 1);
  constexpr std::string_view kVersion = "HTTP/d.d\r\n";
  for (size_t i = 0; i < kVersion.size(); i++) {
    if (i >= rest.size()) {
      out->truncated = true;
      return ParseResult::kNeedMoreData;
    }
    char want = kVersion[i];
    if (want == 'd' ? !IsDigit(rest[i]) : rest[i] != want) return ParseResult::kInvalid;
  }
  return ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, int* code) {
  constexpr std::string_view kShape = "HTTP/d.d ddd";
  for (size_t i = 0; i < kShape.size(); i++) {
    if (i >= buf.size()) return ParseResult::kNeedMoreData;
    char want = kShape[i];
    if (want == 'd' ? !IsDigit(buf[i]) : buf[i] != want) return ParseResult::kInvalid;
  }
  // The code is followed by SP reason or CRLF (or the buffer's end).
  if (buf.size() > kShape.size() && buf[kShape.size()] != ' ' && buf[kShape.size()] != '\r')
    return ParseResult::kInvalid;
  *code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
  return ParseResult::kSuccess;
}

std::string StatusClass(int code) {
  if (code < 100 || code > 599) return std::string(kStatusUnknown);
  return std::string(1, static_cast<char>('0' + code / 100)) + "xx";
}

std::string_view PathWithoutQuery(std::string_view target) {
  size_t q = target.find_first_of("?#");
  return q == std::string_view::npos ? target : target.substr(0, q);
}

namespace {

// Matches one class "[...]" at pattern[pi] against c; sets *end past the class.
// A malformed class (no closing ']') matches '[' literally.
bool MatchClass(std::string_view p, size_t pi, char c, size_t* end, bool* ok) {
  size_t i = pi + 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) i++;
  bool matched = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      if (hi == '\\' && i + 3 < p.size()) {
        hi = p[i + 3];
        i++;
      }
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
    i++;
  }
  if (i >= p.size()) {  // unterminated: literal '['
    *end = pi + 1;
    *ok = c == '[';
    return true;
  }
  *end = i + 1;
  *ok = matched != negate;
  return true;
}

}  // namespace

bool GlobMatch(std::string_view p, std::string_view s) {
  // Classic two-pointer matcher with a single backtrack point for the last '*': O(|p|·|s|) worst case.
  size_t pi = 0, si = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '*') {
        star_p = ++pi;
        star_s = si;
        continue;
      }
      if (pc == '?') {
        pi++;
        si++;
        continue;
      }
      if (pc == '[') {
        size_t end = 0;
        bool ok = false;
        MatchClass(p, pi, s[si], &end, &ok);
        if (ok) {
          pi = end;
          si++;
          continue;
        }
      } else {
        char lit = pc;
        size_t adv = 1;
        if (pc == '\\' && pi + 1 < p.size()) {
          lit = p[pi + 1];
          adv = 2;
        }
        if (lit == s[si]) {
          pi += adv;
          si++;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') pi++;
  return pi == p.size();
}

bool PathFilter::Excluded(std::string_view path) const {
  std::string_view p = PathWithoutQuery(path);
  for (const auto& g : globs_)
    if (GlobMatch(g, p)) return true;
  return false;
}

}  // namespace coroot::agent::protocols::http
