// The registry over a fake host: a /proc tree and a hybrid cgroup tree written into a temp dir
// from files captured on this machine (lib/cgroup/testdata), so every value can be checked.
#include "agent/containers/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent/containers/fake_daemon.h"
#include "lib/base/file.h"

namespace coroot::agent::containers {
namespace {

namespace fs = std::filesystem;

std::string CgroupFixture(const std::string& name) {
  auto t = ReadFile(std::string(CONTAINERS_TESTDATA_DIR) + "/../../../lib/cgroup/testdata/" + name);
  EXPECT_TRUE(t.ok()) << name;
  return t.ok() ? *t : "";
}

class FakeHost {
 public:
  FakeHost() {
    root_ = (fs::temp_directory_path() / ("coroot-registry-" + std::to_string(getpid()) + "-" +
                                          std::to_string(counter_++))).string();
    fs::create_directories(root_ + "/proc");
    Write("proc/stat", "cpu 1 2 3 4 5 6 7 8\nbtime " + std::to_string(time(nullptr) - 3600) + "\n");
    fs::create_directories(root_ + "/sys/dev/block");
    fs::create_directories(root_ + "/sys/devices/virtual/block/vda");
    fs::create_symlink("../../devices/virtual/block/vda", root_ + "/sys/dev/block/254:0");
  }
  ~FakeHost() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const std::string& rel, const std::string& content) {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/" + rel, content).ok());
  }
  // A process whose start time is `start` ticks after boot, in the cgroups of `cgroup_file`.
  void AddProcess(int pid, uint64_t start, const std::string& cgroup_file, const std::string& cmdline) {
    std::string p = "proc/" + std::to_string(pid);
    Write(p + "/stat", std::to_string(pid) + " (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " + std::to_string(start) +
                           " 1000 10\n");
    Write(p + "/cgroup", cgroup_file);
    Write(p + "/cmdline", cmdline);
    Write(p + "/mountinfo",
          "29 27 254:0 /run/netns /run/netns rw - ext4 /dev/vda rw\n"  // a bind mount of a directory
          "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n28 27 0:25 / /run rw - tmpfs tmpfs rw\n");
    fs::create_symlink("/", root_ + "/" + p + "/root");
  }
  void RemoveProcess(int pid) { fs::remove_all(root_ + "/proc/" + std::to_string(pid)); }
  // A hybrid service cgroup filled with the captured files.
  void AddServiceCgroup(const std::string& path, const std::string& oom_kill = "0") {
    std::string cg = "cg/";
    Write(cg + "cpu" + path + "/cpu.stat", CgroupFixture("v1_cpu_throttled.stat"));
    Write(cg + "cpu" + path + "/cpu.cfs_quota_us", "50000\n");
    Write(cg + "cpu" + path + "/cpu.cfs_period_us", "100000\n");
    Write(cg + "cpuacct" + path + "/cpuacct.usage", CgroupFixture("v1_cpuacct.usage"));
    Write(cg + "memory" + path + "/memory.stat", CgroupFixture("v1_memory.stat"));
    Write(cg + "memory" + path + "/memory.limit_in_bytes", "67108864\n");
    Write(cg + "memory" + path + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill " + oom_kill + "\n");
    Write(cg + "blkio" + path + "/blkio.throttle.io_serviced", CgroupFixture("v1_blkio.throttle.io_serviced"));
    Write(cg + "blkio" + path + "/blkio.throttle.io_service_bytes", CgroupFixture("v1_blkio.throttle.io_service_bytes"));
    for (const char* p : {"cpu", "io", "memory"})
      Write(cg + "unified" + path + "/" + p + ".pressure", CgroupFixture(std::string("v2_") + p + ".pressure"));
  }
  static std::string HybridCgroupFile(const std::string& path) {
    return "9:name=systemd:/\n7:blkio:" + path + "\n4:memory:" + path + "\n2:cpuacct:" + path + "\n1:cpu:" + path +
           "\n0::" + path + "\n";
  }
  RegistryOptions Options() const {
    RegistryOptions o;
    o.proc_root = root_ + "/proc";
    o.sys_root = root_ + "/sys";
    o.cgroupfs.root = root_ + "/cg";
    o.cgroupfs.v2_root = root_ + "/cg/unified";
    o.min_container_age = std::chrono::milliseconds(0);
    return o;
  }

 private:
  static inline int counter_ = 0;
  std::string root_;
};

const prom::Sample* Find(const std::vector<prom::MetricFamily>& fams, const std::string& name,
                         const prom::Labels& must = {}) {
  for (const auto& f : fams) {
    if (f.name != name) continue;
    for (const auto& s : f.samples) {
      bool ok = true;
      for (const auto& m : must) ok &= std::find(s.labels.begin(), s.labels.end(), m) != s.labels.end();
      if (ok) return &s;
    }
  }
  return nullptr;
}

double Value(const std::vector<prom::MetricFamily>& fams, const std::string& name, const prom::Labels& must = {}) {
  const prom::Sample* s = Find(fams, name, must);
  EXPECT_NE(s, nullptr) << name;
  return s ? s->value : -1;
}

std::vector<prom::MetricFamily> Gather(ContainerRegistry& r) {
  std::vector<prom::MetricFamily> out;
  r.Collect(&out);
  prom::Flatten(&out);
  return out;
}

const std::string kNginx = "/system.slice/nginx.service";

// Whether the registry has pid as the only process of container id.
bool HasOnly(ContainerRegistry& r, const std::string& id, int pid) {
  for (const auto& c : r.Containers())
    if (c.id == id && c.pids == std::vector<int>{pid}) return true;
  return false;
}

TEST(RegistryTest, ReportsAServiceWithTheKernelsValues) {
  FakeHost h;
  h.AddServiceCgroup(kNginx, "1");
  h.AddProcess(100, 5000, FakeHost::HybridCgroupFile(kNginx), std::string("nginx: master process\0", 22));
  h.AddProcess(101, 5001, FakeHost::HybridCgroupFile(kNginx), std::string("nginx: worker process\0", 22));
  ContainerRegistry r(h.Options());
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  auto cs = r.Containers();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].id, kNginx);
  EXPECT_EQ(cs[0].app_id, kNginx);
  EXPECT_EQ(cs[0].pids, (std::vector<int>{100, 101}));
  EXPECT_EQ(cs[0].application_types, std::set<std::string>{"nginx"});

