#pragma once
// CPU of a cgroup: usage, throttled time and the CFS limit, from v1 (cpu + cpuacct) or v2.
#include <optional>
#include <string_view>

#include "lib/base/status.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/proc_cgroup.h"

namespace coroot::cgroup {

struct CpuStat {
  double usage_seconds = 0;      // v1 cpuacct.usage (ns), v2 cpu.stat usage_usec
  double throttled_seconds = 0;  // v1 cpu.stat throttled_time (ns), v2 cpu.stat throttled_usec
  double limit_cores = 0;        // quota / period; 0 = no limit
};

// v2 cpu.max: "<quota|max> <period>". Returns 0 for "max"; an error for anything malformed.
StatusOr<double> ParseCpuMax(std::string_view text);
// v1: quota_us -1 (or 0) means no limit.
double CfsLimitCores(int64_t quota_us, int64_t period_us);

// As Coroot: v1 when the process has both a cpu and a cpuacct cgroup, else v2. NotFound when the
// process has neither (it sits at the root).
StatusOr<CpuStat> ReadCpuStat(const CgroupFs& fs, const ProcCgroup& cg);
StatusOr<CpuStat> ReadCpuStat(const CgroupDirs& dirs);

}  // namespace coroot::cgroup
