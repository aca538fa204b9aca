// What the containerd client makes of the OCI spec and the CRI extension (JSON carried in
// google.protobuf.Any values), and how it fails when containerd is not there.
#include "agent/containers/containerd.h"

#include <gtest/gtest.h>

namespace coroot::agent::containers {
namespace {

TEST(ContainerdTest, OciSpecEnvAndVolumes) {
  cgroup::ContainerMetadata md;
  ASSERT_TRUE(ParseOciSpec(R"({"ociVersion":"1.0.2","process":{"env":["PATH=/bin","A=b=c","NOEQ","=x"]},
    "mounts":[{"destination":"/data","type":"bind","source":"/var/lib/kubelet/pods/5e1c/volumes/kubernetes.io~csi/pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/mount"},
              {"destination":"/proc","type":"proc","source":"proc"},{"destination":"/x"}]})",
                           &md)
                  .ok());
  EXPECT_EQ(md.env, (std::map<std::string, std::string>{{"PATH", "/bin"}, {"A", "b=c"}}));
  EXPECT_EQ(md.volumes, (std::map<std::string, std::string>{{"/data", "pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}}));
}

TEST(ContainerdTest, CriExtensionLogPath) {
  cgroup::ContainerMetadata md;
  ASSERT_TRUE(ParseCriExtension(R"({"Version":"v1","Metadata":{"ID":"abc","Name":"app","LogPath":"/var/log/pods/shop_web_1/app/0.log"}})", &md).ok());
  EXPECT_EQ(md.log_path, "/var/log/pods/shop_web_1/app/0.log");
}

TEST(ContainerdTest, BadInputIsAnErrorNotACrash) {
  cgroup::ContainerMetadata md;
  EXPECT_FALSE(ParseOciSpec("", &md).ok());
  EXPECT_FALSE(ParseOciSpec("[1,2]", &md).ok());
  EXPECT_FALSE(ParseOciSpec("{\"process\":", &md).ok());
  EXPECT_TRUE(ParseOciSpec(R"({"process":{"env":[1,{},null]},"mounts":{"a":1}})", &md).ok());
  EXPECT_TRUE(md.env.empty());
  EXPECT_FALSE(ParseCriExtension("\x01\x02", &md).ok());
  EXPECT_TRUE(ParseCriExtension(R"({"Metadata":{"LogPath":7}})", &md).ok());
  EXPECT_EQ(md.log_path, "");
}

TEST(ContainerdTest, NoDaemonIsUnavailable) {
  ContainerdClient c("/nonexistent/containerd.sock", std::chrono::milliseconds(300));
  auto got = c.Get("k8s.io", "abc");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_EQ(c.Get("k8s.io", "").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coroot::agent::containers
