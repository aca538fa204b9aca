#include "agent/node/proc_diskstats.h"

#include <unistd.h>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::node {

namespace {

// Field positions in a diskstats line (kernel Documentation/admin-guide/iostats.rst).
// Kernels add fields at the end (discards in 4.18, flushes in 5.5); the first 14 never move.
enum : size_t {
  kName = 2,
  kReads = 3,
  kSectorsRead = 5,
  kReadMs = 6,
  kWrites = 7,
  kSectorsWritten = 9,
  kWriteMs = 10,
  kIoMs = 12,
  kMinFields = 14,
};

bool IsMemoryOrLoopDevice(std::string_view name) {
  return StartsWith(name, "loop") || StartsWith(name, "ram") || StartsWith(name, "zram");
}

}  // namespace

Diskstats ParseDiskstats(std::string_view text, const BlockDevicePredicate& is_block_device) {
  Diskstats out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t\r");
    if (f.empty()) continue;
    uint64_t v[kMinFields] = {};
    bool ok = f.size() >= kMinFields;
    for (size_t i = 0; ok && i < kMinFields; i++) {
      if (i == kName) continue;
      ok = ParseUint64(f[i], &v[i]);
    }
    // Bytes must fit in 64 bits; a larger sector count can only come from a corrupt line.
    ok = ok && v[kSectorsRead] <= UINT64_MAX / 512 && v[kSectorsWritten] <= UINT64_MAX / 512;
    if (!ok) {
      out.skipped_lines++;
      continue;
    }
    const std::string& name = f[kName];
    if (IsMemoryOrLoopDevice(name)) continue;
    if (v[kReads] == 0 && v[kWrites] == 0) continue;
    if (!is_block_device(name)) continue;
    DiskStat d;
    d.device = name;
    d.reads = v[kReads];
    d.writes = v[kWrites];
    d.read_bytes = v[kSectorsRead] * 512;
    d.written_bytes = v[kSectorsWritten] * 512;
    d.read_time_seconds = static_cast<double>(v[kReadMs]) / 1000;
    d.write_time_seconds = static_cast<double>(v[kWriteMs]) / 1000;
    d.io_time_seconds = static_cast<double>(v[kIoMs]) / 1000;
    out.disks.push_back(std::move(d));
  }
  return out;
}

bool IsSysBlockDevice(const std::string& sys_root, std::string_view device) {
  if (device.empty() || device == "." || device == "..") return false;
  std::string name(device);
  for (char& c : name)
    if (c == '/') c = '!';
  return access((sys_root + "/block/" + name).c_str(), F_OK) == 0;
}

StatusOr<Diskstats> ReadDiskstats(const std::string& proc_root, const std::string& sys_root) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root + "/diskstats"));
  return ParseDiskstats(text, [&](std::string_view d) { return IsSysBlockDevice(sys_root, d); });
}

}  // namespace coroot::agent::node
