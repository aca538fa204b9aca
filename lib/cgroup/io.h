#pragma once
// Block I/O of a cgroup per device ("major:minor"): v1 blkio.throttle.* or v2 io.stat.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/proc_cgroup.h"

namespace coroot::cgroup {

struct IoStat {
  uint64_t reads = 0, writes = 0;                 // completed requests
  uint64_t read_bytes = 0, written_bytes = 0;
};
using IoStats = std::map<std::string, IoStat>;  // "254:0" → counters; at most 256 devices

// v1 blkio.throttle.io_serviced + io_service_bytes: "<maj:min> <Read|Write|Sync|Async|Discard|Total> <n>"
// lines plus a trailing "Total <n>". Malformed lines are skipped and counted in *skipped.
IoStats ParseBlkio(std::string_view serviced, std::string_view service_bytes, int* skipped = nullptr);
// v2 io.stat: "<maj:min> rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..".
IoStats ParseIoStat(std::string_view text, int* skipped = nullptr);

// v1 when the process has a blkio cgroup, else v2; NotFound when neither.
StatusOr<IoStats> ReadIoStat(const CgroupFs& fs, const ProcCgroup& cg);
StatusOr<IoStats> ReadIoStat(const CgroupDirs& dirs);

}  // namespace coroot::cgroup
