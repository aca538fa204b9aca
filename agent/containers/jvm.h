#pragma once
// JVM metrics from HotSpot's performance-data file (/tmp/hsperfdata_<user>/<pid in the
// container's pid namespace>), read through /proc/<pid>/root as Coroot's agent does.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "lib/base/status.h"

namespace coroot::agent::containers {

// The counters of one hsperfdata file: name → long or string. At most 16384 entries.
using PerfData = std::map<std::string, std::variant<int64_t, std::string>>;

// The file: a 32-byte prologue (magic 0xcafec0c0, byte order, version 2.x, entry offset and count)
// then entries (length, name offset, vector length, type 'J' long / 'B' bytes, data offset).
// Entries that point outside the file are an error; unknown types are skipped.
StatusOr<PerfData> ParseHsperfdata(std::string_view bytes);

struct JvmStats {
  std::string jvm;           // sun.rt.javaCommand
  std::string java_version;  // java.property.java.version
  double heap_size_bytes = 0, heap_used_bytes = 0, heap_max_size_bytes = 0;  // generations 0 and 1
  std::map<std::string, double> gc_seconds;  // collector name → time
  double safepoint_seconds = 0, safepoint_sync_seconds = 0;
};
JvmStats JvmStatsFrom(const PerfData& pd);

// Finds and reads <proc_root>/<pid>/root/tmp/hsperfdata_*/<nspid>.
StatusOr<JvmStats> ReadJvmStats(const std::string& proc_root, int pid);

// Whether argv[0] of a cmdline is a java launcher.
bool IsJvm(std::string_view cmdline);

}  // namespace coroot::agent::containers