  auto m = Gather(r);
  const prom::Sample* usage = Find(m, "container_resources_cpu_usage_seconds_total");
  ASSERT_NE(usage, nullptr);
  EXPECT_EQ(usage->labels, (prom::Labels{{"container_id", kNginx}, {"app_id", kNginx}}));
  EXPECT_DOUBLE_EQ(usage->value, 1031681912 / 1e9);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_cpu_throttled_seconds_total"), 383592858 / 1e9);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_cpu_limit_cores"), 0.5);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_memory_limit_bytes"), 67108864);
  auto stat = cgroup::ParseFlatKeyed(CgroupFixture("v1_memory.stat"));
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_memory_rss_bytes"),
                   static_cast<double>(stat["total_rss"] + stat["total_mapped_file"]));
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_memory_cache_bytes"), static_cast<double>(stat["total_cache"]));
  EXPECT_DOUBLE_EQ(Value(m, "container_oom_kills_total"), 1);
  EXPECT_DOUBLE_EQ(Value(m, "container_restarts_total"), 0);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_cpu_pressure_waiting_seconds_total", {{"kind", "some"}}), 0.987919);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_cpu_pressure_waiting_seconds_total", {{"kind", "full"}}), 0.984892);
  EXPECT_NE(Find(m, "container_resources_io_pressure_waiting_seconds_total", {{"kind", "some"}}), nullptr);
  EXPECT_NE(Find(m, "container_resources_memory_pressure_waiting_seconds_total", {{"kind", "full"}}), nullptr);
  prom::Labels disk = {{"mount_point", "/"}, {"device", "vda"}, {"volume", ""}};
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_disk_written_bytes_total", disk), 20971520);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_disk_writes_total", disk), 20);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_disk_read_bytes_total", disk), 319488);
  EXPECT_DOUBLE_EQ(Value(m, "container_resources_disk_reads_total", disk), 58);
  EXPECT_GT(Value(m, "container_resources_disk_size_bytes", disk), 0);
  EXPECT_EQ(Find(m, "container_resources_disk_size_bytes", {{"mount_point", "/run"}}), nullptr);  // tmpfs
  // One series per device: the whole filesystem, not the bind mount of one of its directories.
  EXPECT_EQ(Find(m, "container_resources_disk_size_bytes", {{"mount_point", "/run/netns"}}), nullptr);
  EXPECT_DOUBLE_EQ(Value(m, "container_application_type", {{"application_type", "nginx"}}), 1);
  EXPECT_DOUBLE_EQ(Value(m, "coroot_agent_containers"), 1);
}

