#include "agent/containers/proc_pid.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "lib/base/file.h"

namespace coroot::agent::containers {
namespace {

std::string Fixture(const std::string& name) {
  auto t = ReadFile(std::string(CONTAINERS_TESTDATA_DIR) + "/" + name);
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : "";
}

TEST(ProcPidTest, StartTicks) {
  EXPECT_TRUE(ParseStartTicks(Fixture("proc_pid_stat.txt")).ok());  // captured from `cp /proc/self/stat`
  auto t = ParseStartTicks(Fixture("proc_pid_stat_parens.txt"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 987654u);
  EXPECT_FALSE(ParseStartTicks(Fixture("proc_pid_stat_truncated.txt")).ok());
  auto st = ParsePidStat(Fixture("proc_pid_stat_parens.txt"));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->comm, "my (weird) cmd");
  EXPECT_EQ(st->start_ticks, 987654u);
  EXPECT_EQ(ParsePidStat(Fixture("proc_pid_stat.txt"))->comm, "cp");
  EXPECT_FALSE(ParseStartTicks("").ok());
  EXPECT_FALSE(ParseStartTicks("1 (x").ok());
}

TEST(ProcPidTest, BootTime) {
  EXPECT_EQ(*ParseBootTime("cpu 1 2 3\nbtime 1764460800\nprocesses 5\n"), 1764460800u);
  EXPECT_FALSE(ParseBootTime("cpu 1\n").ok());
  EXPECT_FALSE(ParseBootTime("btime x\n").ok());
}

TEST(ProcPidTest, InitialPidNamespace) {
  // These tests run in the host's pid namespace (they make cgroups and load BPF as root).
  struct stat st {};
  ASSERT_EQ(stat("/proc/self/ns/pid", &st), 0);
  EXPECT_EQ(ProcIsOfInitialPidNamespace("/proc"), st.st_ino == 0xEFFFFFFCu);
  EXPECT_FALSE(ProcIsOfInitialPidNamespace("/nonexistent"));
}

TEST(ProcPidTest, LiveSelf) {
  bool truncated = true;
  std::vector<int> pids = ListPids("/proc", 1 << 20, &truncated);
  EXPECT_FALSE(truncated);
  EXPECT_TRUE(std::binary_search(pids.begin(), pids.end(), getpid()));
  EXPECT_EQ(ListPids("/proc", 1, &truncated).size(), 1u);
  EXPECT_TRUE(truncated);
  auto start = ReadStartTicks("/proc", getpid());
  ASSERT_TRUE(start.ok());
  EXPECT_GT(*start, 0u);
  EXPECT_NE(ReadCmdline("/proc", getpid()).find("agent_containers_test"), std::string::npos);
  EXPECT_NE(ReadExe("/proc", getpid()).find("agent_containers_test"), std::string::npos);
  EXPECT_EQ(ReadCmdline("/proc", 0), "");
}

}  // namespace
}  // namespace coroot::agent::containers
