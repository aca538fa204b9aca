#pragma once
// pid -> container key. The container registry (developed separately) will implement
// IContainerResolver with real container ids; until then ProcCgroupResolver keys a process by
// its cgroup path, read from /proc/<pid>/cgroup.
#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lib/base/status.h"

namespace coroot::agent::tracer {

class IContainerResolver {
 public:
  virtual ~IContainerResolver() = default;
  // The container_id label for a process; cgroup_id is the cgroup v2 id the kernel reported for
  // it (useful when the process has already exited). "" when unknown: such events are dropped
  // and counted.
  virtual std::string ContainerKey(uint32_t pid, uint64_t cgroup_id) = 0;
};

// The cgroup path of a process from the text of /proc/<pid>/cgroup: the cgroup v2 line
// ("0::/path") when present, else the first v1 line with a path ("4:memory:/path"), else "".
std::string CgroupPathFromProcFile(std::string_view text);

// Results are cached by cgroup id (bounded), so a busy cgroup costs one /proc read.
class ProcCgroupResolver : public IContainerResolver {
 public:
  // proc_root: "/proc" (or a fixture dir); cgroup2_root: the cgroup v2 mount, used to find a path
  // by cgroup id when the process is gone ("" = detect /sys/fs/cgroup/unified or /sys/fs/cgroup).
  explicit ProcCgroupResolver(std::string proc_root = "/proc", std::string cgroup2_root = "");
  std::string ContainerKey(uint32_t pid, uint64_t cgroup_id) override;

 private:
  std::string FindByCgroupId(uint64_t id);

  static constexpr size_t kMaxCache = 16384;
  std::string proc_root_, cgroup2_root_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::string> by_cgroup_id_;  // bounded by kMaxCache (cleared when full)
};

}  // namespace coroot::agent::tracer
