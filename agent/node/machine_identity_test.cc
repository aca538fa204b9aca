#include "agent/node/machine_identity.h"

#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>

#include "agent/node/test_fixture.h"
#include "lib/base/file.h"

namespace coroot::agent::node {
namespace {

// A throwaway host root: files written below it stand in for /etc, /var, /sys.
class FakeRoot {
 public:
  FakeRoot() {
    root_ = std::filesystem::temp_directory_path() / ("node_identity_test." + std::to_string(getpid()));
    std::filesystem::remove_all(root_);
  }
  ~FakeRoot() { std::filesystem::remove_all(root_); }
  void Write(const std::string& path, const std::string& text) {
    std::filesystem::path p = root_ / path.substr(1);
    ASSERT_TRUE(MakeDirs(p.parent_path().string()).ok());
    ASSERT_TRUE(WriteFileAtomic(p.string(), text).ok());
  }
  std::string path() const { return root_.string(); }

 private:
  std::filesystem::path root_;
};

TEST(MachineIdentityTest, ParseIdFile) {
  EXPECT_EQ(*ParseIdFile("3d1219c7c4c5404aaa1f6d2a48adfda4\n"), "3d1219c7c4c5404aaa1f6d2a48adfda4");
  EXPECT_EQ(*ParseIdFile("  ec2a0b1c-d1dc-13b2-94ed-0123456789ab  \nsecond line"),
            "ec2a0b1c-d1dc-13b2-94ed-0123456789ab");
  EXPECT_FALSE(ParseIdFile("").ok());
  EXPECT_FALSE(ParseIdFile(" \n").ok());
  EXPECT_FALSE(ParseIdFile(std::string(129, 'a')).ok());
  EXPECT_FALSE(ParseIdFile(std::string("ab\0cd", 5)).ok());
  EXPECT_FALSE(ParseIdFile("ab\x01").ok());
}

TEST(MachineIdentityTest, ReadsFilesUnderHostRoot) {
  FakeRoot root;
  root.Write("/etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
  root.Write("/var/lib/dbus/machine-id", "ffffffffffffffffffffffffffffffff\n");
  root.Write("/sys/class/dmi/id/product_uuid", "EC2A0B1C-D1DC-13B2-94ED-0123456789AB\n");
  auto id = ReadMachineIdentity(root.path());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->machine_id, "3d1219c7c4c5404aaa1f6d2a48adfda4");
  EXPECT_EQ(id->system_uuid, "EC2A0B1C-D1DC-13B2-94ED-0123456789AB");
  struct utsname u {};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(id->hostname, u.nodename);
  EXPECT_EQ(id->kernel_release, u.release);
}

TEST(MachineIdentityTest, FallsBackToDbusThenProductUuid) {
  FakeRoot root;
  root.Write("/etc/machine-id", "\n");  // present but empty (e.g. an image before first boot)
  root.Write("/var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n");
  auto id = ReadMachineIdentity(root.path());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->machine_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(id->system_uuid, "");  // unreadable DMI is not an error

  FakeRoot only_dmi;
  only_dmi.Write("/sys/class/dmi/id/product_uuid", "ec2a0b1c-d1dc-13b2-94ed-0123456789ab\n");
  id = ReadMachineIdentity(only_dmi.path());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->machine_id, "ec2a0b1cd1dc13b294ed0123456789ab");  // dashes removed, as Coroot does
  EXPECT_EQ(id->system_uuid, "ec2a0b1c-d1dc-13b2-94ed-0123456789ab");
}

TEST(MachineIdentityTest, NothingReadableLeavesIdsEmpty) {
  auto id = ReadMachineIdentity("/nonexistent-root-for-test");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->machine_id, "");
  EXPECT_EQ(id->system_uuid, "");
  EXPECT_FALSE(id->hostname.empty());
}

TEST(MachineIdentityTest, UnenterableNamespaceIsAnError) {
  EXPECT_FALSE(ReadUname("/nonexistent/ns/uts").ok());
  // Our own namespace by path: no setns needed, same answer as plain uname.
  auto own = ReadUname("/proc/self/ns/uts");
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->hostname, ReadUname()->hostname);
}

TEST(MachineIdentityTest, ReadsHostnameOfAnotherUtsNamespace) {
  NamespacedChild child;
  if (!child.ok()) GTEST_SKIP() << "unshare() is not permitted here";
  auto theirs = ReadUname(child.ns("uts"));
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_EQ(theirs->hostname, NamespacedChild::kHostname);
  EXPECT_NE(ReadUname()->hostname, NamespacedChild::kHostname);  // our thread never switched
}

}  // namespace
}  // namespace coroot::agent::node
