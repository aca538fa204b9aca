#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/memory.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::cgroup {

namespace {
uint64_t Get(const std::map<std::string, uint64_t>& m, const char* k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}
}  // namespace

MemoryStat MemoryFromV1Stat(const std::map<std::string, uint64_t>& stat, int64_t limit) {
  MemoryStat s;
  // "rss" counts anonymous memory only; rss + mapped_file is the resident set (memory.txt).
  s.rss_bytes = Get(stat, "total_rss") + Get(stat, "total_mapped_file");
  s.cache_bytes = Get(stat, "total_cache");
  s.limit_bytes = (limit > 0 && static_cast<uint64_t>(limit) <= kMaxMemoryLimit) ? static_cast<uint64_t>(limit) : 0;
  return s;
}

MemoryStat MemoryFromV2Stat(const std::map<std::string, uint64_t>& stat, std::string_view memory_max) {
  MemoryStat s;
  s.rss_bytes = Get(stat, "anon") + Get(stat, "file_mapped");
  s.cache_bytes = Get(stat, "file");
  uint64_t limit = 0;
  if (ParseUint64(Trim(memory_max), &limit) && limit <= kMaxMemoryLimit) s.limit_bytes = limit;
  return s;
}

StatusOr<MemoryStat> ReadMemoryStat(const CgroupFs& fs, const ProcCgroup& cg) {
  if (std::string mem = cg.Path("memory"); !mem.empty()) {
    std::string dir = fs.V1("memory", mem);
    ASSIGN_OR_RETURN(auto stat, ReadFlatKeyed(dir + "/memory.stat"));
    ASSIGN_OR_RETURN(int64_t limit, ReadSingleInt(dir + "/memory.limit_in_bytes"));
    MemoryStat s = MemoryFromV1Stat(stat, limit);
    if (auto oom = ReadFlatKeyed(dir + "/memory.oom_control"); oom.ok() && oom->count("oom_kill"))
      s.oom_kills = (*oom)["oom_kill"];
    return s;
  }
  std::string v2 = cg.Path("");
  if (v2.empty()) return NotFound("no memory cgroup");
  std::string dir = fs.V2(v2);
  ASSIGN_OR_RETURN(auto stat, ReadFlatKeyed(dir + "/memory.stat"));
  StatusOr<std::string> max = ReadCgroupFile(dir + "/memory.max", 4096);
  MemoryStat s = MemoryFromV2Stat(stat, max.ok() ? std::string_view(*max) : std::string_view());
  if (auto ev = ReadFlatKeyed(dir + "/memory.events"); ev.ok() && ev->count("oom_kill")) s.oom_kills = (*ev)["oom_kill"];
  return s;
}

}  // namespace coroot::cgroup
