#include "lib/cgroup/proc_cgroup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/strings.h"
#include "lib/cgroup/test_fixture.h"

namespace coroot::cgroup {
namespace {

TEST(CleanPathTest, CleansLikeGo) {
  EXPECT_EQ(CleanPath(""), "/");
  EXPECT_EQ(CleanPath("/"), "/");
  EXPECT_EQ(CleanPath("//a/./b/../c/"), "/a/c");
  EXPECT_EQ(CleanPath("/../../x"), "/x");
  EXPECT_EQ(CleanPath("a/b"), "/a/b");
}

TEST(ProcCgroupTest, HybridCapturedOnThisMachine) {
  // Captured from a shell moved into test cgroups: v1 cpu/cpuacct/blkio and a nested memcg, plus v2.
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_hybrid_service.txt"));
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_EQ(cg->Path(""), "/system.slice/coroot-fixture.service");
  EXPECT_EQ(cg->Path("cpu"), "/system.slice/coroot-fixture.service");
  EXPECT_EQ(cg->Path("cpuacct"), "/system.slice/coroot-fixture.service");
  EXPECT_EQ(cg->Path("blkio"), "/system.slice/coroot-fixture.service");
  EXPECT_EQ(cg->Path("memory"), "/process_api/937f38f5c8cfd0046e9523adaead40b5/system.slice/coroot-fixture.service");
  EXPECT_FALSE(cg->Has("pids"));          // "/" is left out
  EXPECT_FALSE(cg->Has("name=systemd"));
  EXPECT_EQ(cg->Id(), "/system.slice/coroot-fixture.service");
  EXPECT_EQ(cg->skipped_lines, 0);
}

TEST(ProcCgroupTest, SandboxShellIsOnlyInAMemcg) {
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_hybrid_sandbox.txt"));
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->paths.size(), 1u);
  EXPECT_EQ(cg->Id(), "/process_api/937f38f5c8cfd0046e9523adaead40b5");
}

TEST(ProcCgroupTest, DockerOnThisHybridHost) {
  // Captured from a container of dockerd 20.10 (cgroupfs driver) started by hand on this machine.
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_hybrid_docker.txt"));
  ASSERT_TRUE(cg.ok());
  const std::string d = "/docker/03b0954431d1bc7620e2cd293f8eb6543db62e6ecc7b544c15148bd45bd6398f";
  for (const char* c : {"", "cpu", "cpuacct", "memory", "blkio", "pids", "name=systemd"}) EXPECT_EQ(cg->Path(c), d) << c;
  EXPECT_EQ(cg->Id(), d);
}

TEST(ProcCgroupTest, V1DockerWithCoMountedControllers) {
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_v1_docker.txt"));
  ASSERT_TRUE(cg.ok());
  const std::string d = "/docker/b43d92bf1e5c6f78bb9b7bc6f40721280299855ba692092716e3a1b6c0b86f3f";
  EXPECT_EQ(cg->Path("cpu"), d);
  EXPECT_EQ(cg->Path("cpuacct"), d);
  EXPECT_EQ(cg->Path("net_prio"), d);
  EXPECT_EQ(cg->Path("name=systemd"), d);
  EXPECT_FALSE(cg->Has("rdma"));
  // The v2 path wins unless a v1 cpu/memory path starts with /kubepods (Coroot's rule).
  EXPECT_EQ(cg->Id(), "/system.slice/containerd.service");
}

TEST(ProcCgroupTest, V1KubepodsBeatsV2) {
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_v1_kubepods.txt"));
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->Id(),
            "/kubepods/burstable/pod6a6d8e4f-9e1b-4a3c-8d1c-2a4b7f0e6c11/"
            "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd");
}

TEST(ProcCgroupTest, PureV2) {
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_v2_k8s_systemd.txt"));
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->paths.size(), 1u);
  EXPECT_TRUE(EndsWith(cg->Id(), ".scope"));
}

TEST(ProcCgroupTest, RootAndInitScopeAreNoContainer) {
  auto root = ParseProcCgroup(Fixture("proc_cgroup_root.txt"));
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->Id(), "");
  auto init = ParseProcCgroup(Fixture("proc_cgroup_init_scope.txt"));
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->Id(), "");
}

TEST(ProcCgroupTest, LxcPayloadIsCutToItsFirstLevel) {
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_lxc_payload.txt"));
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->Id(), "/lxc.payload.web01");
}

TEST(ProcCgroupTest, BasePathIsJoined) {
  // An agent in its own cgroup namespace sees paths relative to its namespace root.
  auto cg = ParseProcCgroup("0::/../docker/x\n", "/kubepods/pod1/abc");
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->Id(), "/kubepods/pod1/docker/x");
}

TEST(ProcCgroupTest, MalformedLinesAreSkippedAndCounted) {
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_malformed.txt"));
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_EQ(cg->skipped_lines, 6);
  EXPECT_EQ(cg->paths.size(), 1u);
  EXPECT_EQ(cg->Id(), "/system.slice/sshd.service");
}

TEST(ProcCgroupTest, PathsMayHoldColonsAndCrlf) {
  auto cg = ParseProcCgroup(Fixture("proc_cgroup_colon_crlf.txt"));
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->Id(), "/system.slice/a:b.service");
}

TEST(ProcCgroupTest, RejectsInputWithoutAValidLine) {
  EXPECT_FALSE(ParseProcCgroup("").ok());
  EXPECT_FALSE(ParseProcCgroup(Fixture("proc_cgroup_all_bad.txt")).ok());
  std::string many;
  for (int i = 0; i < 100; i++) many += std::to_string(i) + ":c" + std::to_string(i) + ":/x\n";
  EXPECT_FALSE(ParseProcCgroup(many).ok());
  EXPECT_FALSE(ParseProcCgroup("0::/" + std::string(5000, 'a') + "\n").ok());
}

TEST(ProcCgroupTest, HostBasePathOfThisProcess) {
  // Our own namespace as the "host": the same namespace, so no base path.
  std::string own = "/proc/" + std::to_string(getpid()) + "/ns/cgroup";
  auto base = HostCgroupBasePath(own);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  struct stat a {}, b {};
  ASSERT_EQ(stat("/proc/self/ns/cgroup", &a), 0);
  ASSERT_EQ(stat(own.c_str(), &b), 0);
  if (a.st_ino == b.st_ino) {
    EXPECT_EQ(*base, "");
  }
  EXPECT_FALSE(HostCgroupBasePath("/nonexistent/ns").ok());
}

TEST(ProcCgroupTest, LiveSelf) {
  auto cg = ReadProcCgroup("/proc", getpid());
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_EQ(cg->skipped_lines, 0);
  EXPECT_FALSE(ReadProcCgroup("/proc", 0).ok());
}

}  // namespace
}  // namespace coroot::cgroup