TEST(RegistryTest, IgnoresWhatCorootIgnores) {
  FakeHost h;
  const std::string docker = "/docker/b43d92bf1e5c6f78bb9b7bc6f40721280299855ba692092716e3a1b6c0b86f3f";
  h.AddProcess(1, 1, "0::/init.scope\n", "");
  h.AddProcess(2, 2, "0::/user.slice/user-0.slice/session-1.scope\n", "");
  h.AddProcess(3, 3, "0::" + docker + "\n", "");  // no runtime metadata yet
  h.AddProcess(4, 4, "0::/system.slice/systemd-journald.service\n", "");
  h.AddProcess(5, 5, "garbage\n", "");
  h.AddProcess(6, 6, "0::/lxc/web01\n", "");
  ContainerRegistry r(h.Options());
  r.Scan();
  EXPECT_TRUE(r.Containers().empty());

  RegistryOptions o = h.Options();
  o.skip_systemd_system_services = false;
  ContainerRegistry all(o);
  all.Scan();
  auto cs = all.Containers();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].id, "/system.slice/systemd-journald.service");
}

TEST(RegistryTest, CrioContainerIsNamedByCrioApi) {
  FakeHost h;
  auto body = ReadFile(std::string(CONTAINERS_TESTDATA_DIR) + "/crio_inspect_k8s.json");
  ASSERT_TRUE(body.ok());
  FakeDaemon crio("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body->size()) + "\r\n\r\n" + *body);
  const std::string id = "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd";
  h.AddProcess(100, 5000,
               "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5e1c.slice/crio-" + id + ".scope\n",
               "");
  RegistryOptions o = h.Options();
  o.docker_socket = "";
  o.crio_sockets = {crio.path()};
  ContainerRegistry r(o);
  r.Scan();
  auto cs = r.Containers();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].id, "/k8s/shop/api-7d9f8b6c5d-x2k4p/app");
  EXPECT_EQ(cs[0].app_id, "/k8s/shop/api");
  EXPECT_EQ(cs[0].image, "registry.example/api:1.2.3");
  EXPECT_EQ(crio.request().rfind("GET /containers/" + id + " HTTP/1.1\r\n", 0), 0u);
  auto m = Gather(r);
  EXPECT_DOUBLE_EQ(Value(m, "container_info", {{"image", "registry.example/api:1.2.3"}, {"app_id", "/k8s/shop/api"}}), 1);
}

TEST(RegistryTest, AllowAndDenyLists) {
  FakeHost h;
  h.AddProcess(10, 1, "0::/system.slice/nginx.service\n", "");
  h.AddProcess(11, 1, "0::/system.slice/postgresql.service\n", "");
  h.AddProcess(12, 1, "0::/system.slice/redis.service\n", "");
  RegistryOptions o = h.Options();
  o.allowlist = {"nginx|postgres"};
  o.denylist = {"^/system\\.slice/postgresql"};
  ContainerRegistry r(o);
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  auto cs = r.Containers();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].id, kNginx);

  o.allowlist = {"(unclosed"};
  ContainerRegistry bad(o);
  EXPECT_FALSE(bad.Init().ok());
}

