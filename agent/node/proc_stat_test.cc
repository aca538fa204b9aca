#include "agent/node/proc_stat.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/node/test_fixture.h"

namespace coroot::agent::node {
namespace {

TEST(ProcStatTest, ParsesCapturedFile) {
  // cpu  3506 0 3390 988573 383 0 76 16 0 0, two cpuN lines (captured from a 2-vCPU VM).
  auto s = ParseProcStat(Fixture("proc_stat.txt"), 100);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->user, 35.06);
  EXPECT_DOUBLE_EQ(s->nice, 0);
  EXPECT_DOUBLE_EQ(s->system, 33.90);
  EXPECT_DOUBLE_EQ(s->idle, 9885.73);
  EXPECT_DOUBLE_EQ(s->iowait, 3.83);
  EXPECT_DOUBLE_EQ(s->irq, 0);
  EXPECT_DOUBLE_EQ(s->softirq, 0.76);
  EXPECT_DOUBLE_EQ(s->steal, 0.16);
  EXPECT_EQ(s->logical_cores, 2);
}

TEST(ProcStatTest, UsesTicksPerSecond) {
  auto s = ParseProcStat(Fixture("proc_stat.txt"), 1000);
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->user, 3.506);
  EXPECT_FALSE(ParseProcStat(Fixture("proc_stat.txt"), 0).ok());
}

TEST(ProcStatTest, CountsOnlyNumberedCpuLines) {
  // cpu0..cpu3 and the bare "cpu5" line count (the name is what matters); "cpux" does not.
  auto s = ParseProcStat(Fixture("proc_stat_large_host.txt"), 100);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->logical_cores, 5);
  EXPECT_DOUBLE_EQ(s->user, 18446744073709551615.0 / 100);  // the largest counter still parses
  EXPECT_DOUBLE_EQ(s->idle, 67.89);
}

TEST(ProcStatTest, RejectsMalformedInput) {
  EXPECT_FALSE(ParseProcStat(Fixture("proc_stat_truncated.txt"), 100).ok());
  EXPECT_FALSE(ParseProcStat(Fixture("proc_stat_malformed.txt"), 100).ok());
  EXPECT_FALSE(ParseProcStat(Fixture("proc_stat_huge.txt"), 100).ok());  // 2^64 overflows
  EXPECT_FALSE(ParseProcStat("", 100).ok());
  EXPECT_FALSE(ParseProcStat("cpu  1 2 3 4 5 6 7 8\n", 100).ok());  // no per-CPU lines
  EXPECT_FALSE(ParseProcStat("cpu0 1 2 3 4 5 6 7 8\n", 100).ok());  // no aggregate line
}

TEST(ProcStatTest, LiveMatchesSysconf) {
  auto s = ReadProcStat();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // /proc/stat lists online CPUs.
  EXPECT_EQ(s->logical_cores, sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_LE(s->logical_cores, sysconf(_SC_NPROCESSORS_CONF));
  EXPECT_GT(s->idle + s->user + s->system, 0);
}

}  // namespace
}  // namespace coroot::agent::node
