// The metadata requests of each provider, with their documented shapes. One attempt each; every
// request is bounded by 2 × FetchOptions::timeout (lib/http's whole-exchange deadline), and none runs past
// FetchOptions::total_timeout.
#include <algorithm>
#include <chrono>

#include "agent/node/cloud/cloud_metadata.h"
#include "lib/http/client.h"

namespace coroot::agent::node::cloud {

namespace {

using Clock = std::chrono::steady_clock;

class Session {
 public:
  Session(std::string base, const FetchOptions& o) : base_(std::move(base)), o_(o), start_(Clock::now()) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  // Sends one request; any status other than 200 is an error naming the path and status.
  StatusOr<std::string> Do(const std::string& method, const std::string& path, http::Headers headers) {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_);
    if (elapsed >= o_.total_timeout)
      return DeadlineExceeded("metadata fetch took longer than " + std::to_string(o_.total_timeout.count()) + " ms");
    http::ClientRequest req;
    req.method = method;
    req.url = base_ + path;
    req.headers = std::move(headers);
    // Each request: the whole exchange within 2 × timeout, and never past the fetch's total bound.
    Clock::time_point deadline = std::min(Clock::now() + 2 * o_.timeout, start_ + o_.total_timeout);
    http::ClientOptions co;
    co.timeout = std::max(std::chrono::milliseconds(1),
                          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    co.max_response_bytes = o_.max_response_bytes;
    StatusOr<http::ClientResponse> r = http::Fetch(req, co);
    last_http_status_ = r.ok() ? r->status : 0;
    if (!r.ok()) return r.status().WithContext(method + " " + req.url);
    if (r->status != 200)
      return Status(r->status == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                    method + " " + req.url + ": HTTP " + std::to_string(r->status));
    return std::move(r->body);
  }
  StatusOr<std::string> Get(const std::string& path, http::Headers headers) {
    return Do("GET", path, std::move(headers));
  }
  // The HTTP status of the last request; 0 when it got no response (refused, timeout).
  int last_http_status() const { return last_http_status_; }
  // An optional one-value text path: "" when absent (404) — e.g. no public IPv4.
  StatusOr<std::string> OptionalText(const std::string& path, const http::Headers& headers) {
    StatusOr<std::string> body = Get(path, headers);
    if (!body.ok()) {
      if (body.status().code() == StatusCode::kNotFound) return std::string();
      return body.status();
    }
    StatusOr<std::string> v = ParseTextValue(*body);
    if (!v.ok()) return std::string();
    return v;
  }

