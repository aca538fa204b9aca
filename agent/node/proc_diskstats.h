#pragma once
// /proc/diskstats: I/O counters of the node's block devices.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::node {

struct DiskStat {
  std::string device;
  uint64_t reads = 0;          // completed read requests
  uint64_t writes = 0;         // completed write requests
  uint64_t read_bytes = 0;     // sectors read * 512 (diskstats sectors are always 512 bytes)
  uint64_t written_bytes = 0;  // sectors written * 512
  double read_time_seconds = 0;
  double write_time_seconds = 0;
  double io_time_seconds = 0;  // time the device had I/O in flight
};

struct Diskstats {
  std::vector<DiskStat> disks;
  int skipped_lines = 0;  // malformed lines that were ignored
};

// Says whether a diskstats name is a whole block device (not a partition).
using BlockDevicePredicate = std::function<bool(std::string_view device)>;

// Which devices are reported:
//  * only names the predicate accepts; live, that is "exists as /sys/block/<name>", which holds
//    whole devices and never partitions (those live under /sys/block/<disk>/<partition>);
//  * never loop, ram or zram devices: a loop device's I/O is re-issued to the disk holding its
//    backing file (so it would be counted twice), and ram/zram are memory, not disks. Coroot's
//    agent does not report them either;
//  * never a device that has done no I/O at all: hosts pre-create idle devices in bulk (nbd0..15,
//    an empty sr0) and those series carry no information.
// Malformed lines are skipped and counted, so one bad line cannot hide the other disks.
Diskstats ParseDiskstats(std::string_view text, const BlockDevicePredicate& is_block_device);

// True when <sys_root>/block/<device> exists. A '/' in a diskstats name (cciss/c0d0) is '!' in sysfs.
bool IsSysBlockDevice(const std::string& sys_root, std::string_view device);

StatusOr<Diskstats> ReadDiskstats(const std::string& proc_root = "/proc", const std::string& sys_root = "/sys");

}  // namespace coroot::agent::node
