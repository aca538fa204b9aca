#pragma once
// Where a gather gets a container's CPU throttling and pressure: a snapshot of every cgroup's
// counters taken once per gather (the eBPF cgroup iterator: one read per hierarchy) where it has
// the container's cgroups, else the cgroup's files as before. The snapshot also tells whether a
// memory cgroup's counters moved, so that an unchanged one's memory.stat (the costliest file the
// kernel formats for a gather) is not read again.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lib/base/status.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/cpu.h"
#include "lib/cgroup/memory.h"
#include "lib/cgroup/psi.h"

namespace coroot::agent::containers {

// A cgroup directory: the st_dev of its hierarchy's mount and its inode number (= the kernel's
// cgroup id in that hierarchy). A directory made again under the same path gets another inode.
struct CgroupKey {
  uint64_t dev = 0, ino = 0;
  bool operator==(const CgroupKey&) const = default;
};
// The key of dir; a zero key when it cannot be stat'ed.
CgroupKey KeyOf(const std::string& dir);

// One cgroup's counters, as the files print them (in ns).
struct CgroupCounters {
  bool has_cpu_bandwidth = false, has_psi = false, has_memory = false;
  uint64_t throttled_ns = 0;  // cpu.stat throttled_time / throttled_usec
  // A hash of the memory controller's counters (those memory.stat prints): equal while none moved.
  uint64_t memory_fingerprint = 0;
  // cpu, memory, io pressure: "some" and "full" totals
  uint64_t cpu_some_ns = 0, cpu_full_ns = 0, memory_some_ns = 0, memory_full_ns = 0, io_some_ns = 0, io_full_ns = 0;
};

struct CgroupKeyHash {
  size_t operator()(const CgroupKey& k) const { return std::hash<uint64_t>()(k.ino * 31 + k.dev); }
};
using CgroupKeySet = std::unordered_set<CgroupKey, CgroupKeyHash>;

class CgroupCountersSnapshot {
 public:
  using Reader = std::function<Status(const std::function<void(CgroupKey, const CgroupCounters&)>&)>;
  explicit CgroupCountersSnapshot(Reader reader) : reader_(std::move(reader)) {}
  // Called once per gather, before any Find(). Keeps the records of the wanted cgroups only (the
  // reported containers'), so its size follows the containers', not the host's cgroup count. On
  // a failed read the snapshot is empty (every container falls back to its files) and the error
  // is logged once.
  void Refresh(const CgroupKeySet& wanted);
  const CgroupCounters* Find(CgroupKey key) const;
  size_t size() const { return by_key_.size(); }
  // Records the last Refresh read, kept or not.
  size_t read() const { return read_; }

 private:
  Reader reader_;
  std::unordered_map<CgroupKey, CgroupCounters, CgroupKeyHash> by_key_;
  size_t read_ = 0;
  bool warned_ = false;
};

// A container's cgroup keys, worked out once and again only when a snapshot does not know one
// (its directory was made again).
struct CgroupKeys {
  CgroupKey cpu, memory, v2;
};

// Adds the keys that ReadCpu and ReadPressure will look up for dirs to wanted, working out the
// ones not known yet (a stat each).
void WantKeys(const cgroup::CgroupDirs& dirs, CgroupKeys* keys, CgroupKeySet* wanted);

// CPU of a container: on v1, throttling from the snapshot when it has the container's cpu cgroup
// (usage still from cpuacct.usage, the limit from cpu.cfs_*_us, read only after a write); else
// cgroup::ReadCpuStat. v2's cpu.stat has usage and throttling in one file: read as before.
// snapshot may be null.
StatusOr<cgroup::CpuStat> ReadCpu(const cgroup::CgroupDirs& dirs, CgroupKeys* keys,
                                  const CgroupCountersSnapshot* snapshot);
// Pressure of a container: from the snapshot when it has the v2 cgroup with PSI on, else
// cgroup::ReadPsi.
StatusOr<cgroup::PsiStat> ReadPressure(const cgroup::CgroupDirs& dirs, CgroupKeys* keys,
                                       const CgroupCountersSnapshot* snapshot);

// A container's last memory.stat figures and the fingerprint of its counters then.
struct MemoryStatCache {
  bool valid = false;
  uint64_t fingerprint = 0;
  uint64_t rss_bytes = 0, cache_bytes = 0;
  int reused = 0;  // gathers since memory.stat was read
};
// memory.stat is read at least every kMaxMemoryStatReuse-th gather (a safety net for counters
// the fingerprint might not cover on some kernel), however still its counters are.
inline constexpr int kMaxMemoryStatReuse = 8;

// Memory of a container (cgroup::ReadMemoryStat): RSS and cache from the cache when the
// snapshot's fingerprint of the memory cgroup (v1 memory, else v2) is the one they were read
// with, else from memory.stat; the limit (kept until written) and OOM kills as before.
StatusOr<cgroup::MemoryStat> ReadMemory(const cgroup::CgroupDirs& dirs, CgroupKeys* keys,
                                        const CgroupCountersSnapshot* snapshot, bool oom_kills,
                                        MemoryStatCache* cache);

}  // namespace coroot::agent::containers
