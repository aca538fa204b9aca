#include "lib/http/client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "lib/base/strings.h"

namespace coroot::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

StatusOr<Url> ParseUrl(const std::string& url) {
  Url u;
  auto sep = url.find("://");
  if (sep == std::string::npos) return InvalidArgument("URL has no scheme: " + url);
  u.scheme = ToLower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return InvalidArgument("unsupported URL scheme: " + url);
  std::string rest = url.substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  std::string hostport = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  if (auto at = hostport.rfind('@'); at != std::string::npos) hostport = hostport.substr(at + 1);
  u.port = u.scheme == "https" ? 443 : 80;
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return InvalidArgument("bad IPv6 host in URL: " + url);
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return InvalidArgument("bad host in URL: " + url);
      u.port = std::atoi(hostport.c_str() + close + 2);
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    uint64_t p = 0;
    if (!ParseUint64(hostport.substr(colon + 1), &p) || p > 65535) return InvalidArgument("bad port in URL: " + url);
    u.port = static_cast<int>(p);
  } else {
    u.host = hostport;
  }
  if (u.host.empty()) return InvalidArgument("URL has no host: " + url);
  return u;
}

namespace {

template <typename Stream>
StatusOr<ClientResponse> Exchange(Stream& stream, const Url& u, const ClientRequest& req, const ClientOptions& opts) {
  bhttp::request<bhttp::string_body> r;
  r.method_string(req.method);
  r.target(u.target);
  r.version(11);
  bool default_port = (u.scheme == "http" && u.port == 80) || (u.scheme == "https" && u.port == 443);
  r.set(bhttp::field::host, default_port ? u.host : u.host + ":" + std::to_string(u.port));
  r.set(bhttp::field::connection, "close");
  for (const auto& [k, v] : req.headers) r.set(k, v);
  r.body() = req.body;
  r.prepare_payload();  // explicit Content-Length, never chunked

  beast::error_code ec;
  bhttp::write(stream, r, ec);
  // A server may answer before it has read the whole body (413 for an oversized upload) and close:
  // our write then fails, but its answer is waiting to be read, and it says more than EPIPE does.
  beast::error_code write_ec = ec;
  bool peer_closed = ec == boost::asio::error::broken_pipe || ec == boost::asio::error::connection_reset;
  if (ec && !peer_closed) return Unavailable("write request to " + u.host + ": " + ec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(opts.max_response_bytes);
  ec = {};
  bhttp::read(stream, buffer, parser, ec);
  if (ec && write_ec) return Unavailable("write request to " + u.host + ": " + write_ec.message());
  if (ec == bhttp::error::body_limit)
    return ResourceExhausted("response from " + u.host + " exceeds " + std::to_string(opts.max_response_bytes));
  if (ec) return Unavailable("read response from " + u.host + ": " + ec.message());
  ClientResponse resp;
  auto& msg = parser.get();
  resp.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) resp.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  resp.body = std::move(msg.body());
  return resp;
}

}  // namespace

namespace {

// Blocking connect and I/O bounded by the kernel's socket timeouts (connect honours SO_SNDTIMEO).
Status Connect(tcp::socket& sock, const tcp::resolver::results_type& results, const Url& u,
               std::chrono::milliseconds timeout) {
  beast::error_code ec = asio::error::host_not_found;
  for (const auto& entry : results) {
    sock.close(ec);
    sock.open(entry.endpoint().protocol(), ec);
    if (ec) continue;
    struct timeval tv;
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sock.connect(entry.endpoint(), ec);
    if (!ec) return Status::Ok();
  }
  return Unavailable("connect " + u.host + ":" + std::to_string(u.port) + ": " + ec.message());
}

}  // namespace

StatusOr<ClientResponse> Fetch(const ClientRequest& req, const ClientOptions& opts) {
  ASSIGN_OR_RETURN(Url u, ParseUrl(req.url));
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(u.host, std::to_string(u.port), ec);
  if (ec) return Unavailable("resolve " + u.host + ": " + ec.message());

  if (u.scheme == "http") {
    tcp::socket sock(ioc);
    RETURN_IF_ERROR(Connect(sock, results, u, opts.timeout));
    auto r = Exchange(sock, u, req, opts);
    sock.shutdown(tcp::socket::shutdown_both, ec);
    return r;
  }

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_default_verify_paths(ec);
  if (!opts.ca_file.empty()) {
    ctx.load_verify_file(opts.ca_file, ec);
    if (ec) return InvalidArgument("load CA file " + opts.ca_file + ": " + ec.message());
  }
  ctx.set_verify_mode(opts.insecure_skip_verify ? asio::ssl::verify_none : asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket> stream(ioc, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str()))
    return InvalidArgument("bad TLS server name: " + u.host);
  if (!opts.insecure_skip_verify) stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
  RETURN_IF_ERROR(Connect(stream.next_layer(), results, u, opts.timeout));
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return Unavailable("TLS handshake with " + u.host + ": " + ec.message());
  auto r = Exchange(stream, u, req, opts);
  stream.shutdown(ec);
  return r;
}

}  // namespace coroot::http
