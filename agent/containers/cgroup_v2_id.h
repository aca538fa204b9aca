#pragma once
// cgroup v2 ids, as eBPF reports them (bpf_get_current_cgroup_id() = the inode of the cgroup's
// directory in the v2 hierarchy), and the cgroup path they stand for.
#include <cstdint>
#include <string>

#include "lib/cgroup/cgroupfs.h"

namespace coroot::agent::containers {

// The v2 id of a cgroup path ("" = the root); 0 when the directory does not exist (a pure v1 host,
// or the cgroup is gone).
uint64_t CgroupV2Id(const cgroup::CgroupFs& fs, const std::string& path);

// The path of the v2 cgroup with this id ("/" for the root), by a bounded walk of the v2 tree
// (at most max_dirs directories, 16 levels); "" when not found.
std::string FindCgroupV2Path(const cgroup::CgroupFs& fs, uint64_t id, size_t max_dirs = 100'000);

}  // namespace coroot::agent::containers
