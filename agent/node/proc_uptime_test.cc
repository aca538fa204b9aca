#include "agent/node/proc_uptime.h"

#include <gtest/gtest.h>
#include <sys/sysinfo.h>

#include "agent/node/test_fixture.h"

namespace coroot::agent::node {
namespace {

TEST(ProcUptimeTest, ParsesCapturedFile) {
  auto u = ParseUptime(Fixture("proc_uptime.txt"));  // "4987.88 9885.73"
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_DOUBLE_EQ(*u, 4987.88);
  auto v = ParseUptime(Fixture("proc_uptime_no_newline.txt"));
  ASSERT_TRUE(v.ok());
  EXPECT_DOUBLE_EQ(*v, 12.5);
}

TEST(ProcUptimeTest, RejectsMalformedInput) {
  EXPECT_FALSE(ParseUptime(Fixture("proc_uptime_malformed.txt")).ok());  // 1e999
  EXPECT_FALSE(ParseUptime("").ok());
  EXPECT_FALSE(ParseUptime("\n12.5 1\n").ok());  // the value must be on the first line
  EXPECT_FALSE(ParseUptime("abc 1").ok());
  EXPECT_FALSE(ParseUptime("12.5x 1").ok());
  EXPECT_FALSE(ParseUptime("-1 1").ok());
  EXPECT_FALSE(ParseUptime("nan 1").ok());
  EXPECT_FALSE(ParseUptime("inf 1").ok());
  EXPECT_FALSE(ParseUptime(std::string(400, '9') + ".5").ok());  // out of double range
}

TEST(ProcUptimeTest, LiveMatchesSysinfo) {
  auto u = ReadUptime();
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  struct sysinfo si {};
  ASSERT_EQ(sysinfo(&si), 0);
  EXPECT_NEAR(*u, static_cast<double>(si.uptime), 2.0);
}

}  // namespace
}  // namespace coroot::agent::node
