// The snapshot of cgroup counters keeps the wanted cgroups only, and finds a container's keys.
#include "agent/containers/cgroup_counters.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace coroot::agent::containers {
namespace {

// A host with `n` cgroups in one hierarchy (dev 7, inodes 1..n), throttled_ns = inode.
CgroupCountersSnapshot::Reader HostOf(uint64_t n, bool* fail = nullptr) {
  return [n, fail](const std::function<void(CgroupKey, const CgroupCounters&)>& fn) -> Status {
    if (fail && *fail) return Unavailable("test: no iterator");
    for (uint64_t ino = 1; ino <= n; ino++) {
      CgroupCounters c;
      c.has_cpu_bandwidth = true;
      c.throttled_ns = ino;
      fn({7, ino}, c);
    }
    return Status::Ok();
  };
}

TEST(CgroupCountersSnapshot, KeepsTheWantedCgroupsOnly) {
  bool fail = false;
  CgroupCountersSnapshot s(HostOf(100000, &fail));
  s.Refresh({{7, 42}, {7, 99999}, {8, 42}});  // the last one is not on this host
  EXPECT_EQ(s.read(), 100000u);
  EXPECT_EQ(s.size(), 2u);  // not the host's 100,000
  ASSERT_NE(s.Find({7, 42}), nullptr);
  EXPECT_EQ(s.Find({7, 42})->throttled_ns, 42u);
  EXPECT_EQ(s.Find({7, 99999})->throttled_ns, 99999u);
  EXPECT_EQ(s.Find({7, 43}), nullptr);
  EXPECT_EQ(s.Find({8, 42}), nullptr);

  s.Refresh({{7, 43}});  // the containers changed: the old records are gone
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.Find({7, 42}), nullptr);
  EXPECT_NE(s.Find({7, 43}), nullptr);

  fail = true;  // a failed read leaves nothing to find: the files are read instead
  s.Refresh({{7, 43}});
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.Find({7, 43}), nullptr);
}

TEST(CgroupCountersSnapshot, WantKeysStatsEachDirectoryOnce) {
  const std::string base = testing::TempDir() + "/cgroup_counters_test";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base + "/cpu/a");
  std::filesystem::create_directories(base + "/v2/a");
  cgroup::CgroupDirs dirs;
  dirs.cpu = base + "/cpu/a";
  dirs.cpuacct = base + "/cpu/a";
  dirs.v2 = base + "/v2/a";
  struct stat cpu_st{}, v2_st{};
  ASSERT_EQ(stat(dirs.cpu.c_str(), &cpu_st), 0);
  ASSERT_EQ(stat(dirs.v2.c_str(), &v2_st), 0);

  CgroupKeys keys;
  CgroupKeySet wanted;
  WantKeys(dirs, &keys, &wanted);
  EXPECT_EQ(keys.cpu, (CgroupKey{cpu_st.st_dev, cpu_st.st_ino}));
  EXPECT_EQ(keys.v2, (CgroupKey{v2_st.st_dev, v2_st.st_ino}));
  EXPECT_EQ(wanted.size(), 2u);
  EXPECT_TRUE(wanted.count(keys.cpu) && wanted.count(keys.v2));

  // Known keys are not worked out again: a stale key stays until a lookup misses it.
  keys.v2 = {1, 2};
  wanted.clear();
  WantKeys(dirs, &keys, &wanted);
  EXPECT_TRUE(wanted.count(CgroupKey{1, 2}));

  // No cpuacct directory: ReadCpu reads cpu.stat, so the cpu key is not wanted.
  CgroupKeys none;
  wanted.clear();
  dirs.cpuacct.clear();
  WantKeys(dirs, &none, &wanted);
  EXPECT_EQ(none.cpu.ino, 0u);
  EXPECT_EQ(wanted.size(), 1u);
  std::filesystem::remove_all(base);
}

void WriteTo(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

std::string V1MemoryStat(uint64_t rss, uint64_t mapped, uint64_t cache) {
  return "cache 1\nrss 2\ntotal_cache " + std::to_string(cache) + "\ntotal_rss " + std::to_string(rss) +
         "\ntotal_mapped_file " + std::to_string(mapped) + "\n";
}

// memory.stat is read when the snapshot's fingerprint of the memory cgroup moved, at least every
// kMaxMemoryStatReuse-th gather, and whenever there is no fingerprint; the limit every time.
TEST(CgroupCountersSnapshot, MemoryStatIsReadWhenItsCountersMoved) {
  const std::string base = testing::TempDir() + "/cgroup_counters_memory_test";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base + "/memory/a");
  cgroup::CgroupDirs dirs;
  dirs.memory = base + "/memory/a";
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(100, 20, 300));
  WriteTo(dirs.memory + "/memory.limit_in_bytes", "4096\n");
  const CgroupKey key = KeyOf(dirs.memory);
  ASSERT_NE(key.ino, 0u);

  uint64_t fingerprint = 1;
  bool has_memory = true;
  CgroupCountersSnapshot s([&](const std::function<void(CgroupKey, const CgroupCounters&)>& fn) -> Status {
    CgroupCounters c;
    c.has_memory = has_memory;
    c.memory_fingerprint = fingerprint;
    fn(key, c);
    return Status::Ok();
  });
  CgroupKeys keys;
  MemoryStatCache cache;
  auto gather = [&](const CgroupCountersSnapshot* snapshot) {
    CgroupKeySet wanted;
    WantKeys(dirs, &keys, &wanted);
    EXPECT_TRUE(wanted.count(key));
    s.Refresh(wanted);
    StatusOr<cgroup::MemoryStat> m = ReadMemory(dirs, &keys, snapshot, false, &cache);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m.ok() ? m->limit_bytes : 0, 4096u);
    return m.ok() ? std::pair{m->rss_bytes, m->cache_bytes} : std::pair<uint64_t, uint64_t>{0, 0};
  };
  using P = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(gather(&s), (P{120, 300}));
  // The file changes, the fingerprint does not: the figures read with it stand (the file is not read).
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(500, 20, 700));
  EXPECT_EQ(gather(&s), (P{120, 300}));
  fingerprint = 2;  // the counters moved
  EXPECT_EQ(gather(&s), (P{520, 700}));

  // However still, memory.stat is read again after kMaxMemoryStatReuse reuses.
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(600, 20, 800));
  for (int i = 0; i < kMaxMemoryStatReuse; i++) EXPECT_EQ(gather(&s), (P{520, 700})) << i;
  EXPECT_EQ(gather(&s), (P{620, 800}));

  // No fingerprint for the cgroup, or no snapshot: read every time.
  has_memory = false;
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(700, 20, 900));
  EXPECT_EQ(gather(&s), (P{720, 900}));
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(800, 20, 900));
  EXPECT_EQ(gather(&s), (P{820, 900}));
  has_memory = true;
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(900, 20, 900));
  EXPECT_EQ(gather(&s), (P{920, 900}));  // read: the cache held no fingerprint
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(1000, 20, 900));
  EXPECT_EQ(gather(nullptr), (P{1020, 900}));
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(1100, 20, 900));
  EXPECT_EQ(gather(&s), (P{1120, 900}));  // read: the read without a snapshot left no fingerprint
  WriteTo(dirs.memory + "/memory.stat", V1MemoryStat(1200, 20, 900));
  EXPECT_EQ(gather(&s), (P{1120, 900}));  // and now the fingerprint stands
}

}  // namespace
}  // namespace coroot::agent::containers
