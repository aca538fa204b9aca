#include "lib/clickhouse/http_client.h"

#include "lib/base/strings.h"
#include "lib/compress/compress.h"
#include "lib/http/client.h"

namespace coroot::clickhouse {

namespace {

std::string Base64(std::string_view in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The status for an HTTP answer without a ClickHouse error code (a proxy in between, say).
StatusCode FallbackFor(int http_status) {
  switch (http_status) {
    case 400:
    case 404:
      return StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return StatusCode::kPermissionDenied;
    case 408:
    case 504:
      return StatusCode::kDeadlineExceeded;
    case 502:
    case 503:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kInternal;
  }
}

// Keeps error statuses readable when a server answers with a large body.
std::string Clip(std::string s, size_t max = 4096) {
  if (s.size() > max) {
    s.resize(max);
    s += "...";
  }
  return s;
}

}  // namespace

StatusOr<std::string> NormalizeAddress(const std::string& address) {
  std::string a = Trim(address);
  if (a.empty()) return InvalidArgument("empty ClickHouse address");
  bool has_scheme = a.find("://") != std::string::npos;
  std::string url = has_scheme ? a : "http://" + a;
  ASSIGN_OR_RETURN(http::Url u, http::ParseUrl(url));
  // Coroot's address is host:port; a bare host means the default HTTP(S) port of ClickHouse.
  std::string hostport = url.substr(url.find("://") + 3);
  hostport = hostport.substr(0, hostport.find_first_of("/?"));
  if (auto at = hostport.rfind('@'); at != std::string::npos)
    return InvalidArgument("put ClickHouse credentials in user/password, not in the address: " + a);
  bool explicit_port = hostport.starts_with('[') ? hostport.find("]:") != std::string::npos
                                                : hostport.find(':') != std::string::npos;
  int port = explicit_port ? u.port : (u.scheme == "https" ? 8443 : 8123);
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  return u.scheme + "://" + host + ":" + std::to_string(port);
}

StatusOr<std::unique_ptr<RemoteClient>> RemoteClient::Create(const RemoteOptions& options) {
  ASSIGN_OR_RETURN(std::string base, NormalizeAddress(options.address));
  return std::unique_ptr<RemoteClient>(new RemoteClient(options, std::move(base)));
}

StatusOr<std::string> RemoteClient::Post(const std::vector<std::pair<std::string, std::string>>& params,
                                         std::string body, bool gzip) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = base_url_ + "/?database=" + http::PercentEncode(options_.database);
  for (const auto& [k, v] : options_.settings) req.url += "&" + http::PercentEncode(k) + "=" + http::PercentEncode(v);
  for (const auto& [k, v] : params) req.url += "&" + http::PercentEncode(k) + "=" + http::PercentEncode(v);
  // Basic auth works on every ClickHouse version (X-ClickHouse-Key is newer than some we meet).
  req.headers.emplace_back("Authorization", "Basic " + Base64(options_.user + ":" + options_.password));
  if (gzip) {
    req.headers.emplace_back("Content-Encoding", "gzip");
    req.body = compress::ZlibCompress(body, compress::ZlibFormat::kGzip, options_.gzip_level);
  } else {
    req.body = std::move(body);
  }
  http::ClientOptions opts;
  opts.timeout = options_.timeout;
  opts.max_response_bytes = options_.max_response_bytes;
  opts.ca_file = options_.ca_file;
  opts.insecure_skip_verify = options_.insecure_skip_verify;
  auto resp = http::Fetch(req, opts);
  if (!resp.ok()) return resp.status().WithContext("ClickHouse " + base_url_);
  if (resp->status != 200)
    return ErrorFromMessage(Clip(resp->body), FallbackFor(resp->status))
        .WithContext("ClickHouse " + base_url_ + " (HTTP " + std::to_string(resp->status) + ")");
  // Newer servers that fail after sending the headers say so in this header (and at the body's end).
  if (std::string code = resp->Header("X-ClickHouse-Exception-Code"); !code.empty() && code != "0")
    return ErrorFromMessage(Clip(resp->body.substr(resp->body.size() > 4096 ? resp->body.size() - 4096 : 0)))
        .WithContext("ClickHouse " + base_url_);
  return std::move(resp->body);
}

StatusOr<std::string> RemoteClient::Query(const std::string& sql, const std::string& format) {
  // default_format applies to SELECTs without their own FORMAT clause; DDL ignores it.
  return Post({{"default_format", format}}, sql, false);
}

Status RemoteClient::Insert(const std::string& table_and_columns, const std::string& format,
                            const std::string& data) {
  if (data.empty()) return Status::Ok();
  auto r = Post({{"query", "INSERT INTO " + table_and_columns + " FORMAT " + format}}, data,
                options_.compress_inserts);
  return r.ok() ? Status::Ok() : r.status();
}

Status RemoteClient::Ping() {
  // A real query rather than /ping: it also checks the credentials and the database.
  ASSIGN_OR_RETURN(std::string out, Query("SELECT 1"));
  if (Trim(out) != "1") return Internal("ClickHouse " + base_url_ + " answered SELECT 1 with: " + Clip(out, 200));
  return Status::Ok();
}

std::string RemoteClient::Describe() const {
  return "ClickHouse " + base_url_ + " (database " + options_.database + ", user " + options_.user + ")";
}

}  // namespace coroot::clickhouse
