#pragma once
// Forwards validated remote-write bodies to a project's Prometheus-compatible TSDB.
#include <string>

#include "lib/http/client.h"
#include "lib/http/message.h"

namespace coroot::server {

class RemoteWriteForwarder {
 public:
  explicit RemoteWriteForwarder(http::ClientOptions options = {}) : options_(std::move(options)) {}

  // Sends the body as received, with the client's headers minus X-Api-Key and hop-by-hop ones.
  // The TSDB's 400 (bad samples, out of order) is answered 200 so agents do not retry it forever;
  // an unreachable TSDB is 503 so they keep the data and retry.
  http::Response Forward(const std::string& url, const http::Request& req) const;

 private:
  http::ClientOptions options_;
};

}  // namespace coroot::server
