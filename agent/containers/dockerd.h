#pragma once
// Docker Engine API over its unix socket: GET /containers/<id>/json (ContainerInspect) → the
// metadata that forms container_id (/docker/<name>, /k8s/..., /swarm/..., /nomad/...) and
// container_info{image}.
#include <chrono>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/cgroup/container_id.h"

namespace coroot::agent::containers {

// Parses a ContainerInspect response. Missing optional parts (null Labels/Env, no Mounts) are
// fine; a body that is not a JSON object with a Name is an error.
StatusOr<cgroup::ContainerMetadata> ParseDockerInspect(std::string_view json);

class DockerClient {
 public:
  explicit DockerClient(std::string socket_path, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(std::move(socket_path)), timeout_(timeout) {}
  // id is the 64-hex container id from the cgroup path. NotFound for a 404 (not Docker's).
  StatusOr<cgroup::ContainerMetadata> Inspect(const std::string& id) const;
  const std::string& socket() const { return socket_; }

 private:
  std::string socket_;
  std::chrono::milliseconds timeout_;
};

}  // namespace coroot::agent::containers
