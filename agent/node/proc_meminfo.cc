#include "agent/node/proc_meminfo.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::node {

StatusOr<MemInfo> ParseMeminfo(std::string_view text) {
  struct Field {
    std::string_view key;
    uint64_t* dst;
    bool seen;
  };
  MemInfo mem;
  Field fields[] = {{"MemTotal", &mem.total_bytes, false},
                    {"MemFree", &mem.free_bytes, false},
                    {"MemAvailable", &mem.available_bytes, false},
                    {"Cached", &mem.cached_bytes, false}};
  for (const std::string& line : Split(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string_view key = std::string_view(line).substr(0, colon);
    Field* field = nullptr;
    for (auto& f : fields)
      if (f.key == key) field = &f;
    if (field == nullptr || field->seen) continue;

    std::vector<std::string> v = SplitAny(std::string_view(line).substr(colon + 1), " \t");
    uint64_t value = 0;
    if (v.empty() || v.size() > 2 || !ParseUint64(v[0], &value))
      return InvalidArgument("/proc/meminfo: bad value for " + std::string(key));
    // The kernel writes "kB" but means KiB. (Coroot's agent multiplies by 1000; 1024 is correct.)
    uint64_t unit = 1;
    if (v.size() == 2) {
      if (v[1] != "kB") return InvalidArgument("/proc/meminfo: unknown unit for " + std::string(key));
      unit = 1024;
    }
    if (value > UINT64_MAX / unit) return InvalidArgument("/proc/meminfo: value too large for " + std::string(key));
    *field->dst = value * unit;
    field->seen = true;
  }
  for (const auto& f : fields)
    if (!f.seen) return InvalidArgument("/proc/meminfo: no " + std::string(f.key) + " line");
  return mem;
}

StatusOr<MemInfo> ReadMeminfo(const std::string& proc_root) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root + "/meminfo"));
  return ParseMeminfo(text);
}

}  // namespace coroot::agent::node
