#pragma once
// Block-device mounts a container can write to, for container_resources_disk_* (mount_point,
// device, volume): /proc/<pid>/mountinfo, the device names in /sys/dev/block, statfs.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::containers {

struct Mount {
  std::string major_minor;  // "254:0"
  std::string root;         // the directory of the filesystem mounted there ("/" = all of it)
  std::string mount_point;  // as the process sees it, octal escapes (\040) decoded
  std::string fstype;
};

// Lines "<id> <parent> <maj:min> <root> <mount point> <opts> [optional...] - <fstype> <src> <opts>".
// Malformed lines are skipped and counted; at most 4096 mounts are returned.
std::vector<Mount> ParseMountinfo(std::string_view text, int* skipped = nullptr);

struct BlockDevice {
  std::string name;              // "vda" (the whole disk, also for a partition's mount)
  std::string major_minor;       // of that mount's own device
  std::string disk_major_minor;  // of the whole disk
};
// Resolves a device number through <sys_root>/dev/block; NotFound for non-block devices (tmpfs,
// overlay's anonymous 0:N, ...).
StatusOr<BlockDevice> ResolveBlockDevice(const std::string& sys_root, const std::string& major_minor);

struct FsUsage {
  uint64_t size_bytes = 0, used_bytes = 0, reserved_bytes = 0;  // reserved = free but root-only
};
StatusOr<FsUsage> StatFs(const std::string& path);

}  // namespace coroot::agent::containers