 private:
  std::string base_;
  FetchOptions o_;
  Clock::time_point start_;
  int last_http_status_ = 0;
};

// AWS IMDSv2: PUT /latest/api/token (X-aws-ec2-metadata-token-ttl-seconds), then every GET carries
// X-aws-ec2-metadata-token: the identity document, meta-data/instance-life-cycle,
// meta-data/public-ipv4 (404 without one), meta-data/placement/availability-zone-id.
StatusOr<CloudMetadata> FetchAws(Session& s) {
  ASSIGN_OR_RETURN(std::string token_body, s.Do("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}}));
  ASSIGN_OR_RETURN(std::string token, ParseTextValue(token_body));
  http::Headers h = {{"X-aws-ec2-metadata-token", token}};
  ASSIGN_OR_RETURN(std::string doc, s.Get("/latest/dynamic/instance-identity/document", h));
  ASSIGN_OR_RETURN(CloudMetadata m, ParseAwsIdentityDocument(doc));
  ASSIGN_OR_RETURN(m.instance_life_cycle, s.OptionalText("/latest/meta-data/instance-life-cycle", h));
  ASSIGN_OR_RETURN(m.public_ipv4, s.OptionalText("/latest/meta-data/public-ipv4", h));
  ASSIGN_OR_RETURN(m.availability_zone_id, s.OptionalText("/latest/meta-data/placement/availability-zone-id", h));
  if (m.local_ipv4.empty()) {
    ASSIGN_OR_RETURN(m.local_ipv4, s.OptionalText("/latest/meta-data/local-ipv4", h));
  }
  return m;
}

StatusOr<CloudMetadata> FetchGcp(Session& s) {
  ASSIGN_OR_RETURN(std::string body, s.Get("/computeMetadata/v1/?recursive=true", {{"Metadata-Flavor", "Google"}}));
  return ParseGcpMetadata(body);
}

StatusOr<CloudMetadata> FetchAzure(Session& s) {
  ASSIGN_OR_RETURN(std::string body, s.Get("/metadata/instance?api-version=2021-02-01", {{"Metadata", "true"}}));
  return ParseAzureMetadata(body);
}

StatusOr<CloudMetadata> FetchHetzner(Session& s) {
  ASSIGN_OR_RETURN(std::string body, s.Get("/hetzner/v1/metadata", {}));
  ASSIGN_OR_RETURN(CloudMetadata m, ParseHetznerMetadata(body));
  // The private IP is extra: a server without private networks answers an empty list, and a
  // failure here keeps what the main document said.
  StatusOr<std::string> nets = s.Get("/hetzner/v1/metadata/private-networks", {});
  if (nets.ok()) {
    if (StatusOr<std::string> ip = ParseHetznerPrivateNetworks(*nets); ip.ok()) m.local_ipv4 = *ip;
  }
  return m;
}

StatusOr<CloudMetadata> FetchDigitalOcean(Session& s) {
  ASSIGN_OR_RETURN(std::string body, s.Get("/metadata/v1.json", {}));
  return ParseDigitalOceanMetadata(body);
}

// Alibaba ECS: the hardened mode's token (PUT /latest/api/token with
// X-aliyun-ecs-metadata-token-ttl-seconds) when the service issues one, then one text value per
// meta-data path.
StatusOr<CloudMetadata> FetchAlibaba(Session& s) {
  http::Headers h;
  StatusOr<std::string> token = s.Do("PUT", "/latest/api/token", {{"X-aliyun-ecs-metadata-token-ttl-seconds", "60"}});
  if (token.ok()) {
    if (StatusOr<std::string> t = ParseTextValue(*token); t.ok()) h.emplace_back("X-aliyun-ecs-metadata-token", *t);
  } else if (s.last_http_status() == 0) {
    return token.status();  // a transport failure (timeout, refused): the service is not there
  }
  CloudMetadata m;
  m.provider = kAlibaba;
  ASSIGN_OR_RETURN(std::string id, s.Get("/latest/meta-data/instance-id", h));
  ASSIGN_OR_RETURN(m.instance_id, ParseTextValue(id));
  ASSIGN_OR_RETURN(m.instance_type, s.OptionalText("/latest/meta-data/instance/instance-type", h));
  ASSIGN_OR_RETURN(m.region, s.OptionalText("/latest/meta-data/region-id", h));
  ASSIGN_OR_RETURN(m.availability_zone, s.OptionalText("/latest/meta-data/zone-id", h));
  ASSIGN_OR_RETURN(m.account_id, s.OptionalText("/latest/meta-data/owner-account-id", h));
  ASSIGN_OR_RETURN(m.local_ipv4, s.OptionalText("/latest/meta-data/private-ipv4", h));
  ASSIGN_OR_RETURN(m.public_ipv4, s.OptionalText("/latest/meta-data/eipv4", h));
  if (m.public_ipv4.empty()) {
    ASSIGN_OR_RETURN(m.public_ipv4, s.OptionalText("/latest/meta-data/public-ipv4", h));
  }
  return m;
}

StatusOr<CloudMetadata> FetchOracle(Session& s) {
  http::Headers h = {{"Authorization", "Bearer Oracle"}};
  ASSIGN_OR_RETURN(std::string body, s.Get("/opc/v2/instance/", h));
  ASSIGN_OR_RETURN(CloudMetadata m, ParseOracleInstance(body));
  // The private IP is extra: a failure here keeps what the instance document said.
  StatusOr<std::string> vnics = s.Get("/opc/v2/vnics/", h);
  if (vnics.ok()) {
    if (StatusOr<std::string> ip = ParseOracleVnics(*vnics); ip.ok()) m.local_ipv4 = *ip;
  }
  return m;
}

StatusOr<CloudMetadata> FetchScaleway(Session& s) {
  ASSIGN_OR_RETURN(std::string body, s.Get("/conf?format=json", {}));
  return ParseScalewayConf(body);
}

}  // namespace

std::string DefaultBaseUrl(const std::string& p) {
  if (p == kAlibaba) return "http://100.100.100.200";
  if (p == kScaleway) return "http://169.254.42.42";
  // GCP's metadata.google.internal is 169.254.169.254; the address avoids a DNS lookup.
  if (p == kAWS || p == kGCP || p == kAzure || p == kHetzner || p == kDigitalOcean || p == kOracle)
    return "http://169.254.169.254";
  return "";
}

StatusOr<CloudMetadata> FetchMetadata(const std::string& provider, const FetchOptions& options) {
  std::string base = options.base_url.empty() ? DefaultBaseUrl(provider) : options.base_url;
  if (base.empty()) return InvalidArgument("unknown cloud provider \"" + provider + "\"");
  Session s(base, options);
  StatusOr<CloudMetadata> m = InvalidArgument("unknown cloud provider \"" + provider + "\"");
  if (provider == kAWS) m = FetchAws(s);
  if (provider == kGCP) m = FetchGcp(s);
  if (provider == kAzure) m = FetchAzure(s);
  if (provider == kHetzner) m = FetchHetzner(s);
  if (provider == kDigitalOcean) m = FetchDigitalOcean(s);
  if (provider == kAlibaba) m = FetchAlibaba(s);
  if (provider == kOracle) m = FetchOracle(s);
  if (provider == kScaleway) m = FetchScaleway(s);
  if (!m.ok()) return m.status().WithContext(provider + " metadata");
  return m;
}

}  // namespace coroot::agent::node::cloud
