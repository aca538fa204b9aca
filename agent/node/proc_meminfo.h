#pragma once
// /proc/meminfo: the node memory figures Coroot reports.
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::node {

struct MemInfo {
  uint64_t total_bytes = 0;      // MemTotal
  uint64_t free_bytes = 0;       // MemFree
  uint64_t available_bytes = 0;  // MemAvailable
  uint64_t cached_bytes = 0;     // Cached
};

// Fails when one of the four fields is missing or unparsable; other lines are ignored.
StatusOr<MemInfo> ParseMeminfo(std::string_view text);
StatusOr<MemInfo> ReadMeminfo(const std::string& proc_root = "/proc");

}  // namespace coroot::agent::node
