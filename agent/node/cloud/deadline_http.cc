#include "agent/node/cloud/deadline_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <sstream>

namespace coroot::agent::node::cloud {

namespace {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on fd until `until`; DeadlineExceeded when it passes.
Status Wait(int fd, short events, Clock::time_point until, const std::string& what) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return DeadlineExceeded(what + ": timed out");
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(left, 60000)));
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return ErrnoStatus(what + ": poll", errno);
  }
}

}  // namespace

StatusOr<http::ClientResponse> FetchWithDeadline(const http::ClientRequest& req, Clock::time_point deadline,
                                                 std::chrono::milliseconds connect_timeout, size_t max_bytes) {
  ASSIGN_OR_RETURN(http::Url u, http::ParseUrl(req.url));
  if (u.scheme != "http") return InvalidArgument("metadata URL must be http: " + req.url);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(u.port));
  if (inet_pton(AF_INET, u.host.c_str(), &addr.sin_addr) != 1)
    return InvalidArgument("metadata host must be a numeric IPv4 address: " + u.host);
  const std::string where = u.host + ":" + std::to_string(u.port);

  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return ErrnoStatus("socket", errno);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return ErrnoStatus("connect " + where, errno);
    RETURN_IF_ERROR(Wait(fd.get(), POLLOUT, std::min(deadline, Clock::now() + connect_timeout), "connect " + where));
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return ErrnoStatus("connect " + where, err);
  }

  bhttp::request<bhttp::string_body> r;
  r.method_string(req.method);
  r.target(u.target);
  r.version(11);
  r.set(bhttp::field::host, u.port == 80 ? u.host : where);
  r.set(bhttp::field::connection, "close");
  for (const auto& [k, v] : req.headers) r.set(k, v);
  r.body() = req.body;
  r.prepare_payload();  // Content-Length: 0 for the token PUTs
  std::ostringstream os;
  os << r;
  const std::string out = os.str();
  for (size_t sent = 0; sent < out.size();) {
    ssize_t n = send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      RETURN_IF_ERROR(Wait(fd.get(), POLLOUT, deadline, "send to " + where));
    } else {
      return ErrnoStatus("send to " + where, errno);
    }
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  parser.header_limit(64 * 1024);
  parser.eager(true);
  std::string pending;
  char buf[16384];
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      RETURN_IF_ERROR(Wait(fd.get(), POLLIN, deadline, "response from " + where));
      continue;
    }
    if (n < 0) return ErrnoStatus("recv from " + where, errno);
    if (n == 0) {
      parser.put_eof(ec);
      if (ec) return Unavailable("response from " + where + ": " + ec.message());
      break;
    }
    pending.append(buf, static_cast<size_t>(n));
    if (pending.size() > max_bytes + 64 * 1024)
      return ResourceExhausted("response from " + where + " exceeds " + std::to_string(max_bytes) + " bytes");
    while (!pending.empty() && !parser.is_done()) {
      size_t used = parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
      if (ec == bhttp::error::need_more) {
        ec = {};
        pending.erase(0, used);
        break;
      }
      if (ec == bhttp::error::body_limit)
        return ResourceExhausted("response from " + where + " exceeds " + std::to_string(max_bytes) + " bytes");
      if (ec) return Unavailable("response from " + where + ": " + ec.message());
      pending.erase(0, used);
      if (used == 0) break;
    }
  }
  if (!parser.is_done()) return Unavailable("response from " + where + ": incomplete");
  http::ClientResponse resp;
  auto& msg = parser.get();
  resp.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) resp.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  resp.body = std::move(msg.body());
  return resp;
}

}  // namespace coroot::agent::node::cloud
