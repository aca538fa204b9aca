#pragma once
// CgroupStatsIter: every cgroup's CPU throttling, pressure and memory-counter fingerprint from the
// iter/cgroup program (bpf/cgroup_stats.bpf.c), one read() per cgroup hierarchy. It loads only
// that program of the containers' BPF object (coroot_containers.skel.h, its own instance) and
// attaches it once per hierarchy root.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/containers/cgroup_counters.h"
#include "cgroup_stats_abi.h"
#include "lib/base/status.h"

struct coroot_containers_bpf;
struct bpf_link;

namespace coroot::agent::tracer {

class CgroupStatsIter {
 public:
  // roots: the directories of the hierarchies to walk (v1 controllers' roots, the v2 root).
  // Roots on the same mount (co-mounted controllers, symlinks) are walked once; a root that
  // cannot be opened or attached is left out and logged. Fails when none can be walked.
  static StatusOr<std::unique_ptr<CgroupStatsIter>> Start(const std::vector<std::string>& roots);
  ~CgroupStatsIter();
  CgroupStatsIter(const CgroupStatsIter&) = delete;
  CgroupStatsIter& operator=(const CgroupStatsIter&) = delete;

  // Every cgroup of every walked hierarchy now: fn(st_dev of its hierarchy's mount, record).
  // A cgroup's directory has that st_dev and the record's id as its inode number.
  Status Read(const std::function<void(uint64_t dev, const coroot_cgroup_stat&)>& fn);
  // The roots walked, one per mount.
  std::vector<std::string> roots() const;
  // How many walks a read of root takes (1 until it has more cgroups than one read() holds).
  uint32_t shards(const std::string& root);

 private:
  struct Walk {
    std::string root;
    uint64_t dev = 0;
    bpf_link* link = nullptr;
    uint32_t shards = 1;
  };
  CgroupStatsIter() = default;

  coroot_containers_bpf* skel_ = nullptr;
  std::mutex mu_;
  std::vector<Walk> walks_;
};

// The registry's reader of every cgroup's counters over this iterator.
containers::CgroupCountersSnapshot::Reader CgroupCountersReader(std::shared_ptr<CgroupStatsIter> it);

}  // namespace coroot::agent::tracer
