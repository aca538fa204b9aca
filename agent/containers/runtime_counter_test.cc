#include "agent/containers/runtime_counter.h"

#include <gtest/gtest.h>

namespace coroot::agent::containers {
namespace {

RuntimeCounter::Sample Py(int pid, uint64_t start, uint64_t wait_ns) {
  return {{pid, start, Runtime::kPython}, {wait_ns, 0}};
}

TEST(RuntimeCounterTest, AddsGrowthAndNeverGoesBackWhenAProcessExits) {
  RuntimeCounter c;
  EXPECT_FALSE(c.python());
  c.Update({Py(1, 10, 100), Py(2, 20, 50)});  // first sight: all they have
  EXPECT_EQ(c.total().python_lock_wait_ns, 150u);
  EXPECT_TRUE(c.python());
  EXPECT_FALSE(c.nodejs());
  c.Update({Py(1, 10, 130)});  // 2 exited: its 50 stay
  EXPECT_EQ(c.total().python_lock_wait_ns, 180u);
  c.Update({});
  EXPECT_EQ(c.total().python_lock_wait_ns, 180u);
}

TEST(RuntimeCounterTest, AReusedPidCountsFromZero) {
  RuntimeCounter c;
  c.Update({Py(1, 10, 100)});
  c.Update({Py(1, 99, 30)});  // another process with pid 1
  EXPECT_EQ(c.total().python_lock_wait_ns, 130u);
  c.Update({Py(1, 99, 20)});  // went down (the kernel's entry was reset): counts from zero
  EXPECT_EQ(c.total().python_lock_wait_ns, 150u);
}

TEST(RuntimeCounterTest, NodejsSeparately) {
  RuntimeCounter c;
  c.Update({{{7, 1, Runtime::kNodejs}, {0, 900}}});
  EXPECT_TRUE(c.nodejs());
  EXPECT_FALSE(c.python());
  EXPECT_EQ(c.total().nodejs_blocked_ns, 900u);
  EXPECT_EQ(c.total().python_lock_wait_ns, 0u);
}

}  // namespace
}  // namespace coroot::agent::containers
