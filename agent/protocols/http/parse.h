#pragma once
// HTTP/1.x: the request line of a request head and the status line of a response head.
#include <string>
#include <string_view>
#include <vector>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::http {

// The kernel's classifier: the buffer starts with a known method followed by a space.
bool DetectRequest(std::string_view buf);
// "HTTP/d.d ddd".
bool DetectResponse(std::string_view buf);

// Decodes "METHOD SP target SP HTTP/d.d CRLF". On a head cut before the CRLF, the method and
// the part of the target seen are kept, out->truncated is set and kNeedMoreData returned.
ParseResult ParseRequest(std::string_view buf, L7Request* out);

// Decodes the 3-digit code of "HTTP/d.d ddd ...".
ParseResult ParseResponseStatus(std::string_view buf, int* code);

// Coroot's status label: "1xx".."5xx" for 100..599, "unknown" otherwise.
std::string StatusClass(int code);

// The target without query string and fragment, for labels and the path filter.
std::string_view PathWithoutQuery(std::string_view target);

// --exclude-http-requests-by-path: a request is dropped when its path (query stripped) matches
// any glob. Globs: '*' any run of bytes (including '/'), '?' one byte, '[abc]'/'[a-z]'/'[!x]' a class,
// '\' escapes. Matching is linear-ish (no exponential backtracking).
class PathFilter {
 public:
  PathFilter() = default;
  explicit PathFilter(std::vector<std::string> globs) : globs_(std::move(globs)) {}
  bool Excluded(std::string_view path) const;
  bool empty() const { return globs_.empty(); }

 private:
  std::vector<std::string> globs_;
};

bool GlobMatch(std::string_view pattern, std::string_view s);

}  // namespace coroot::agent::protocols::http
