#pragma once
// Where the host's cgroup hierarchies are, and the small file formats they share.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::cgroup {

struct CgroupFs {
  std::string root = "/sys/fs/cgroup";  // v1 hierarchies are <root>/<controller>
  std::string v2_root = "/sys/fs/cgroup";  // <root>/unified on hybrid hosts

  // The v1 directory of a controller's cgroup path ("cpu", "/docker/x" → <root>/cpu/docker/x).
  // Co-mounted hierarchies ("cpu,cpuacct") are found through the symlinks systemd and Docker
  // create, so <root>/cpuacct works either way.
  std::string V1(std::string_view controller, std::string_view path) const;
  std::string V2(std::string_view path) const;
};

// v2 is at <root>/unified when mountinfo shows a cgroup2 mount there (hybrid), else at <root>.
CgroupFs DetectCgroupFs(const std::string& root, std::string_view mountinfo);
CgroupFs DetectCgroupFs(const std::string& root = "/sys/fs/cgroup");

struct ProcCgroup;

// The directories of a process's cgroups, as the readers of cpu.h, memory.h, io.h and psi.h
// want them ("" where the process has no cgroup of that kind). Worked out once per container
// rather than once per file per gather (CleanPath and map look-ups add up over many containers).
struct CgroupDirs {
  std::string cpu, cpuacct, memory, blkio, v2;
  bool operator==(const CgroupDirs&) const = default;
};
CgroupDirs DirsOf(const CgroupFs& fs, const ProcCgroup& cg);

// "key value" lines (cpu.stat, memory.stat, memory.events, memory.oom_control). Lines without a
// numeric value are skipped and counted in *skipped; at most 256 keys are kept.
std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text, int* skipped = nullptr);
StatusOr<std::map<std::string, uint64_t>> ReadFlatKeyed(const std::string& path);
// A few keys of such a file, by the same rules, without building the map (memory.stat has ~40
// lines and is read for every container every gather). A key on no valid line keeps found=false.
struct FlatKey {
  std::string_view key;
  uint64_t value = 0;
  bool found = false;
};
void LookupFlatKeyed(std::string_view text, FlatKey* keys, size_t n);
Status ReadFlatKeyed(const std::string& path, FlatKey* keys, size_t n);
// A file holding one integer ("-1" is allowed, as in cpu.cfs_quota_us).
StatusOr<int64_t> ParseSingleInt(std::string_view text);
StatusOr<int64_t> ReadSingleInt(const std::string& path);
// The same for a file the kernel changes only when it is written (a limit): read again only after
// a write (ReadCgroupFileUntilWritten).
StatusOr<int64_t> ReadSingleIntUntilWritten(const std::string& path);

}  // namespace coroot::cgroup
