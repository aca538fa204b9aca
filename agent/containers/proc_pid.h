#pragma once
// Per-process files under /proc that the container registry reads.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::containers {

// Numeric entries of <proc_root>, ascending; at most max_pids (the rest is reported via *truncated).
std::vector<int> ListPids(const std::string& proc_root, size_t max_pids, bool* truncated = nullptr);

// True when <proc_root> is a procfs in which this process sits in the initial pid namespace, so
// that its pids are the kernel's global ones, as eBPF sees them (that namespace's inode number is
// fixed: PROC_PID_INIT_INO). /proc/1 may be closed to us; <proc_root>/self is not. A host /proc
// seen from a container's pid namespace says false: the caller then keeps reading /proc.
bool ProcIsOfInitialPidNamespace(const std::string& proc_root);

// /proc/<pid>/stat field 22, the start time in clock ticks since boot. The command name (field 2)
// may hold spaces and parentheses, so fields are counted after the last ')'.
StatusOr<uint64_t> ParseStartTicks(std::string_view stat);
StatusOr<uint64_t> ReadStartTicks(const std::string& proc_root, int pid);

// Start time and command name (field 2, changed by every exec) of one process.
struct PidStat {
  uint64_t start_ticks = 0;
  std::string comm;
};
StatusOr<PidStat> ParsePidStat(std::string_view stat);
StatusOr<PidStat> ReadPidStat(const std::string& proc_root, int pid);

// /proc/stat "btime": boot time in seconds since the epoch.
StatusOr<uint64_t> ParseBootTime(std::string_view proc_stat);

// /proc/<pid>/cmdline, at most 4 KiB; "" for kernel threads and vanished processes.
std::string ReadCmdline(const std::string& proc_root, int pid);
std::string ReadExe(const std::string& proc_root, int pid);

}  // namespace coroot::agent::containers
