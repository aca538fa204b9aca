#include "lib/cgroup/container_id.h"

#include <gtest/gtest.h>

namespace coroot::cgroup {
namespace {

using T = ContainerType;
const std::string kId = "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd";

CgroupContainer Classify(const std::string& path) {
  auto c = ClassifyCgroup(path);
  EXPECT_TRUE(c.ok()) << path << ": " << c.status().ToString();
  return c.ok() ? *c : CgroupContainer{};
}

TEST(ClassifyCgroupTest, Docker) {
  EXPECT_EQ(Classify("/docker/" + kId).type, T::kDocker);
  EXPECT_EQ(Classify("/docker/" + kId).id, kId);
  auto scope = Classify("/system.slice/docker-" + kId + ".scope");
  EXPECT_EQ(scope.type, T::kDocker);
  EXPECT_EQ(scope.id, kId);
  EXPECT_FALSE(ClassifyCgroup("/docker/abc").ok());  // no 64-char id
  // A longer run yields its first 64 characters, as Coroot's unanchored regex does.
  EXPECT_EQ(Classify("/docker/" + kId + "ff").id, kId);
}

TEST(ClassifyCgroupTest, Kubernetes) {
  const std::string pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8712f785_1a3e.slice/";
  auto ctrd = Classify(pod + "cri-containerd-" + kId + ".scope");
  EXPECT_EQ(ctrd.type, T::kContainerd);
  EXPECT_EQ(ctrd.id, kId);
  EXPECT_EQ(Classify("/system.slice/containerd.service/kubepods-besteffort-pod1.slice:cri-containerd:" + kId).type,
            T::kContainerd);
  auto crio = Classify(pod + "crio-" + kId + ".scope");
  EXPECT_EQ(crio.type, T::kCrio);
  EXPECT_EQ(crio.id, kId);
  auto conmon = Classify(pod + "crio-conmon-" + kId + ".scope");
  EXPECT_EQ(conmon.type, T::kUnknown);
  EXPECT_EQ(conmon.id, "");
  auto shim = Classify("/kubepods/burstable/pod6a6d8e4f/" + kId);
  EXPECT_EQ(shim.type, T::kDocker);  // dockershim
  EXPECT_EQ(shim.id, kId);
  auto sandbox = Classify("/kubepods/burstable/pod6a6d8e4f-9e1b");
  EXPECT_EQ(sandbox.type, T::kSandbox);
  EXPECT_EQ(sandbox.id, "");
}

TEST(ClassifyCgroupTest, SystemdServices) {
  auto s = Classify("/system.slice/nginx.service");
  EXPECT_EQ(s.type, T::kSystemdService);
  EXPECT_EQ(s.id, "/system.slice/nginx.service");
  EXPECT_EQ(Classify("/system.slice/system-postgresql.slice/postgresql@15\\x2dmain.service").id,
            "/system.slice/system-postgresql.slice");
  EXPECT_EQ(Classify("/system.slice/postgresql@15\\x2dmain.service").id, "/system.slice/postgresql@15-main.service");
  for (const char* slice : {"runtime", "reserved", "kube", "azure", "podruntime"})
    EXPECT_EQ(Classify(std::string("/") + slice + ".slice/x.service").id, std::string("/") + slice + ".slice/x.service");
  EXPECT_EQ(Classify("/system.slice/session-1.scope").type, T::kStandalone);
  EXPECT_EQ(Classify("/system.slice/containerd.service/default/ctr1").id, "/system.slice/containerd.service");
  EXPECT_FALSE(ClassifyCgroup("/system.slice").ok());
}

TEST(ClassifyCgroupTest, TalosLxcAndStandalone) {
  EXPECT_EQ(Classify("/init").id, "/talos/init");
  EXPECT_EQ(Classify("/system/apid").id, "/talos/apid");
  EXPECT_EQ(Classify("/podruntime/kubelet").id, "/talos/kubelet");
  EXPECT_EQ(Classify("/system/runtime").type, T::kTalosRuntime);
  EXPECT_FALSE(ClassifyCgroup("/system").ok());
  auto lxc = Classify("/lxc/web01");
  EXPECT_EQ(lxc.type, T::kLxc);
  EXPECT_EQ(lxc.id, "web01");
  EXPECT_EQ(Classify("/lxc.payload.web01").id, "/lxc/web01");
  for (const char* p : {"/user.slice/user-1000.slice/session-2.scope", "/init.scope", "/systemd/x", "/", "",
                        "/process_api"})
    EXPECT_EQ(Classify(p).type, T::kStandalone) << p;
  EXPECT_FALSE(ClassifyCgroup("/process_api/937f38f5").ok());  // two levels, no known runtime
}

auto Now() { return std::chrono::system_clock::from_time_t(1'750'000'000); }  // 2025-06-15

TEST(ContainerIdTest, SystemdTalosAndIgnored) {
  ContainerMetadata none;
  EXPECT_EQ(ContainerIdFor({T::kSystemdService, "/system.slice/nginx.service"}, none, Now()),
            "/system.slice/nginx.service");
  EXPECT_EQ(ContainerIdFor({T::kSystemdService, "/system.slice/crio-conmon-" + kId + ".service"}, none, Now()), "");
  EXPECT_EQ(ContainerIdFor({T::kTalosRuntime, "/talos/apid"}, none, Now()), "/talos/apid");
  EXPECT_EQ(ContainerIdFor({T::kLxc, "/lxc/web01"}, none, Now()), "");
  EXPECT_EQ(ContainerIdFor({T::kStandalone, ""}, none, Now()), "");
  // Docker without metadata (no runtime API) is not reported, as in Coroot.
  EXPECT_EQ(ContainerIdFor({T::kDocker, kId}, none, Now()), "");
}

TEST(ContainerIdTest, Kubernetes) {
  ContainerMetadata md;
  md.labels = {{"io.kubernetes.pod.name", "api-7d9f8b6c5d-x2k4p"},
               {"io.kubernetes.pod.namespace", "shop"},
               {"io.kubernetes.container.name", "app"}};
  EXPECT_EQ(ContainerIdFor({T::kContainerd, kId}, md, Now()), "/k8s/shop/api-7d9f8b6c5d-x2k4p/app");
  EXPECT_EQ(ContainerIdFor({T::kSandbox, kId}, md, Now()), "/k8s/shop/api-7d9f8b6c5d-x2k4p/sandbox");
  EXPECT_EQ(ContainerIdFor({T::kSandbox, ""}, md, Now()), "");  // a sandbox without an id
  md.labels["io.kubernetes.container.name"] = "POD";
  EXPECT_EQ(ContainerIdFor({T::kDocker, kId}, md, Now()), "");
}

TEST(ContainerIdTest, CronJobWithinSevenDays) {
  ContainerMetadata md;
  int64_t minutes = 1'750'000'000 / 60;
  md.labels = {{"io.kubernetes.pod.name", "backup-db-" + std::to_string(minutes) + "-x2k4p"},
               {"io.kubernetes.pod.namespace", "ops"},
               {"io.kubernetes.container.name", "job"}};
  EXPECT_EQ(ContainerIdFor({T::kCrio, kId}, md, Now()), "/k8s-cronjob/ops/backup-db/job");
  // 8 days away: an ordinary pod.
  md.labels["io.kubernetes.pod.name"] = "backup-db-" + std::to_string(minutes - 8 * 24 * 60) + "-x2k4p";
  EXPECT_EQ(ContainerIdFor({T::kCrio, kId}, md, Now()), "/k8s/ops/" + md.labels["io.kubernetes.pod.name"] + "/job");
  // 'a' is not in the pod-name suffix alphabet.
  md.labels["io.kubernetes.pod.name"] = "backup-db-" + std::to_string(minutes) + "-aaaaa";
  EXPECT_EQ(ContainerIdFor({T::kCrio, kId}, md, Now()), "/k8s/ops/" + md.labels["io.kubernetes.pod.name"] + "/job");
}

TEST(ContainerIdTest, SwarmNomadDocker) {
  ContainerMetadata swarm;
  swarm.name = "shop_web.2.abcdef";
  swarm.labels = {{"com.docker.swarm.task.name", "shop_web.2.q1w2e3r4"},
                  {"com.docker.stack.namespace", "shop"},
                  {"com.docker.swarm.service.name", "shop_web"}};
  EXPECT_EQ(ContainerIdFor({T::kDocker, kId}, swarm, Now()), "/swarm/shop/web/2");
  swarm.labels.erase("com.docker.stack.namespace");
  EXPECT_EQ(ContainerIdFor({T::kDocker, kId}, swarm, Now()), "/swarm/_/shop_web/2");

  ContainerMetadata nomad;
  nomad.name = "task-abc";
  nomad.env = {{"NOMAD_ALLOC_ID", "5e1c"}, {"NOMAD_GROUP_NAME", "g"}, {"NOMAD_JOB_NAME", "j"},
               {"NOMAD_NAMESPACE", "default"}, {"NOMAD_TASK_NAME", "t"}};
  EXPECT_EQ(ContainerIdFor({T::kDocker, kId}, nomad, Now()), "/nomad/default/j/g/5e1c/t");
  nomad.env.erase("NOMAD_TASK_NAME");
  EXPECT_EQ(ContainerIdFor({T::kDocker, kId}, nomad, Now()), "/docker/task-abc");
}

TEST(AppIdTest, Workloads) {
  EXPECT_EQ(AppIdFor("/k8s/shop/api-7d9f8b6c5d-x2k4p/app"), "/k8s/shop/api");
  EXPECT_EQ(AppIdFor("/k8s/shop/my-api-5d-x2k4p/app"), "/k8s/shop/my-api");
  EXPECT_EQ(AppIdFor("/k8s/kube-system/node-exporter-x2k4p/exporter"), "/k8s/kube-system/node-exporter");
  EXPECT_EQ(AppIdFor("/k8s/db/postgres-0/postgres"), "/k8s/db/postgres");
  EXPECT_EQ(AppIdFor("/k8s/db/pg-cluster-12/pg"), "/k8s/db/pg-cluster");
  EXPECT_EQ(AppIdFor("/k8s/db/standalone/c"), "/k8s/db/standalone/c");
  EXPECT_EQ(AppIdFor("/k8s/db/web.v1-x2k4p/c"), "/k8s/db/web.v1-x2k4p/c");  // '.' is outside [a-z0-9-]
  EXPECT_EQ(AppIdFor("/k8s-cronjob/ops/backup-db/job"), "/k8s-cronjob/ops/backup-db");
  EXPECT_EQ(AppIdFor("/docker/web"), "/docker/web");
  EXPECT_EQ(AppIdFor("/system.slice/nginx.service"), "/system.slice/nginx.service");
}

TEST(SystemdTest, UnitsAndSystemServices) {
  EXPECT_EQ(SystemdUnit("/system.slice/nginx.service"), "nginx.service");
  EXPECT_EQ(SystemdUnit("/system.slice/system-getty.slice"), "system-getty.slice");
  EXPECT_TRUE(IsSystemdSystemService("systemd-journald.service", "", ""));
  EXPECT_TRUE(IsSystemdSystemService("getty@tty1.service", "", ""));
  EXPECT_TRUE(IsSystemdSystemService("rpcbind.service", "", ""));
  EXPECT_TRUE(IsSystemdSystemService("backup.service", "oneshot", ""));
  EXPECT_TRUE(IsSystemdSystemService("backup.service", "simple", "backup.timer"));
  EXPECT_FALSE(IsSystemdSystemService("nginx.service", "notify", ""));
  EXPECT_FALSE(IsSystemdSystemService("postgresql.service", "", ""));
}

TEST(GvisorTest, LastArgumentIsTheId) {
  using namespace std::string_literals;
  std::string cmd = "/usr/bin/runsc-sandbox\0--root\0/run\0"s + kId + "\0"s;
  EXPECT_EQ(GvisorSandboxId(cmd), kId);
  EXPECT_EQ(GvisorSandboxId("/bin/sh\0"s + kId), "");
  EXPECT_EQ(GvisorSandboxId("runsc\0short"s), "");
  EXPECT_EQ(GvisorSandboxId(""), "");
}

}  // namespace
}  // namespace coroot::cgroup
