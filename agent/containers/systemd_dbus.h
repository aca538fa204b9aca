#pragma once
// systemd's unit properties over its private D-Bus socket (spec §1.c: /run/systemd/private,
// EXTERNAL authentication, no bus daemon and no Hello, as Coroot's agent talks to it):
// Properties.GetAll on the unit's object gives TriggeredBy (first value) and Type.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::containers {

struct SystemdUnitProperties {
  std::string triggered_by;  // the first unit of TriggeredBy, e.g. "foo.timer"
  std::string type;          // the service's Type: simple, oneshot, dbus, ...
};

// The unit's object path: /org/freedesktop/systemd1/unit/<name with every byte but [A-Za-z0-9]
// written as _xx, lowercase hex> ("_" for an empty name).
std::string SystemdUnitPath(std::string_view unit);

class SystemdClient {
 public:
  // Connects and authenticates (uid of this process). Reconnects on the next call after an error.
  explicit SystemdClient(std::string socket_path, std::chrono::milliseconds timeout = std::chrono::seconds(1))
      : socket_path_(std::move(socket_path)), timeout_(timeout) {}
  ~SystemdClient();
  SystemdClient(const SystemdClient&) = delete;
  SystemdClient& operator=(const SystemdClient&) = delete;

  StatusOr<SystemdUnitProperties> GetUnitProperties(const std::string& unit);

 private:
  Status ConnectLocked();
  Status SendAll(std::string_view bytes);
  StatusOr<std::string> ReadLine();
  void CloseLocked();

  std::string socket_path_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  int fd_ = -1;
  uint32_t serial_ = 0;
  std::string in_;  // bytes read and not yet consumed
};

}  // namespace coroot::agent::containers
