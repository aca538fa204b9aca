#pragma once
// CRI-O's inspect endpoint over its unix socket: GET /containers/<id> → name, image, labels
// (io.kubernetes.*), log_path and the io.kubernetes.cri-o.Volumes annotation (spec §1.c).
#include <chrono>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/cgroup/container_id.h"

namespace coroot::agent::containers {

StatusOr<cgroup::ContainerMetadata> ParseCrioInspect(std::string_view json);

class CrioClient {
 public:
  explicit CrioClient(std::string socket_path, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(std::move(socket_path)), timeout_(timeout) {}
  StatusOr<cgroup::ContainerMetadata> Inspect(const std::string& id) const;

 private:
  std::string socket_;
  std::chrono::milliseconds timeout_;
};

}  // namespace coroot::agent::containers
