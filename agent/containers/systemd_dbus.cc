#include "agent/containers/systemd_dbus.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/containers/dbus_wire.h"

namespace coroot::agent::containers {

std::string SystemdUnitPath(std::string_view unit) {
  std::string p = "/org/freedesktop/systemd1/unit/";
  if (unit.empty()) return p + "_";
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : unit) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      p.push_back(static_cast<char>(c));
    } else {
      p.push_back('_');
      p.push_back(kHex[c >> 4]);
      p.push_back(kHex[c & 15]);
    }
  }
  return p;
}

SystemdClient::~SystemdClient() { CloseLocked(); }

void SystemdClient::CloseLocked() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  in_.clear();
}

Status SystemdClient::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("systemd D-Bus send", errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads more bytes into in_, waiting at most the timeout.
static Status ReadMore(int fd, std::string* in, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(timeout.count()));
  if (r == 0) return DeadlineExceeded("systemd D-Bus: no answer in time");
  if (r < 0) return ErrnoStatus("systemd D-Bus poll", errno);
  char buf[16384];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0) return ErrnoStatus("systemd D-Bus recv", errno);
  if (n == 0) return Unavailable("systemd D-Bus: connection closed");
  in->append(buf, static_cast<size_t>(n));
  return Status::Ok();
}

StatusOr<std::string> SystemdClient::ReadLine() {
  for (;;) {
    size_t eol = in_.find("\r\n");
    if (eol != std::string::npos) {
      std::string line = in_.substr(0, eol);
      in_.erase(0, eol + 2);
      return line;
    }
    if (in_.size() > 4096) return InvalidArgument("systemd D-Bus: authentication line too long");
    if (Status st = ReadMore(fd_, &in_, timeout_); !st.ok()) return st;
  }
}

Status SystemdClient::ConnectLocked() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) return InvalidArgument("socket path too long: " + socket_path_);
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return ErrnoStatus("socket", errno);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status st = ErrnoStatus("connecting to " + socket_path_, errno);
    CloseLocked();
    return st;
  }
  // SASL: a NUL byte, then EXTERNAL with our uid in hex-encoded ASCII; the peer checks it against
  // the socket's credentials.
  std::string uid = std::to_string(getuid()), hex;
  for (unsigned char c : uid) {
    static const char* kHex = "0123456789abcdef";
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  Status st = SendAll(std::string("\0AUTH EXTERNAL ", 15) + hex + "\r\n");
  StatusOr<std::string> line = st.ok() ? ReadLine() : StatusOr<std::string>(st);
  if (line.ok() && line->rfind("OK ", 0) != 0) line = PermissionDenied("systemd D-Bus refused EXTERNAL: " + *line);
  if (line.ok()) st = SendAll("BEGIN\r\n");
  if (!line.ok() || !st.ok()) {
    CloseLocked();
    return line.ok() ? st : line.status();
  }
  return Status::Ok();
}

StatusOr<SystemdUnitProperties> SystemdClient::GetUnitProperties(const std::string& unit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0)
    if (Status st = ConnectLocked(); !st.ok()) return st;
  std::string body;
  dbus::AppendString(&body, "");  // every interface of the unit, as GetAllProperties(unit)
  uint32_t serial = ++serial_;
  std::string call = dbus::MethodCall(serial, SystemdUnitPath(unit), "org.freedesktop.DBus.Properties", "GetAll",
                                      "org.freedesktop.systemd1", "s", body);
  if (Status st = SendAll(call); !st.ok()) {
    CloseLocked();
    return st;
  }
  for (;;) {  // skip signals and replies to calls that timed out
    StatusOr<size_t> size = dbus::MessageSize(in_);
    if (!size.ok()) {
      CloseLocked();
      return size.status();
    }
    if (*size == 0 || in_.size() < *size) {
      if (Status st = ReadMore(fd_, &in_, timeout_); !st.ok()) {
        CloseLocked();
        return st;
      }
      continue;
    }
    StatusOr<dbus::Message> m = dbus::ParseMessage(std::string_view(in_).substr(0, *size));
    in_.erase(0, *size);
    if (!m.ok()) {
      CloseLocked();
      return m.status();
    }
    if (m->reply_serial != serial || (m->type != dbus::kMethodReturn && m->type != dbus::kError)) continue;
    if (m->type == dbus::kError) {
      std::string text = dbus::ErrorText(*m);
      if (m->error_name == "org.freedesktop.systemd1.NoSuchUnit" || m->error_name == "org.freedesktop.DBus.Error.UnknownObject")
        return NotFound("systemd: " + unit + ": " + text);
      return Unavailable("systemd: " + m->error_name + ": " + text);
    }
    StatusOr<std::map<std::string, dbus::PropertyValue>> props = dbus::ParseProperties(*m);
    if (!props.ok()) return props.status();
    SystemdUnitProperties out;
    if (auto it = props->find("TriggeredBy"); it != props->end())
      if (auto* v = std::get_if<std::vector<std::string>>(&it->second); v && !v->empty()) out.triggered_by = v->front();
    if (auto it = props->find("Type"); it != props->end())
      if (auto* v = std::get_if<std::string>(&it->second)) out.type = *v;
    return out;
  }
}

}  // namespace coroot::agent::containers
