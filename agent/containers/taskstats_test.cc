// Netlink taskstats replies parsed from bytes laid out as the kernel sends them, and the
// per-container counter that survives process exits and pid reuse.
#include "agent/containers/taskstats.h"

#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>

#include "agent/containers/delay_counter.h"

namespace coroot::agent::containers {
namespace {

std::string Attr(uint16_t type, const std::string& value) {
  std::string a(4, '\0');
  uint16_t len = static_cast<uint16_t>(4 + value.size());
  std::memcpy(a.data(), &len, 2);
  std::memcpy(a.data() + 2, &type, 2);
  a += value;
  a.resize((a.size() + 3) & ~size_t{3}, '\0');
  return a;
}

std::string Message(uint16_t type, const std::string& payload, bool genl = true) {
  std::string body = (genl ? std::string(GENL_HDRLEN, '\0') : std::string()) + payload;
  std::string m(sizeof(nlmsghdr), '\0');
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(m.size() + body.size());
  h.nlmsg_type = type;
  std::memcpy(m.data(), &h, sizeof h);
  return m + body;
}

std::string Stats(uint64_t cpu_ns, uint64_t blkio_ns) {
  taskstats t{};
  t.version = TASKSTATS_VERSION;
  t.cpu_delay_total = cpu_ns;
  t.blkio_delay_total = blkio_ns;
  return std::string(reinterpret_cast<const char*>(&t), sizeof t);
}

std::string U32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

TEST(TaskstatsTest, ParsesTheThreadGroupReply) {
  std::string nested = Attr(TASKSTATS_TYPE_TGID, U32(42)) + Attr(TASKSTATS_TYPE_STATS, Stats(1500, 2500));
  StatusOr<TaskDelays> d = ParseTaskstatsReply(Message(25, Attr(TASKSTATS_TYPE_AGGR_TGID, nested)));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->cpu_delay_ns, 1500u);
  EXPECT_EQ(d->blkio_delay_ns, 2500u);
}

TEST(TaskstatsTest, RefusesTruncatedAndMalformedReplies) {
  std::string full = Message(25, Attr(TASKSTATS_TYPE_AGGR_TGID, Attr(TASKSTATS_TYPE_STATS, Stats(1, 2))));
  for (size_t n : {size_t{0}, size_t{8}, sizeof(nlmsghdr), sizeof(nlmsghdr) + 2, full.size() - 1})
    EXPECT_FALSE(ParseTaskstatsReply(full.substr(0, n)).ok()) << n;
  // Stats too short to hold the delay fields.
  std::string short_stats = Stats(1, 2).substr(0, offsetof(taskstats, blkio_delay_total));
  EXPECT_FALSE(ParseTaskstatsReply(Message(25, Attr(TASKSTATS_TYPE_AGGR_TGID, Attr(TASKSTATS_TYPE_STATS, short_stats)))).ok());
  // An attribute whose length runs past the message.
  std::string bad = Attr(TASKSTATS_TYPE_AGGR_TGID, "");
  uint16_t len = 200;
  std::memcpy(bad.data(), &len, 2);
  EXPECT_FALSE(ParseTaskstatsReply(Message(25, bad)).ok());
  // No stats at all.
  EXPECT_FALSE(ParseTaskstatsReply(Message(25, Attr(TASKSTATS_TYPE_AGGR_TGID, Attr(TASKSTATS_TYPE_TGID, U32(1))))).ok());
}

TEST(TaskstatsTest, NetlinkErrorsBecomeStatuses) {
  int32_t esrch = -ESRCH;
  StatusOr<TaskDelays> gone = ParseTaskstatsReply(Message(NLMSG_ERROR, U32(static_cast<uint32_t>(esrch)), false));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  int32_t eperm = -EPERM;
  EXPECT_FALSE(ParseTaskstatsReply(Message(NLMSG_ERROR, U32(static_cast<uint32_t>(eperm)), false)).ok());
}

TEST(TaskstatsTest, ParsesTheFamilyId) {
  std::string name(TASKSTATS_GENL_NAME, sizeof(TASKSTATS_GENL_NAME));
  uint16_t id = 31;
  std::string reply = Message(GENL_ID_CTRL, Attr(CTRL_ATTR_FAMILY_NAME, name) +
                                                Attr(CTRL_ATTR_FAMILY_ID, std::string(reinterpret_cast<char*>(&id), 2)));
  StatusOr<uint16_t> got = ParseFamilyIdReply(reply);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 31);
  EXPECT_FALSE(ParseFamilyIdReply(Message(GENL_ID_CTRL, Attr(CTRL_ATTR_FAMILY_NAME, name))).ok());
}

