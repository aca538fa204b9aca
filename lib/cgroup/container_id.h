#pragma once
// Container identity, as Coroot's node agent forms it (spec §1.c):
//  1. a cgroup path is classified (docker, crio, containerd, systemd service, talos, lxc, pod
//     sandbox, standalone) and the runtime's container id extracted from it;
//  2. with the runtime's metadata (labels, name, env) the reported container_id is formed:
//     /k8s/<ns>/<pod>/<container>, /k8s-cronjob/<ns>/<job>/<container>, /swarm/..., /nomad/...,
//     /docker/<name>, /system.slice/<unit>, /talos/<name>;
//  3. app_id is derived from container_id (the pod suffix stripped to the workload).
#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::cgroup {

enum class ContainerType {
  kUnknown,
  kStandalone,  // not a container: user sessions, init, other scopes, the root
  kDocker,
  kCrio,
  kContainerd,
  kLxc,
  kSystemdService,
  kSandbox,  // a Kubernetes pod-level cgroup without a container id of its own
  kTalosRuntime,
};
const char* ContainerTypeName(ContainerType t);

struct CgroupContainer {
  ContainerType type = ContainerType::kUnknown;
  // The runtime's id (64 hex for docker/crio/containerd), or the final id for systemd services
  // ("/system.slice/foo.service"), Talos ("/talos/<name>") and lxc.
  std::string id;
};

// Classifies one cgroup path (as ProcCgroup::Id() returns it). Paths that look like a runtime's
// but carry no id (e.g. "/docker/abc") and unknown layouts are errors; callers ignore them.
StatusOr<CgroupContainer> ClassifyCgroup(std::string_view cgroup_path);

// What the runtime APIs (Docker, containerd, CRI-O, systemd) tell about a container.
struct ContainerMetadata {
  std::string name;   // Docker container name, without the leading '/'
  std::string image;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> volumes;  // mount destination → volume (k8s "pvc-<uuid>")
  std::string log_path;                        // json-file log of a Docker container
  std::string systemd_triggered_by, systemd_type;
};

// The container_id reported for a cgroup, "" when Coroot does not report it (standalone, lxc,
// pause containers, docker/containerd/crio without metadata, crio-conmon). `now` bounds the
// CronJob rule: a pod named <job>-<minutes since epoch>-<5 chars> counts as a CronJob pod only when
// that time is within 7 days of now.
std::string ContainerIdFor(const CgroupContainer& c, const ContainerMetadata& md,
                           std::chrono::system_clock::time_point now);

// app_id: for /k8s/<ns>/<pod>/<c> the pod name is cut to its workload (Deployment
// "-<rs hash>-<5>", DaemonSet "-<5>", StatefulSet "-<ordinal>"); for /k8s-cronjob/<ns>/<job>/<c>
// the container is dropped; otherwise the container_id itself (spec §1.c).
std::string AppIdFor(std::string_view container_id);

// The systemd unit of a service container id ("/system.slice/foo.service" → "foo.service").
std::string SystemdUnit(std::string_view container_id);
// --skip-systemd-system-services: oneshot/dbus units, timer-triggered units and the well-known
// system prefixes (systemd-, dbus, getty, ...). type/triggered_by are "" when D-Bus is unavailable.
bool IsSystemdSystemService(std::string_view unit, std::string_view type, std::string_view triggered_by);

// gVisor: a pod sandbox whose process is runsc/runsc-sandbox takes its id from the last argument
// when that is 64 hex. cmdline is /proc/<pid>/cmdline (NUL-separated). "" otherwise.
std::string GvisorSandboxId(std::string_view cmdline);

}  // namespace coroot::cgroup
