#include "agent/containers/mounts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lib/base/file.h"

namespace coroot::agent::containers {
namespace {

std::string Fixture(const std::string& name) {
  auto t = ReadFile(std::string(CONTAINERS_TESTDATA_DIR) + "/" + name);
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : "";
}

TEST(MountsTest, CapturedHostMountinfo) {
  int skipped = 0;
  std::vector<Mount> m = ParseMountinfo(Fixture("mountinfo_host.txt"), &skipped);
  EXPECT_EQ(skipped, 0);
  ASSERT_FALSE(m.empty());
  bool root = false;
  for (const Mount& x : m)
    if (x.mount_point == "/") {
      root = true;
      EXPECT_EQ(x.major_minor, "254:0");
      EXPECT_EQ(x.fstype, "ext4");
    }
  EXPECT_TRUE(root);
}

TEST(MountsTest, EscapesOptionalFieldsAndMalformed) {
  int skipped = 0;
  std::vector<Mount> m = ParseMountinfo(Fixture("mountinfo_escaped.txt"), &skipped);
  EXPECT_EQ(skipped, 1);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].mount_point, "/mnt/with space");
  EXPECT_EQ(m[0].root, "/");
  EXPECT_EQ(m[1].mount_point, "/data");
  EXPECT_EQ(m[1].fstype, "xfs");  // after the optional "shared:1" field
  EXPECT_TRUE(ParseMountinfo("").empty());
}

TEST(MountsTest, LiveRootDevice) {
  struct stat st {};
  ASSERT_EQ(stat("/", &st), 0);
  std::string mm = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  auto dev = ResolveBlockDevice("/sys", mm);
  if (!dev.ok()) GTEST_SKIP() << "/ is not on a block device here (" << mm << ")";
  EXPECT_FALSE(dev->name.empty());
  auto u = StatFs("/");
  ASSERT_TRUE(u.ok());
  EXPECT_GT(u->size_bytes, u->used_bytes);
  EXPECT_FALSE(ResolveBlockDevice("/sys", "0:999999").ok());
  EXPECT_FALSE(StatFs("/nonexistent/path").ok());
}

}  // namespace
}  // namespace coroot::agent::containers
