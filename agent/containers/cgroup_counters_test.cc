// The snapshot of cgroup counters keeps the wanted cgroups only, and finds a container's keys.
#include "agent/containers/cgroup_counters.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

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

}  // namespace
}  // namespace coroot::agent::containers
