#pragma once
// /proc/stat: node-wide CPU time per mode and the number of logical cores.
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::node {

struct CpuStat {
  // Seconds since boot summed over all CPUs, from the aggregate "cpu" line.
  double user = 0;
  double nice = 0;
  double system = 0;
  double idle = 0;
  double iowait = 0;
  double irq = 0;
  double softirq = 0;
  double steal = 0;
  int logical_cores = 0;  // number of "cpuN" lines, i.e. online CPUs
};

// ticks_per_second is USER_HZ (the unit of /proc/stat times); it must be positive.
StatusOr<CpuStat> ParseProcStat(std::string_view text, double ticks_per_second);

// Reads <proc_root>/stat with USER_HZ from sysconf(_SC_CLK_TCK).
StatusOr<CpuStat> ReadProcStat(const std::string& proc_root = "/proc");

}  // namespace coroot::agent::node
