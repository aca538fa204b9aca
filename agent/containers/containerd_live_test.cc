// The containerd client and the registry with a real containerd (label `integration`, needs
// root, containerd, runc, busybox): containerd_test_env.sh starts a private containerd on a
// socket in a temp dir, imports a busybox image and runs one container the way the kubelet's CRI
// names it (namespace k8s.io, cgroup /kubepods/.../cri-containerd-<id>, pod labels). The test
// reads it back over gRPC and checks the registry reports it as /k8s/<ns>/<pod>/<container>
// with its image. The container, the daemon (by PID) and the cgroup dirs are removed at the end.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "agent/containers/containerd.h"
#include "agent/containers/registry.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/cgroup/cgroupfs.h"

namespace coroot::agent::containers {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool InPath(const std::string& exe) { return std::system(("command -v " + exe + " >/dev/null 2>&1").c_str()) == 0; }

std::string Script() { return std::string(CONTAINERS_SOURCE_DIR) + "/containerd_test_env.sh"; }

class ContainerdEnv {
 public:
  ContainerdEnv() {
    char tmpl[] = "/tmp/coroot-ctrd-XXXXXX";
    dir_ = mkdtemp(tmpl) ? tmpl : "";
    id_ = "c0" + std::to_string(getpid());
    id_ += std::string(64 - id_.size(), 'a');
    pod_ = "/kubepods/besteffort/pod" + std::to_string(getpid());
    cgroup_ = pod_ + "/cri-containerd-" + id_;
    std::string out = dir_ + "/up.out";
    int rc = std::system((Script() + " up " + dir_ + "/env " + id_ + " " + cgroup_ + " >" + out + " 2>&1").c_str());
    auto text = ReadFile(out);
    output_ = text.ok() ? *text : "";
    for (const std::string& line : Split(output_, '\n')) {
      if (StartsWith(line, "containerd_pid=")) containerd_pid_ = std::atoi(line.c_str() + 15);
      if (StartsWith(line, "task_pid=")) task_pid_ = std::atoi(line.c_str() + 9);
    }
    ok_ = rc == 0 && containerd_pid_ > 0 && task_pid_ > 0;
  }
  ~ContainerdEnv() {
    if (!dir_.empty()) std::system((Script() + " down " + dir_ + "/env " + id_ + " >/dev/null 2>&1").c_str());
    if (containerd_pid_ > 0) {
      kill(containerd_pid_, SIGTERM);
      for (int i = 0; i < 100 && kill(containerd_pid_, 0) == 0; i++) std::this_thread::sleep_for(50ms);
    }
    cgroup::CgroupFs fs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"}) {
      for (const std::string& p : {cgroup_, pod_, std::string("/kubepods/besteffort"), std::string("/kubepods")})
        rmdir(fs.V1(c, p).c_str());  // only empty dirs go; /kubepods of a real kubelet stays
    }
    for (const std::string& p : {cgroup_, pod_, std::string("/kubepods/besteffort"), std::string("/kubepods")})
      rmdir(fs.V2(p).c_str());
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string socket() const { return dir_ + "/env/containerd.sock"; }
  const std::string& id() const { return id_; }
  const std::string& output() const { return output_; }
  int task_pid() const { return task_pid_; }

 private:
  std::string dir_, id_, pod_, cgroup_, output_;
  int containerd_pid_ = -1, task_pid_ = -1;
  bool ok_ = false;
};

TEST(ContainerdLiveTest, GetOverGrpcAndTheRegistryNamesTheContainer) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  for (const char* exe : {"containerd", "ctr", "runc", "busybox", "python3"})
    if (!InPath(exe)) GTEST_SKIP() << exe << " is not installed";
  ContainerdEnv env;
  ASSERT_TRUE(env.ok()) << "containerd environment did not come up:\n" << env.output();

  ContainerdClient client(env.socket());
  auto md = client.Get("k8s.io", env.id());
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->image, "docker.io/coroot/ctrd-test:1.0");
  EXPECT_EQ(md->labels["io.kubernetes.pod.name"], "web-7d9f8b6c5d-x2k4q");
  EXPECT_EQ(md->labels["io.kubernetes.pod.namespace"], "shop");
  EXPECT_EQ(md->labels["io.kubernetes.container.name"], "app");
  EXPECT_EQ(md->env["COROOT_TEST"], "1");  // from the OCI spec (Any → JSON)
  // Another namespace does not have it; the id is the key.
  EXPECT_EQ(client.Get("moby", env.id()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client.Get("k8s.io", "nope").status().code(), StatusCode::kNotFound);

  RegistryOptions o;
  o.cgroupfs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
  o.min_container_age = 0ms;
  o.docker_socket.clear();
  o.crio_sockets.clear();
  o.containerd_sockets = {env.socket()};
  ContainerRegistry r(o);
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  const std::string want = "/k8s/shop/web-7d9f8b6c5d-x2k4q/app";
  bool found = false;
  for (const ContainerInfo& c : r.Containers()) {
    if (c.id != want) continue;
    found = true;
    EXPECT_EQ(c.app_id, "/k8s/shop/web");
    EXPECT_EQ(c.type, cgroup::ContainerType::kContainerd);
    EXPECT_EQ(c.image, "docker.io/coroot/ctrd-test:1.0");
    EXPECT_EQ(c.pids, std::vector<int>{env.task_pid()});
  }
  EXPECT_TRUE(found) << "the registry did not report " << want;
  std::vector<prom::MetricFamily> fams;
  r.Collect(&fams);
  prom::Flatten(&fams);
  bool info = false;
  for (const auto& f : fams)
    if (f.name == "container_info")
      for (const auto& s : f.samples)
        info |= std::find(s.labels.begin(), s.labels.end(), prom::Label{"container_id", want}) != s.labels.end() &&
                std::find(s.labels.begin(), s.labels.end(), prom::Label{"image", "docker.io/coroot/ctrd-test:1.0"}) !=
                    s.labels.end();
  EXPECT_TRUE(info) << "container_info{image} for " << want;
}

}  // namespace
}  // namespace coroot::agent::containers
