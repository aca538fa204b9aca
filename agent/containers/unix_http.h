#pragma once
// A small blocking HTTP/1.1 GET over a unix socket, for the container runtimes' local APIs
// (Docker Engine, CRI-O). One connection per request ("Connection: close"), a whole-request
// timeout and a bound on the response size.
#include <chrono>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::containers {

struct UnixHttpResponse {
  int status = 0;
  std::string body;
};

StatusOr<UnixHttpResponse> UnixHttpGet(const std::string& socket_path, const std::string& target,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                       size_t max_bytes = 4u << 20);

// Parses a complete HTTP/1.x response (status line, headers, body by Content-Length, chunked
// transfer coding, or up to the end). Exposed for tests and the fuzz target.
StatusOr<UnixHttpResponse> ParseHttpResponse(std::string_view raw);

}  // namespace coroot::agent::containers
