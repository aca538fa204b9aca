// CRI-O inspect bodies. No CRI-O runs on this machine: the fixture is written by hand from the
// shape of CRI-O's ContainerInfo (name, image, labels, annotations, log_path, ...), not captured.
#include "agent/containers/crio.h"

#include <gtest/gtest.h>

#include "lib/base/file.h"

namespace coroot::agent::containers {
namespace {

std::string Fixture(const std::string& name) {
  auto t = ReadFile(std::string(CONTAINERS_TESTDATA_DIR) + "/" + name);
  EXPECT_TRUE(t.ok()) << name;
  return t.ok() ? *t : "";
}

TEST(CrioTest, KubernetesContainer) {
  auto md = ParseCrioInspect(Fixture("crio_inspect_k8s.json"));
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->image, "registry.example/api:1.2.3");
  EXPECT_EQ(md->log_path, "/var/log/pods/shop_api-7d9f8b6c5d-x2k4p_5e1c/app/0.log");
  EXPECT_EQ(md->volumes, (std::map<std::string, std::string>{{"/data", "pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}}));
  const std::string id = "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd";
  EXPECT_EQ(cgroup::ContainerIdFor({cgroup::ContainerType::kCrio, id}, *md, std::chrono::system_clock::now()),
            "/k8s/shop/api-7d9f8b6c5d-x2k4p/app");
}

TEST(CrioTest, Malformed) {
  auto bad_volumes = ParseCrioInspect(Fixture("crio_inspect_bad_volumes.json"));
  ASSERT_TRUE(bad_volumes.ok());  // the container is still named; its volumes are unknown
  EXPECT_TRUE(bad_volumes->volumes.empty());
  EXPECT_FALSE(ParseCrioInspect("{}").ok());
  EXPECT_FALSE(ParseCrioInspect("[1]").ok());
  EXPECT_FALSE(ParseCrioInspect("{\"name\":").ok());
  EXPECT_EQ(CrioClient("/nonexistent/crio.sock").Inspect("abc").status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace coroot::agent::containers
