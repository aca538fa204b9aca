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

// One request/response on a connected stream, with Asio's async operations run on the caller's
// io_context: `stream`'s deadline (beast::tcp_stream::expires_after) bounds the whole exchange,
// including a server that accepts and then never answers.
template <typename Stream>
StatusOr<ClientResponse> Exchange(asio::io_context& ioc, Stream& stream, const Url& u, const ClientRequest& req,
                                  const ClientOptions& opts) {
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

  beast::error_code write_ec, read_ec;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(opts.max_response_bytes);
  auto read = [&] { bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) { read_ec = ec; }); };
  bhttp::async_write(stream, r, [&](beast::error_code ec, size_t) {
    write_ec = ec;
    // A server may answer before it has read the whole body (413 for an oversized upload) and
    // close: our write then fails, but its answer is waiting to be read and says more than EPIPE.
    if (!ec || ec == asio::error::broken_pipe || ec == asio::error::connection_reset) read();
  });
  ioc.restart();
  ioc.run();

  if (write_ec && (read_ec || (write_ec != asio::error::broken_pipe && write_ec != asio::error::connection_reset)))
    return Unavailable("write request to " + u.host + ": " + write_ec.message());
  if (read_ec == bhttp::error::body_limit)
    return ResourceExhausted("response from " + u.host + " exceeds " + std::to_string(opts.max_response_bytes));
  if (read_ec == beast::error::timeout)
    return DeadlineExceeded("no response from " + u.host + " within " + std::to_string(opts.timeout.count()) + " ms");
  if (read_ec) return Unavailable("read response from " + u.host + ": " + read_ec.message());
  ClientResponse resp;
  auto& msg = parser.get();
  resp.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) resp.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  resp.body = std::move(msg.body());
  return resp;
}

// Connects to the first endpoint that answers, within the stream's deadline.
Status Connect(asio::io_context& ioc, beast::tcp_stream& stream, const tcp::resolver::results_type& results,
               const Url& u) {
  beast::error_code ec;
  stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  ioc.restart();
  ioc.run();
  if (ec) return Unavailable("connect " + u.host + ":" + std::to_string(u.port) + ": " + ec.message());
  return Status::Ok();
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
    beast::tcp_stream stream(ioc);
    stream.expires_after(opts.timeout);  // one deadline for connect, write and read together
    RETURN_IF_ERROR(Connect(ioc, stream, results, u));
    auto r = Exchange(ioc, stream, u, req, opts);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return r;
  }

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_default_verify_paths(ec);
  if (!opts.ca_file.empty()) {
    ctx.load_verify_file(opts.ca_file, ec);
    if (ec) return InvalidArgument("load CA file " + opts.ca_file + ": " + ec.message());
  }
  ctx.set_verify_mode(opts.insecure_skip_verify ? asio::ssl::verify_none : asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str()))
    return InvalidArgument("bad TLS server name: " + u.host);
  if (!opts.insecure_skip_verify) stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
  beast::get_lowest_layer(stream).expires_after(opts.timeout);
  RETURN_IF_ERROR(Connect(ioc, beast::get_lowest_layer(stream), results, u));
  stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  ioc.restart();
  ioc.run();
  if (ec) return Unavailable("TLS handshake with " + u.host + ": " + ec.message());
  auto r = Exchange(ioc, stream, u, req, opts);
  // Best effort: a peer that answered with Connection: close may be gone already.
  beast::get_lowest_layer(stream).socket().close(ec);
  return r;
}

}  // namespace coroot::http
