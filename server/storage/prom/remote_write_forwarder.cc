#include "server/storage/prom/remote_write_forwarder.h"

#include <strings.h>

#include "lib/base/log.h"

namespace coroot::server {

http::Response RemoteWriteForwarder::Forward(const std::string& url, const http::Request& req) const {
  http::ClientRequest out;
  out.method = "POST";
  out.url = url;
  for (const auto& [k, v] : req.headers) {
    const char* skip[] = {"x-api-key", "host", "connection", "content-length", "transfer-encoding", "keep-alive"};
    bool drop = false;
    for (const char* s : skip) drop = drop || strcasecmp(k.c_str(), s) == 0;
    if (!drop) out.headers.emplace_back(k, v);
  }
  out.body = req.body;
  auto resp = http::Fetch(out, options_);
  if (!resp.ok()) {
    LOG(WARNING) << "remote write to " << url << " failed: " << resp.status().ToString();
    return http::Response::Text(503, "metrics storage unavailable: " + resp.status().message());
  }
  if (resp->status == 400) {
    LOG(WARNING) << "remote write to " << url << " rejected samples: " << resp->body.substr(0, 300);
    return http::Response::Text(200, "");
  }
  http::Response r;
  r.status = resp->status;
  r.body = std::move(resp->body);
  std::string ct = resp->Header("Content-Type");
  if (!ct.empty()) r.SetHeader("Content-Type", ct);
  return r;
}

}  // namespace coroot::server
