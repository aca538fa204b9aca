#pragma once
// containerd's Containers API over gRPC on its unix socket (spec §1.c): Get(id) in a namespace
// (k8s.io for the kubelet's containers, moby for Docker's) → labels, image, the OCI spec's env and
// mounts, and the CRI extension's log path. The proto is lib/proto/containerd/...; gRPC types stay
// in containerd.cc.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/cgroup/container_id.h"

namespace coroot::agent::containers {

// The OCI runtime spec (JSON) → env ("K=V" of process.env) and volumes (mount destination → PVC
// name of its source, as for CRI-O). Bad JSON is an error; missing parts are not.
Status ParseOciSpec(std::string_view json, cgroup::ContainerMetadata* md);
// CRI's io.cri-containerd.container.metadata extension (JSON) → log_path (Metadata.LogPath).
Status ParseCriExtension(std::string_view json, cgroup::ContainerMetadata* md);

class ContainerdClient {
 public:
  explicit ContainerdClient(std::string socket_path, std::chrono::milliseconds timeout = std::chrono::seconds(2));
  ~ContainerdClient();
  ContainerdClient(const ContainerdClient&) = delete;
  ContainerdClient& operator=(const ContainerdClient&) = delete;

  // NotFound when the namespace has no such container; Unavailable when containerd does not answer.
  StatusOr<cgroup::ContainerMetadata> Get(const std::string& ns, const std::string& id) const;
  const std::string& socket() const { return socket_; }

 private:
  struct Impl;
  std::string socket_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coroot::agent::containers
