// The registry with a real Docker Engine (label `integration`, needs root and docker.io): the test
// starts its own dockerd (which runs its own containerd) in a temp dir on a private socket,
// imports a busybox image, runs a CPU burner limited to 0.5 CPU and checks that the container is
// named by the Engine API (/docker/<name>, container_info{image}) and that its CPU figures are
// the kernel's. Containers, daemons, mounts and the daemon's cgroup dirs are removed at the end.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/containers/registry.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/testing/process.h"

namespace coroot::agent::containers {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool InPath(const std::string& exe) {
  return std::system(("command -v " + exe + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; returns its stdout (trimmed) or "" with ok=false.
std::string Sh(const std::string& cmd, bool* ok = nullptr) {
  std::string out = fs::temp_directory_path() / ("coroot-sh-" + std::to_string(getpid()) + ".out");
  int rc = std::system((cmd + " >" + out + " 2>&1").c_str());
  auto text = ReadFile(out);
  unlink(out.c_str());
  if (ok) *ok = rc == 0;
  return text.ok() ? Trim(*text) : "";
}

class DockerDaemon {
 public:
  DockerDaemon() {
    dir_ = coroot::testing::MakeTempDir("coroot-dockerd");
    sock_ = dir_ + "/docker.sock";
    daemon_ = std::make_unique<coroot::testing::ChildProcess>(
        std::vector<std::string>{"dockerd", "--data-root", dir_ + "/data", "--exec-root", dir_ + "/exec", "-H",
                                 "unix://" + sock_, "--pidfile", dir_ + "/docker.pid", "--bridge=none",
                                 "--iptables=false", "--ip-masq=false", "--ip-forward=false"},
        dir_ + "/dockerd.log");
    ready_ = coroot::testing::WaitFor([this] { return Docker("version") != "" && ok_; }, 30s);
  }
  ~DockerDaemon() {
    for (const std::string& c : containers_) Docker("rm -f " + c);
    daemon_->Stop(SIGTERM, 20s);
    // Mounts the daemon leaves behind (netns files, overlay layers), deepest first.
    if (auto mi = ReadFile("/proc/self/mountinfo", 4 << 20); mi.ok()) {
      std::vector<std::string> mounts;
      for (const std::string& line : Split(*mi, '\n')) {
        std::vector<std::string> f = SplitAny(line, " ");
        if (f.size() > 4 && StartsWith(f[4], dir_)) mounts.push_back(f[4]);
      }
      for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
    }
    // Docker's cgroup parent, when no one else's containers are in it (rmdir fails otherwise).
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd",
                          "unified", "hugetlb", "net_cls", "perf_event"})
      rmdir((std::string("/sys/fs/cgroup/") + c + "/docker").c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  const std::string& socket() const { return sock_; }
  const std::string& dir() const { return dir_; }
  std::string Log() const { return daemon_->Log(); }
  std::string Docker(const std::string& args) { return Sh("docker -H unix://" + sock_ + " " + args, &ok_); }
  bool ok() const { return ok_; }
  void Track(const std::string& name) { containers_.push_back(name); }

 private:
  std::string dir_, sock_;
  std::unique_ptr<coroot::testing::ChildProcess> daemon_;
  std::vector<std::string> containers_;
  bool ready_ = false, ok_ = false;
};

const prom::Sample* Find(const std::vector<prom::MetricFamily>& fams, const std::string& name, const std::string& id,
                         const prom::Labels& must = {}) {
  for (const auto& f : fams) {
    if (f.name != name) continue;
    for (const auto& s : f.samples) {
      bool ok = std::find(s.labels.begin(), s.labels.end(), prom::Label{"container_id", id}) != s.labels.end();
      for (const auto& m : must) ok &= std::find(s.labels.begin(), s.labels.end(), m) != s.labels.end();
      if (ok) return &s;
    }
  }
  return nullptr;
}

TEST(DockerLiveTest, ContainerIsNamedByTheEngineApiAndMeasuredFromItsCgroup) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  if (!InPath("dockerd") || !InPath("docker") || !fs::exists("/bin/busybox"))
    GTEST_SKIP() << "dockerd, docker or /bin/busybox missing (scripts/setup.sh installs them)";
  DockerDaemon d;
  ASSERT_TRUE(d.ready()) << d.Log();

  const std::string tag = std::to_string(getpid());
  const std::string image = "coroot-bb-" + tag + ":latest", name = "coroot-live-" + tag;
  std::string rootfs = d.dir() + "/rootfs";
  fs::create_directories(rootfs + "/bin");
  fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
  fs::create_symlink("busybox", rootfs + "/bin/sh");
  bool ok = false;
  std::string out = Sh("tar -C " + rootfs + " -c . | docker -H unix://" + d.socket() + " import - " + image, &ok);
  ASSERT_TRUE(ok) << out;
  d.Track(name);
  std::string cid = d.Docker("run -d --name " + name + " --network none --cpus 0.5 --cpu-shares 102400 --label app=web " + image +
                             " /bin/sh -c 'while :; do :; done & while :; do :; done'");
  ASSERT_TRUE(d.ok()) << cid;
  ASSERT_EQ(cid.size(), 64u) << cid;
  // Docker's /docker parent competes at the root as one entity: give it weight too, so that on
  // a busy machine the container's quota is what limits the burner.
  if (FILE* f = std::fopen("/sys/fs/cgroup/cpu/docker/cpu.shares", "w")) {
    std::fputs("102400", f);
    std::fclose(f);
  }

  RegistryOptions o;
  o.cgroupfs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
  o.min_container_age = 0ms;
  o.docker_socket = d.socket();
  ContainerRegistry r(o);
  ASSERT_TRUE(r.Init().ok());
  const std::string id = "/docker/" + name;
  ASSERT_TRUE(coroot::testing::WaitFor(
      [&] {
        r.Scan();
        for (const ContainerInfo& c : r.Containers())
          if (c.id == id) return true;
        return false;
      },
      10s))
      << "the registry did not name the container " << id;
  for (const ContainerInfo& c : r.Containers())
    if (c.id == id) {
      EXPECT_EQ(c.image, image);
      EXPECT_EQ(c.type, cgroup::ContainerType::kDocker);
      EXPECT_EQ(c.app_id, id);
    }

  std::string usage_file = o.cgroupfs.V1("cpuacct", "/docker/" + cid) + "/cpuacct.usage";
  auto kernel = [&] { return static_cast<double>(*cgroup::ReadSingleInt(usage_file)) / 1e9; };
  std::this_thread::sleep_for(300ms);
  std::vector<prom::MetricFamily> m1, m2;
  double k0 = kernel();
  auto t1 = std::chrono::steady_clock::now();
  r.Collect(&m1);
  prom::Flatten(&m1);
  double k1 = kernel();
  std::this_thread::sleep_for(2s);
  auto t2 = std::chrono::steady_clock::now();
  r.Collect(&m2);
  prom::Flatten(&m2);
  const prom::Sample* info = Find(m1, "container_info", id, {{"image", image}});
  ASSERT_NE(info, nullptr);
  EXPECT_DOUBLE_EQ(info->value, 1);
  const prom::Sample* u1 = Find(m1, "container_resources_cpu_usage_seconds_total", id);
  const prom::Sample* u2 = Find(m2, "container_resources_cpu_usage_seconds_total", id);
  ASSERT_TRUE(u1 && u2);
  EXPECT_LE(k0, u1->value);
  EXPECT_LE(u1->value, k1);
  double rate = (u2->value - u1->value) / std::chrono::duration<double>(t2 - t1).count();
  std::printf("docker burner %s: %.3f core/s (--cpus 0.5)\n", id.c_str(), rate);
  EXPECT_NEAR(rate, 0.5, 0.1);
  const prom::Sample* limit = Find(m2, "container_resources_cpu_limit_cores", id);
  ASSERT_NE(limit, nullptr);
  EXPECT_DOUBLE_EQ(limit->value, 0.5);
  const prom::Sample* throttled = Find(m2, "container_resources_cpu_throttled_seconds_total", id);
  ASSERT_NE(throttled, nullptr);
  EXPECT_GT(throttled->value, 0);

  // Without the Engine API the container cannot be named: not reported, as in Coroot.
  RegistryOptions blind = o;
  blind.docker_socket = d.dir() + "/no-such.sock";
  ContainerRegistry r2(blind);
  r2.Scan();
  for (const ContainerInfo& c : r2.Containers()) EXPECT_NE(c.id, id);
  std::vector<prom::MetricFamily> m3;
  r2.Collect(&m3);
  prom::Flatten(&m3);
  bool counted = false;
  for (const auto& f : m3)
    if (f.name == "coroot_agent_containers_dropped_total")
      for (const auto& s : f.samples)
        counted |= s.labels == prom::Labels{{"reason", "runtime_unavailable"}} && s.value >= 1;
  EXPECT_TRUE(counted);
}

}  // namespace
}  // namespace coroot::agent::containers
