#include "agent/node/proc_diskstats.h"

#include <gtest/gtest.h>

#include <set>

#include "agent/node/test_fixture.h"

namespace coroot::agent::node {
namespace {

BlockDevicePredicate OneOf(std::set<std::string> names) {
  return [names = std::move(names)](std::string_view d) { return names.count(std::string(d)) > 0; };
}

TEST(ProcDiskstatsTest, ParsesCapturedFile) {
  // This VM's /sys/block holds loop0-7, vda and zram0; only vda did any I/O.
  auto sys_block = OneOf({"loop0", "loop1", "loop2", "loop3", "loop4", "loop5", "loop6", "loop7", "vda", "zram0"});
  auto d = ParseDiskstats(Fixture("proc_diskstats.txt"), sys_block);
  EXPECT_EQ(d.skipped_lines, 0);
  ASSERT_EQ(d.disks.size(), 1u);
  const DiskStat& vda = d.disks[0];
  EXPECT_EQ(vda.device, "vda");
  EXPECT_EQ(vda.reads, 51371u);
  EXPECT_EQ(vda.read_bytes, 2248602ull * 512);
  EXPECT_DOUBLE_EQ(vda.read_time_seconds, 8.734);
  EXPECT_EQ(vda.writes, 42562u);
  EXPECT_EQ(vda.written_bytes, 4621616ull * 512);
  EXPECT_DOUBLE_EQ(vda.write_time_seconds, 9.418);
  EXPECT_DOUBLE_EQ(vda.io_time_seconds, 7.044);
}

TEST(ProcDiskstatsTest, KeepsWholeRealDevicesOnly) {
  // /sys/block of a typical server: partitions are absent from it, loop/ram/zram and idle
  // devices are dropped by rule. dm-0 has the 14-field layout of kernels before 4.18.
  auto d = ParseDiskstats(Fixture("proc_diskstats_server.txt"),
                          OneOf({"sda", "nvme0n1", "dm-0", "md0", "loop0", "loop1", "sr0", "nbd0", "ram0", "zram0"}));
  EXPECT_EQ(d.skipped_lines, 0);
  std::vector<std::string> names;
  for (const auto& disk : d.disks) names.push_back(disk.device);
  EXPECT_EQ(names, (std::vector<std::string>{"sda", "nvme0n1", "dm-0", "md0"}));
  EXPECT_EQ(d.disks[1].reads, 2000000u);
  EXPECT_EQ(d.disks[1].written_bytes, 120000000ull * 512);
  EXPECT_DOUBLE_EQ(d.disks[1].io_time_seconds, 1100.0);
  EXPECT_EQ(d.disks[2].writes, 2000u);
  EXPECT_DOUBLE_EQ(d.disks[2].write_time_seconds, 0.34);
}

TEST(ProcDiskstatsTest, SkipsMalformedLines) {
  auto d = ParseDiskstats(Fixture("proc_diskstats_malformed.txt"), [](std::string_view) { return true; });
  // truncated, non-number, 2^64+, sectors*512 overflow, negative, garbage
  EXPECT_EQ(d.skipped_lines, 6);
  ASSERT_EQ(d.disks.size(), 2u);
  EXPECT_EQ(d.disks[0].device, "sda");
  EXPECT_EQ(d.disks[0].read_bytes, 800u * 512);
  EXPECT_EQ(d.disks[1].device, "sdg");
  EXPECT_DOUBLE_EQ(d.disks[1].io_time_seconds, 0.004);
}

TEST(ProcDiskstatsTest, SysBlockLookup) {
  EXPECT_FALSE(IsSysBlockDevice("/sys", ".."));
  EXPECT_FALSE(IsSysBlockDevice("/sys", ""));
  EXPECT_FALSE(IsSysBlockDevice("/sys", "no-such-device-xyz"));
  EXPECT_FALSE(IsSysBlockDevice("/sys", "../block"));  // '/' becomes '!', no escape from /sys/block
}

TEST(ProcDiskstatsTest, Live) {
  auto d = ReadDiskstats();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->skipped_lines, 0);
  for (const auto& disk : d->disks) EXPECT_TRUE(IsSysBlockDevice("/sys", disk.device)) << disk.device;
}

}  // namespace
}  // namespace coroot::agent::node
