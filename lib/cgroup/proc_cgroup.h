#pragma once
// /proc/<pid>/cgroup: which cgroup a process is in, for cgroup v1, v2 and hybrid hosts.
//
// v1 lines are "<hierarchy-id>:<controller[,controller...]>:<path>" (one per mounted hierarchy,
// "name=systemd" for named ones); the v2 line is "0::<path>". A hybrid host has both. Paths are
// relative to each hierarchy's root and may themselves contain ':'.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::cgroup {

struct ProcCgroup {
  // Controller ("cpu", "cpuacct", "memory", "blkio", "name=systemd", ... and "" for v2) → the
  // cleaned path under the host's cgroup root. As in Coroot, the root "/" and "/init.scope" are
  // left out: a process there is in no container for that hierarchy.
  std::map<std::string, std::string> paths;
  int skipped_lines = 0;  // malformed lines that were ignored

  // The path for one controller, or "" when the process sits at that hierarchy's root.
  std::string Path(std::string_view controller) const;
  bool Has(std::string_view controller) const { return !Path(controller).empty(); }
  // The cgroup that identifies the container (Coroot's rule): the v1 cpu path if it starts with
  // /kubepods, else the v1 memory path if it does, else the v2 path, else cpu, memory,
  // name=systemd. "" when the process is at the root everywhere.
  std::string Id() const;
};

// Bounds: at most kMaxLines lines and kMaxPathBytes per path; beyond that the input is rejected.
inline constexpr size_t kMaxLines = 64;
inline constexpr size_t kMaxPathBytes = 4096;

// base_path is the agent's view of the host cgroup namespace root (Coroot joins it in front of
// every path; "" when the agent runs in the host cgroup namespace). Fails when no line is valid.
StatusOr<ProcCgroup> ParseProcCgroup(std::string_view text, std::string_view base_path = "");
StatusOr<ProcCgroup> ReadProcCgroup(const std::string& proc_root, int pid, std::string_view base_path = "");

// The base path to join in front of paths this process reads from /proc/<pid>/cgroup when it runs
// in a cgroup namespace of its own (a containerised agent): its own cgroup as the host's
// namespace (host_ns, PID 1's) names it. "" when it shares the host's cgroup namespace. Entering
// the host namespace (on a short-lived thread) needs CAP_SYS_ADMIN.
StatusOr<std::string> HostCgroupBasePath(const std::string& host_ns = "/proc/1/ns/cgroup");

// Lexical path cleaning as Go's path.Clean on absolute paths: "//a/./b/../c/" → "/a/c".
std::string CleanPath(std::string_view path);

}  // namespace coroot::cgroup
