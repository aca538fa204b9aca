#include "agent/containers/cgroup_counters.h"

#include <sys/stat.h>

#include "lib/base/log.h"

namespace coroot::agent::containers {

CgroupKey KeyOf(const std::string& dir) {
  struct stat st;
  if (dir.empty() || stat(dir.c_str(), &st) != 0) return {};
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

void CgroupCountersSnapshot::Refresh(const CgroupKeySet& wanted) {
  by_key_.clear();
  read_ = 0;
  Status st = reader_([&](CgroupKey key, const CgroupCounters& c) {
    read_++;
    if (wanted.count(key)) by_key_[key] = c;
  });
  if (st.ok()) {
    warned_ = false;
    return;
  }
  by_key_.clear();
  if (!warned_) LOG(WARNING) << "cgroup counters: " << st.ToString() << "; reading the cgroups' files instead";
  warned_ = true;
}

const CgroupCounters* CgroupCountersSnapshot::Find(CgroupKey key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second;
}

namespace {

// The snapshot's record of dir, by its cached key; the key is worked out again once when the
// record is missing (first use, or the directory was made again).
const CgroupCounters* Lookup(const std::string& dir, CgroupKey* key, const CgroupCountersSnapshot& s) {
  if (dir.empty()) return nullptr;
  if (key->ino != 0)
    if (const CgroupCounters* c = s.Find(*key)) return c;
  *key = KeyOf(dir);
  return key->ino != 0 ? s.Find(*key) : nullptr;
}

}  // namespace

void WantKeys(const cgroup::CgroupDirs& d, CgroupKeys* keys, CgroupKeySet* wanted) {
  auto want = [wanted](const std::string& dir, CgroupKey* key) {
    if (dir.empty()) return;
    if (key->ino == 0) *key = KeyOf(dir);
    if (key->ino != 0) wanted->insert(*key);
  };
  if (!d.cpu.empty() && !d.cpuacct.empty()) want(d.cpu, &keys->cpu);  // as ReadCpu
  want(d.memory, &keys->memory);                                        // as ReadMemory
  want(d.v2, &keys->v2);
}

StatusOr<cgroup::CpuStat> ReadCpu(const cgroup::CgroupDirs& d, CgroupKeys* keys, const CgroupCountersSnapshot* s) {
  if (s && !d.cpu.empty() && !d.cpuacct.empty()) {
    const CgroupCounters* cpu = Lookup(d.cpu, &keys->cpu, *s);
    if (cpu && cpu->has_cpu_bandwidth) {
      ASSIGN_OR_RETURN(int64_t usage_ns, cgroup::ReadSingleInt(d.cpuacct + "/cpuacct.usage"));
      ASSIGN_OR_RETURN(int64_t period, cgroup::ReadSingleIntUntilWritten(d.cpu + "/cpu.cfs_period_us"));
      ASSIGN_OR_RETURN(int64_t quota, cgroup::ReadSingleIntUntilWritten(d.cpu + "/cpu.cfs_quota_us"));
      cgroup::CpuStat out;  // as cgroup::ReadCpuStat
      out.usage_seconds = static_cast<double>(usage_ns) / 1e9;
      out.throttled_seconds = static_cast<double>(cpu->throttled_ns) / 1e9;
      out.limit_cores = cgroup::CfsLimitCores(quota, period);
      return out;
    }
  }
  return cgroup::ReadCpuStat(d);
}

StatusOr<cgroup::PsiStat> ReadPressure(const cgroup::CgroupDirs& d, CgroupKeys* keys,
                                       const CgroupCountersSnapshot* s) {
  if (s) {
    const CgroupCounters* c = Lookup(d.v2, &keys->v2, *s);
    if (c && c->has_psi) {
      auto sec = [](uint64_t ns) { return static_cast<double>(ns) / 1e9; };
      cgroup::PsiStat out;
      out.cpu = {sec(c->cpu_some_ns), sec(c->cpu_full_ns)};
      out.memory = {sec(c->memory_some_ns), sec(c->memory_full_ns)};
      out.io = {sec(c->io_some_ns), sec(c->io_full_ns)};
      return out;
    }
  }
  return cgroup::ReadPsi(d);
}

StatusOr<cgroup::MemoryStat> ReadMemory(const cgroup::CgroupDirs& d, CgroupKeys* keys,
                                        const CgroupCountersSnapshot* s, bool oom_kills, MemoryStatCache* cache) {
  cgroup::MemoryStat out;
  RETURN_IF_ERROR(cgroup::ReadMemoryLimit(d, oom_kills, &out));
  const CgroupCounters* c = nullptr;
  if (s) c = d.memory.empty() ? Lookup(d.v2, &keys->v2, *s) : Lookup(d.memory, &keys->memory, *s);
  const bool known = c && c->has_memory;
  if (known && cache->valid && cache->fingerprint == c->memory_fingerprint && cache->reused < kMaxMemoryStatReuse) {
    cache->reused++;
    out.rss_bytes = cache->rss_bytes;
    out.cache_bytes = cache->cache_bytes;
    return out;
  }
  // The fingerprint was taken before this read: should the counters move in between, the next
  // gather sees another fingerprint and reads again.
  cache->valid = false;
  RETURN_IF_ERROR(cgroup::ReadMemoryUsage(d, &out));
  *cache = {known, known ? c->memory_fingerprint : 0, out.rss_bytes, out.cache_bytes, 0};
  return out;
}

}  // namespace coroot::agent::containers
