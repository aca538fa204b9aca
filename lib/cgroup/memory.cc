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

Status ReadMemoryUsage(const CgroupDirs& d, MemoryStat* s) {
  if (!d.memory.empty()) {
    FlatKey keys[] = {{"total_rss"}, {"total_mapped_file"}, {"total_cache"}};
    RETURN_IF_ERROR(ReadFlatKeyed(d.memory + "/memory.stat", keys, 3));
    s->rss_bytes = keys[0].value + keys[1].value;  // as MemoryFromV1Stat
    s->cache_bytes = keys[2].value;
    return Status::Ok();
  }
  if (d.v2.empty()) return NotFound("no memory cgroup");
  FlatKey keys[] = {{"anon"}, {"file_mapped"}, {"file"}};
  RETURN_IF_ERROR(ReadFlatKeyed(d.v2 + "/memory.stat", keys, 3));
  s->rss_bytes = keys[0].value + keys[1].value;  // as MemoryFromV2Stat
  s->cache_bytes = keys[2].value;
  return Status::Ok();
}

Status ReadMemoryLimit(const CgroupDirs& d, bool oom_kills, MemoryStat* s) {
  FlatKey oom{"oom_kill"};
  if (!d.memory.empty()) {
    ASSIGN_OR_RETURN(int64_t limit, ReadSingleIntUntilWritten(d.memory + "/memory.limit_in_bytes"));
    s->limit_bytes = (limit > 0 && static_cast<uint64_t>(limit) <= kMaxMemoryLimit) ? static_cast<uint64_t>(limit) : 0;
    if (oom_kills && ReadFlatKeyed(d.memory + "/memory.oom_control", &oom, 1).ok() && oom.found)
      s->oom_kills = oom.value;
    return Status::Ok();
  }
  if (d.v2.empty()) return NotFound("no memory cgroup");
  StatusOr<std::string> max = ReadCgroupFileUntilWritten(d.v2 + "/memory.max", 4096);
  uint64_t limit = 0;
  s->limit_bytes = (max.ok() && ParseUint64(Trim(*max), &limit) && limit <= kMaxMemoryLimit) ? limit : 0;
  if (oom_kills && ReadFlatKeyed(d.v2 + "/memory.events", &oom, 1).ok() && oom.found) s->oom_kills = oom.value;
  return Status::Ok();
}

StatusOr<MemoryStat> ReadMemoryStat(const CgroupDirs& d, bool oom_kills) {
  MemoryStat s;
  RETURN_IF_ERROR(ReadMemoryUsage(d, &s));
  RETURN_IF_ERROR(ReadMemoryLimit(d, oom_kills, &s));
  return s;
}

StatusOr<MemoryStat> ReadMemoryStat(const CgroupFs& fs, const ProcCgroup& cg) {
  return ReadMemoryStat(DirsOf(fs, cg), true);
}

}  // namespace coroot::cgroup
