#pragma once
// Memory of a cgroup: RSS, page cache, limit and OOM kills, from v1 or v2.
#include <cstdint>
#include <optional>
#include <string_view>

#include "lib/base/status.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/proc_cgroup.h"

namespace coroot::cgroup {

struct MemoryStat {
  uint64_t rss_bytes = 0;    // v1 total_rss + total_mapped_file; v2 anon + file_mapped
  uint64_t cache_bytes = 0;  // v1 total_cache; v2 file
  uint64_t limit_bytes = 0;  // 0 = no limit (v1 values above 2^62 and v2 "max")
  // The kernel's count of OOM kills in this cgroup: v1 memory.oom_control oom_kill, v2
  // memory.events oom_kill. Unset when the kernel does not expose it.
  std::optional<uint64_t> oom_kills;
};

inline constexpr uint64_t kMaxMemoryLimit = uint64_t{1} << 62;

MemoryStat MemoryFromV1Stat(const std::map<std::string, uint64_t>& stat, int64_t limit_in_bytes);
MemoryStat MemoryFromV2Stat(const std::map<std::string, uint64_t>& stat, std::string_view memory_max);

// v1 when the process has a memory cgroup, else v2; NotFound when neither.
StatusOr<MemoryStat> ReadMemoryStat(const CgroupFs& fs, const ProcCgroup& cg);
// oom_kills=false leaves the OOM counter (and its file) out: the agent counts OOM kills with eBPF.
// ReadMemoryUsage (rss, cache: memory.stat) and ReadMemoryLimit (limit, OOM kills) read its parts.
StatusOr<MemoryStat> ReadMemoryStat(const CgroupDirs& dirs, bool oom_kills);
Status ReadMemoryUsage(const CgroupDirs& dirs, MemoryStat* s);
Status ReadMemoryLimit(const CgroupDirs& dirs, bool oom_kills, MemoryStat* s);

}  // namespace coroot::cgroup
