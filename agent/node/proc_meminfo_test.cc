#include "agent/node/proc_meminfo.h"

#include <gtest/gtest.h>
#include <sys/sysinfo.h>

#include "agent/node/test_fixture.h"

namespace coroot::agent::node {
namespace {

TEST(ProcMeminfoTest, ParsesCapturedFile) {
  auto m = ParseMeminfo(Fixture("proc_meminfo.txt"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->total_bytes, 24684096ull * 1024);
  EXPECT_EQ(m->free_bytes, 24287768ull * 1024);
  EXPECT_EQ(m->available_bytes, 24300944ull * 1024);
  EXPECT_EQ(m->cached_bytes, 169712ull * 1024);  // "Cached", not "SwapCached"
}

TEST(ProcMeminfoTest, ValueWithoutUnitIsBytes) {
  auto m = ParseMeminfo("MemTotal: 10\nMemFree: 1 kB\nMemAvailable: 2 kB\nCached: 3 kB\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->total_bytes, 10u);
  EXPECT_EQ(m->cached_bytes, 3072u);
}

TEST(ProcMeminfoTest, RejectsMalformedInput) {
  EXPECT_FALSE(ParseMeminfo(Fixture("proc_meminfo_malformed.txt")).ok());
  EXPECT_FALSE(ParseMeminfo(Fixture("proc_meminfo_missing.txt")).ok());
  EXPECT_FALSE(ParseMeminfo(Fixture("proc_meminfo_huge.txt")).ok());  // 2^54 kB overflows bytes
  EXPECT_FALSE(ParseMeminfo(Fixture("proc_meminfo_unit.txt")).ok());
  EXPECT_FALSE(ParseMeminfo("").ok());
  EXPECT_FALSE(ParseMeminfo("MemTotal:\nMemFree: 1 kB\nMemAvailable: 2 kB\nCached: 3 kB\n").ok());
}

TEST(ProcMeminfoTest, LiveMatchesSysinfo) {
  auto m = ReadMeminfo();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  struct sysinfo si {};
  ASSERT_EQ(sysinfo(&si), 0);
  EXPECT_EQ(m->total_bytes, static_cast<uint64_t>(si.totalram) * si.mem_unit);
  EXPECT_LE(m->free_bytes, m->total_bytes);
  EXPECT_LE(m->available_bytes, m->total_bytes);
}

}  // namespace
}  // namespace coroot::agent::node
