#pragma once
// A blocking HTTP/1.1 client (http and https) with a whole-request timeout and a bound on the
// response size. One connection per request: callers here send a request every few seconds.
#include <chrono>
#include <string>

#include "lib/base/status.h"
#include "lib/http/message.h"

namespace coroot::http {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  int port = 0;
  std::string target;  // path + query, at least "/"
};
StatusOr<Url> ParseUrl(const std::string& url);

struct ClientOptions {
  std::chrono::milliseconds timeout{30000};
  size_t max_response_bytes = 64u << 20;
  std::string ca_file;              // extra CA bundle for https
  bool insecure_skip_verify = false;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::string Header(const std::string& name) const { return FindHeader(headers, name); }
};

// Transport failures (refused, timeout, TLS) are an error status; any HTTP status is a response.
StatusOr<ClientResponse> Fetch(const ClientRequest& request, const ClientOptions& options = {});

}  // namespace coroot::http