TEST(RegistryTest, RestartWhenTheOldestProcessIsReplaced) {
  FakeHost h;
  h.AddServiceCgroup(kNginx);
  h.AddProcess(100, 5000, FakeHost::HybridCgroupFile(kNginx), "");
  RegistryOptions o = h.Options();
  o.dead_container_ttl = std::chrono::hours(1);
  ContainerRegistry r(o);
  r.Scan();
  // A second process that started later is no restart.
  h.AddProcess(101, 6000, FakeHost::HybridCgroupFile(kNginx), "");
  r.Scan();
  ASSERT_EQ(r.Containers().size(), 1u);
  EXPECT_EQ(r.Containers()[0].restarts, 0u);
  // Both exit; the container stays (a zombie) and keeps its counters.
  h.RemoveProcess(100);
  h.RemoveProcess(101);
  r.Scan();
  ASSERT_EQ(r.Containers().size(), 1u);
  EXPECT_TRUE(r.Containers()[0].pids.empty());
  EXPECT_DOUBLE_EQ(Value(Gather(r), "container_resources_cpu_limit_cores"), 0.5);
  // A new process: the oldest start time moved forward.
  h.AddProcess(102, 9000, FakeHost::HybridCgroupFile(kNginx), "");
  r.Scan();
  EXPECT_EQ(r.Containers()[0].restarts, 1u);
  EXPECT_DOUBLE_EQ(Value(Gather(r), "container_restarts_total"), 1);
  // The same pid number reused by a newer process counts too.
  h.RemoveProcess(102);
  h.AddProcess(102, 9500, FakeHost::HybridCgroupFile(kNginx), "");
  r.Scan();
  EXPECT_EQ(r.Containers()[0].restarts, 2u);
}

TEST(RegistryTest, CgroupIsReadAgainOnExecAndPeriodically) {
  FakeHost h;
  h.AddProcess(100, 5000, "0::/system.slice/containerd.service\n", "");
  RegistryOptions o = h.Options();
  o.revalidate_every_scans = 3;
  ContainerRegistry r(o);
  r.Scan();
  ASSERT_EQ(r.Containers().size(), 1u);
  EXPECT_EQ(r.Containers()[0].id, "/system.slice/containerd.service");
  // Moved to another cgroup without exec: seen at the latest on the 3rd scan after it was read.
  h.Write("proc/100/cgroup", "0::/system.slice/nginx.service\n");
  r.Scan();
  EXPECT_EQ(r.Containers()[0].pids, std::vector<int>{100});
  r.Scan();
  r.Scan();
  EXPECT_TRUE(HasOnly(r, kNginx, 100));
  // An exec (new comm) is noticed on the next scan.
  h.Write("proc/100/cgroup", "0::/system.slice/redis.service\n");
  h.Write("proc/100/stat", "100 (redis-server) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 1000 10\n");
  r.Scan();
  EXPECT_TRUE(HasOnly(r, "/system.slice/redis.service", 100));
}

// With move events the cache of pids is trusted: no periodic re-read (a move would have been an
// event), until the kernel reports lost events; the next scan then reads every cgroup again.
TEST(RegistryTest, WithMoveEventsCgroupsAreReadAgainOnlyAfterLostEvents) {
  FakeHost h;
  h.AddProcess(100, 5000, "0::/system.slice/containerd.service\n", "");
  RegistryOptions o = h.Options();
  o.revalidate_every_scans = 2;
  ContainerRegistry r(o);
  r.SetProcessEvents(true);
  uint64_t lost = 0;
  r.SetMoveEvents([&lost] { return lost; });
  r.Scan();
  ASSERT_EQ(r.Containers().size(), 1u);
  h.Write("proc/100/cgroup", "0::/system.slice/nginx.service\n");  // moved, and no event came
  for (int i = 0; i < 5; i++) r.Scan();
  EXPECT_TRUE(HasOnly(r, "/system.slice/containerd.service", 100));
  EXPECT_FALSE(HasOnly(r, kNginx, 100));
  lost = 3;  // the ring was full once: events may be missing
  r.Scan();
  EXPECT_TRUE(HasOnly(r, kNginx, 100));
}

