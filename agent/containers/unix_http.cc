#include "agent/containers/unix_http.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/base/strings.h"

namespace coroot::agent::containers {

namespace {

bool ParseHex(std::string_view s, uint64_t* out) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 15) return false;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

StatusOr<std::string> Dechunk(std::string_view in) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return InvalidArgument("http: truncated chunk size");
    std::string_view line = in.substr(pos, eol - pos);
    line = line.substr(0, line.find(';'));  // chunk extensions
    uint64_t n = 0;
    if (!ParseHex(Trim(line), &n)) return InvalidArgument("http: bad chunk size");
    pos = eol + 2;
    if (n == 0) return out;
    if (n > in.size() - pos) return InvalidArgument("http: truncated chunk");
    out.append(in.substr(pos, n));
    pos += n;
    if (in.substr(pos, 2) != "\r\n") return InvalidArgument("http: chunk without CRLF");
    pos += 2;
  }
}

}  // namespace

StatusOr<UnixHttpResponse> ParseHttpResponse(std::string_view raw) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return InvalidArgument("http: no end of headers");
  std::vector<std::string> lines = Split(raw.substr(0, head_end), '\n');
  std::vector<std::string> status = SplitAny(lines[0], " \r");
  uint64_t code = 0;
  if (status.size() < 2 || !StartsWith(status[0], "HTTP/1.") || !ParseUint64(status[1], &code) || code < 100 ||
      code > 999)
    return InvalidArgument("http: bad status line");
  bool chunked = false;
  bool has_length = false;
  uint64_t length = 0;
  for (size_t i = 1; i < lines.size(); i++) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string name = ToLower(Trim(std::string_view(lines[i]).substr(0, colon)));
    std::string value = ToLower(Trim(std::string_view(lines[i]).substr(colon + 1)));
    if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
    if (name == "content-length") {
      if (!ParseUint64(value, &length)) return InvalidArgument("http: bad Content-Length");
      has_length = true;
    }
  }
  std::string_view body = raw.substr(head_end + 4);
  UnixHttpResponse r;
  r.status = static_cast<int>(code);
  if (chunked) {
    ASSIGN_OR_RETURN(r.body, Dechunk(body));
  } else if (has_length) {
    if (length > body.size()) return InvalidArgument("http: body shorter than Content-Length");
    r.body = std::string(body.substr(0, length));
  } else {
    r.body = std::string(body);
  }
  return r;
}

StatusOr<UnixHttpResponse> UnixHttpGet(const std::string& socket_path, const std::string& target,
                                       std::chrono::milliseconds timeout, size_t max_bytes) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) return InvalidArgument("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("socket", errno);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto fail = [fd](Status s) {
    close(fd);
    return s;
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail(Unavailable("connect " + socket_path + ": " + std::strerror(errno)));
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: coroot-node-agent\r\n"
                    "Accept: application/json\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Unavailable("send to " + socket_path + ": " + std::strerror(errno)));
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail(DeadlineExceeded("GET " + target + " via " + socket_path));
    pollfd p{fd, POLLIN, 0};
    int pr = poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return fail(DeadlineExceeded("GET " + target + " via " + socket_path));
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Unavailable("recv: " + std::string(std::strerror(errno))));
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > max_bytes) return fail(ResourceExhausted("response larger than the bound"));
  }
  close(fd);
  return ParseHttpResponse(raw);
}

}  // namespace coroot::agent::containers