TEST(DelayCounterTest, AddsGrowthAndSurvivesExitsAndPidReuse) {
  std::map<int, TaskDelays> kernel = {{10, {100, 7}}, {11, {50, 0}}};
  auto tasks = [&] {
    std::vector<TaskSample> out;
    for (const auto& [k, d] : kernel) out.push_back({static_cast<uint64_t>(k), d});
    return out;
  };
  DelayCounter c;
  c.Rebase();  // before any update: changes nothing
  c.Update(tasks());  // first sight: everything they have
  EXPECT_EQ(c.total().cpu_delay_ns, 150u);
  EXPECT_EQ(c.total().blkio_delay_ns, 7u);
  kernel[10] = {130, 9};
  c.Update(tasks());
  EXPECT_EQ(c.total().cpu_delay_ns, 180u);
  EXPECT_EQ(c.total().blkio_delay_ns, 9u);
  kernel.erase(11);  // exited: the total keeps what it had
  c.Update(tasks());
  EXPECT_EQ(c.total().cpu_delay_ns, 180u);
  kernel[11] = {5, 1};  // pid 11 reused by a new process (its figures are below the old ones)
  c.Update(tasks());
  EXPECT_EQ(c.total().cpu_delay_ns, 185u);
  EXPECT_EQ(c.total().blkio_delay_ns, 10u);
  // A new source: its keys mean other tasks, so the next update is a baseline only.
  c.Rebase();
  c.Update({{1000, {900, 90}}});
  EXPECT_EQ(c.total().cpu_delay_ns, 185u);
  c.Update({{1001, {3, 0}}, {1000, {910, 90}}});  // in any order
  EXPECT_EQ(c.total().cpu_delay_ns, 198u);
}

// Thousands of processes in any order, 1-3 threads each: every process gets exactly its threads.
TEST(DelaySourceTest, SnapshotFindsEveryProcessOfALargeHost) {
  std::vector<ThreadDelays> all;
  std::map<uint32_t, uint64_t> want;  // tgid -> sum of its threads' cpu delays
  uint32_t tid = 1'000'000;
  for (uint32_t p = 0; p < 5000; p++) {
    uint32_t tgid = 7 + p * 7919 % 65521;  // distinct (65521 is prime), not in order
    for (uint32_t t = 0; t <= p % 3; t++) {
      uint64_t d = tgid * 10 + t;
      all.push_back({t == 0 ? tgid : tid++, tgid, {d, 0}});
      want[tgid] += d;
    }
  }
  SnapshotDelaySource s([&] { return StatusOr<std::vector<ThreadDelays>>(all); });
  s.Refresh();
  std::vector<TaskSample> out;
  for (const auto& [tgid, sum] : want) {
    out.clear();
    s.TasksOf(static_cast<int>(tgid), &out);
    uint64_t got = 0;
    for (const TaskSample& t : out) got += t.delays.cpu_delay_ns;
    ASSERT_EQ(got, sum) << "tgid " << tgid;
  }
  out.clear();
  s.TasksOf(6, &out);  // no such process
  EXPECT_TRUE(out.empty());
}

TEST(DelaySourceTest, SnapshotGroupsThreadsByProcess) {
  SnapshotDelaySource s([] {
    return StatusOr<std::vector<ThreadDelays>>(
        std::vector<ThreadDelays>{{100, 100, {1, 2}}, {101, 100, {3, 4}}, {200, 200, {5, 6}}});
  });
  s.Refresh();
  std::vector<TaskSample> out;
  s.TasksOf(100, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key + out[1].key, 201u);
  EXPECT_EQ(out[0].delays.cpu_delay_ns + out[1].delays.cpu_delay_ns, 4u);
  out.clear();
  s.TasksOf(300, &out);
  EXPECT_TRUE(out.empty());
}

TEST(TaskstatsTest, LiveKernelAnswersForThisProcess) {
  StatusOr<std::unique_ptr<TaskstatsClient>> c = TaskstatsClient::Open();
  if (!c.ok()) GTEST_SKIP() << c.status().ToString();
  StatusOr<TaskDelays> self = (*c)->Tgid(getpid());
  if (!self.ok() && self.status().code() == StatusCode::kPermissionDenied) GTEST_SKIP() << "needs CAP_NET_ADMIN";
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  StatusOr<TaskDelays> none = (*c)->Tgid(0x3fffffff);  // above pid_max
  ASSERT_FALSE(none.ok());
}

}  // namespace
}  // namespace coroot::agent::containers
