#include "lib/http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "lib/base/log.h"

namespace coroot::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Status ParseHostPort(const std::string& listen, std::string* host, int* port) {
  std::string h, p;
  if (!listen.empty() && listen[0] == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return InvalidArgument("bad listen address: " + listen);
    h = listen.substr(1, close - 1);
    p = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("listen address needs a port: " + listen);
    h = listen.substr(0, colon);
    p = listen.substr(colon + 1);
  }
  if (h.empty()) h = "0.0.0.0";
  char* end = nullptr;
  long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || v < 0 || v > 65535) return InvalidArgument("bad port in " + listen);
  *host = h;
  *port = static_cast<int>(v);
  return Status::Ok();
}

// One accepted connection: read a request, dispatch, write, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Server* server, const ServerOptions& opts,
          std::function<void(const Request&, Response*)> dispatch)
      : stream_(std::move(socket)), opts_(opts), dispatch_(std::move(dispatch)) {
    (void)server;
  }

  void Start() { ReadRequest(); }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(opts_.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(opts_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return SendError(413, "request body exceeds " + std::to_string(opts_.max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) return SendError(431, "request headers too large");
    if (ec) return SendError(400, "bad request: " + ec.message());

    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = PercentDecode(req.target.substr(0, q));
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());
    beast::error_code ep_ec;
    auto ep = stream_.socket().remote_endpoint(ep_ec);
    if (!ep_ec) req.remote_addr = ep.address().to_string() + ":" + std::to_string(ep.port());
    keep_alive_ = msg.keep_alive();

    Response resp;
    dispatch_(req, &resp);
    Send(std::move(resp), req.method == "HEAD");
  }

  void SendError(int status, const std::string& text) {
    keep_alive_ = false;
    Send(Response::Text(status, text), false);
  }

  void Send(Response resp, bool head) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->result(static_cast<unsigned>(resp.status));
    res->version(11);
    res->set(bhttp::field::server, "coroot-cpp");
    for (auto& [k, v] : resp.headers) res->set(k, v);
    res->body() = std::move(resp.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    if (head) res->body().clear();
    stream_.expires_after(opts_.read_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      self->ReadRequest();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const ServerOptions& opts_;
  std::function<void(const Request&, Response*)> dispatch_;
  bool keep_alive_ = false;
};

class Server::Impl {
 public:
  Impl(int threads, const ServerOptions& opts, std::function<void(const Request&, Response*)> dispatch)
      : ioc(threads), acceptor(ioc), opts(opts), dispatch(std::move(dispatch)) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), nullptr, opts, dispatch)->Start();
      Accept();
    });
  }

  asio::io_context ioc;
  tcp::acceptor acceptor;
  const ServerOptions& opts;
  std::function<void(const Request&, Response*)> dispatch;
};

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() { Stop(); }

void Server::Handle(const std::string& method, const std::string& path, Handler handler) {
  bool prefix = !path.empty() && path.back() == '*';
  routes_.push_back({method, prefix ? path.substr(0, path.size() - 1) : path, prefix, std::move(handler)});
}

void Server::Dispatch(const Request& req, Response* resp) const {
  const Route* best = nullptr;
  bool path_matched = false;
  for (const auto& r : routes_) {
    bool match = r.prefix ? req.path.compare(0, r.path.size(), r.path) == 0 : req.path == r.path;
    if (!match) continue;
    path_matched = true;
    if (!r.method.empty() && r.method != req.method && !(r.method == "GET" && req.method == "HEAD")) continue;
    if (!best || r.path.size() > best->path.size() || (!r.prefix && best->prefix)) best = &r;
  }
  if (!best) {
    *resp = path_matched ? Response::Text(405, "method not allowed") : Response::Text(404, "not found");
    return;
  }
  try {
    best->handler(req, resp);
  } catch (const std::exception& e) {  // a handler bug must not take the server down
    LOG(ERROR) << "handler for " << req.path << " threw: " << e.what();
    *resp = Response::Text(500, "internal error");
  }
}

Status Server::Start() {
  std::string host;
  int port = 0;
  RETURN_IF_ERROR(ParseHostPort(options_.listen, &host, &port));
  impl_ = std::make_unique<Impl>(options_.threads, options_, [this](const Request& req, Response* resp) {
    Dispatch(req, resp);
    served_++;
  });
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("bad listen host '" + host + "': " + ec.message());
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("listen on " + options_.listen + ": " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();

  impl_->Accept();
  for (int i = 0; i < options_.threads; i++) threads_.emplace_back([this] { impl_->ioc.run(); });
  return Status::Ok();
}

void Server::Stop() {
  if (!impl_) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  impl_.reset();
}

}  // namespace coroot::http