// A pid lister replaces the readdir of /proc; when it fails, scans read /proc.
TEST(RegistryTest, ScansListProcessesThroughTheLister) {
  FakeHost h;
  h.AddProcess(100, 5000, "0::/system.slice/containerd.service\n", "");
  h.AddProcess(200, 5000, "0::/system.slice/nginx.service\n", "");
  ContainerRegistry r(h.Options());
  bool fail = false;
  int calls = 0;
  r.SetPidLister([&]() -> StatusOr<std::vector<int>> {
    calls++;
    if (fail) return Unavailable("no iterator");
    return std::vector<int>{200};
  });
  r.Scan();
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(r.Containers().size(), 1u);
  EXPECT_EQ(r.Containers()[0].id, kNginx);
  fail = true;
  r.Scan();
  EXPECT_EQ(r.Containers().size(), 2u);
}

TEST(RegistryTest, DeadContainersAreDropped) {
  FakeHost h;
  h.AddProcess(100, 5000, "0::/system.slice/nginx.service\n", "");
  RegistryOptions o = h.Options();
  o.dead_container_ttl = std::chrono::milliseconds(0);
  ContainerRegistry r(o);
  r.Scan();
  ASSERT_EQ(r.Containers().size(), 1u);
  h.RemoveProcess(100);
  r.Scan();  // becomes a zombie now
  usleep(2000);
  r.Scan();  // older than the TTL: gone
  EXPECT_TRUE(r.Containers().empty());
}

TEST(RegistryTest, MinContainerAge) {
  FakeHost h;
  // Started 10 ticks after a boot one hour ago: about an hour old.
  h.AddProcess(100, 10, "0::/system.slice/old.service\n", "");
  long hz = sysconf(_SC_CLK_TCK);
  // Started 5 s ago.
  h.AddProcess(101, static_cast<uint64_t>((3600 - 5) * hz), "0::/system.slice/new.service\n", "");
  RegistryOptions o = h.Options();
  o.min_container_age = std::chrono::seconds(30);
  ContainerRegistry r(o);
  r.Scan();
  auto m = Gather(r);
  EXPECT_NE(Find(m, "container_restarts_total", {{"container_id", "/system.slice/old.service"}}), nullptr);
  EXPECT_EQ(Find(m, "container_restarts_total", {{"container_id", "/system.slice/new.service"}}), nullptr);
  EXPECT_DOUBLE_EQ(Value(m, "coroot_agent_containers"), 2);  // tracked, not yet reported
}

TEST(RegistryTest, BoundsAreCountedAsDrops) {
  FakeHost h;
  h.AddProcess(10, 1, "0::/system.slice/a.service\n", "");
  h.AddProcess(11, 1, "0::/system.slice/b.service\n", "");
  h.AddProcess(12, 1, "0::/system.slice/c.service\n", "");
  RegistryOptions o = h.Options();
  o.max_containers = 1;
  o.max_processes = 2;
  ContainerRegistry r(o);
  r.Scan();
  EXPECT_EQ(r.Containers().size(), 1u);
  auto m = Gather(r);
  EXPECT_DOUBLE_EQ(Value(m, "coroot_agent_containers_dropped_total", {{"reason", "max_containers"}}), 1);
  EXPECT_DOUBLE_EQ(Value(m, "coroot_agent_containers_dropped_total", {{"reason", "max_processes"}}), 1);
}

TEST(RegistryTest, LiveHostScanDoesNotCrash) {
  RegistryOptions o;
  o.cgroupfs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
  o.min_container_age = std::chrono::milliseconds(0);
  ContainerRegistry r(o);
  r.Scan();
  auto m = Gather(r);
  EXPECT_NE(Find(m, "coroot_agent_containers"), nullptr);
}

}  // namespace
}  // namespace coroot::agent::containers
