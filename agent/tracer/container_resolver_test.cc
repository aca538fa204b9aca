#include "agent/tracer/container_resolver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lib/base/file.h"

namespace coroot::agent::tracer {
namespace {

std::string Fixture(const std::string& name) { return *ReadFile(std::string(TRACER_TESTDATA_DIR) + "/" + name); }

TEST(CgroupPath, PrefersTheV2Line) {
  EXPECT_EQ(CgroupPathFromProcFile(Fixture("cgroup_v2.txt")), "/system.slice/docker-abc.scope");
  EXPECT_EQ(CgroupPathFromProcFile(Fixture("cgroup_v1.txt")), "/kubepods/burstable/pod1/c1");
  EXPECT_EQ(CgroupPathFromProcFile("0::/\n"), "/");
  EXPECT_EQ(CgroupPathFromProcFile("0::/a:b\n"), "/a:b");
  EXPECT_EQ(CgroupPathFromProcFile(""), "");
  EXPECT_EQ(CgroupPathFromProcFile("garbage\n1:x\n"), "");
}

TEST(ProcCgroupResolver, ReadsProcAndRemembersTheCgroupId) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("resolver_test_" + std::to_string(getpid()));
  fs::create_directories(root / "42");
  std::ofstream(root / "42" / "cgroup") << "0::/test/app1\n";
  ProcCgroupResolver r(root.string(), "/nonexistent");
  EXPECT_EQ(r.ContainerKey(42, 777), "/test/app1");
  fs::remove_all(root / "42");
  // The process is gone: the cgroup id seen with it still resolves.
  EXPECT_EQ(r.ContainerKey(42, 777), "/test/app1");
  EXPECT_EQ(r.ContainerKey(42, 778), "");
  EXPECT_EQ(r.ContainerKey(0, 0), "");
  fs::remove_all(root);
}

}  // namespace
}  // namespace coroot::agent::tracer
