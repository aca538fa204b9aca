// The container registry against the real kernel (label `integration`, needs root): the test
// makes its own cgroups on this host's hierarchies (v1 cpu, cpuacct, blkio, memory and, where it
// is writable, v2), named like a systemd service so the container-id rules recognise them, puts
// real child processes in them and checks what the registry reports against the kernel's own
// files for the same cgroup. Children are killed by PID and the cgroups removed, even on failure.
#include <fcntl.h>
#include <sched.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "agent/containers/jvm.h"
#include "agent/containers/mounts.h"
#include "agent/containers/registry.h"
#include "agent/containers/taskstats.h"
#include "agent/containers/test_cgroup.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/io.h"
#include "lib/cgroup/proc_cgroup.h"

namespace coroot::agent::containers {
namespace {

using namespace std::chrono_literals;

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

double Value(const std::vector<prom::MetricFamily>& fams, const std::string& name, const std::string& id,
             const prom::Labels& must = {}) {
  const prom::Sample* s = Find(fams, name, id, must);
  EXPECT_NE(s, nullptr) << name << " for " << id;
  return s ? s->value : -1;
}

std::vector<prom::MetricFamily> Gather(ContainerRegistry& r) {
  std::vector<prom::MetricFamily> out;
  r.Collect(&out);
  prom::Flatten(&out);
  return out;
}

std::map<std::string, uint64_t> Kv(const std::string& path) {
  auto m = cgroup::ReadFlatKeyed(path);
  EXPECT_TRUE(m.ok()) << path;
  return m.ok() ? *m : std::map<std::string, uint64_t>{};
}

double KernelUsageSeconds(const TestCgroup& cg) {
  return static_cast<double>(*cgroup::ReadSingleInt(cg.dir("cpuacct") + "/cpuacct.usage")) / 1e9;
}
double KernelThrottledSeconds(const TestCgroup& cg) {
  std::map<std::string, uint64_t> stat = Kv(cg.dir("cpu") + "/cpu.stat");
  return static_cast<double>(stat["throttled_time"]) / 1e9;
}

#define REQUIRE_ROOT_AND(cg)                                                      \
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups";               \
  if (!(cg).ok()) GTEST_SKIP() << "cannot make test cgroups: " << (cg).error()

void Burn() {
  volatile uint64_t x = 0;
  for (;;) x = x + 1;
}

TEST(ContainersCgroupTest, CpuBurnerLimitedToHalfACore) {
  TestCgroup cg(TestCgroupName("cpu"));
  REQUIRE_ROOT_AND(cg);
  ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_period_us", "100000"));
  ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_quota_us", "50000"));
  // A high weight, so that on a busy machine the quota, not the competition, is what limits the
  // group (a cgroup competes as one entity with every task at the root).
  // (/system.slice too: it is the entity that competes at the root.)
  ASSERT_TRUE(cg.Set("cpu", "cpu.shares", "102400"));
  cg.Set("cpu", "cpu.shares", "102400", /*on_parent=*/true);
  // Two burners, so that the 0.5-core quota is what limits them even when the machine is busy.
  int go = -1, go2 = -1;
  pid_t pid = cg.Spawn(Burn, &go);
  pid_t pid2 = cg.Spawn(Burn, &go2);
  ASSERT_GT(pid, 0);
  ASSERT_GT(pid2, 0);
  Go(go);
  Go(go2);

  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  const std::string id = cg.path();
  bool found = false;
  for (const ContainerInfo& c : r.Containers())
    if (c.id == id) {
      found = true;
      EXPECT_EQ(c.pids, (std::vector<int>{std::min(pid, pid2), std::max(pid, pid2)}));
      EXPECT_EQ(c.app_id, id);
      EXPECT_EQ(c.type, cgroup::ContainerType::kSystemdService);
    }
  ASSERT_TRUE(found) << "the registry did not find " << id;

  std::this_thread::sleep_for(500ms);  // let the first periods pass
  // Each gather is timed by the middle of the kernel reads that bracket it: on a loaded machine a
  // gather of every container on the host can take long, and its start is not when it read ours.
  auto t1a = std::chrono::steady_clock::now();
  double k0 = KernelUsageSeconds(cg);
  auto m1 = Gather(r);
  double k1 = KernelUsageSeconds(cg);
  auto t1 = t1a + (std::chrono::steady_clock::now() - t1a) / 2;
  double u1 = Value(m1, "container_resources_cpu_usage_seconds_total", id);
  EXPECT_LE(k0, u1);
  EXPECT_LE(u1, k1);

  std::this_thread::sleep_for(3s);
  auto t2a = std::chrono::steady_clock::now();
  double kt0 = KernelThrottledSeconds(cg), ku0 = KernelUsageSeconds(cg);
  auto m2 = Gather(r);
  double kt1 = KernelThrottledSeconds(cg), ku1 = KernelUsageSeconds(cg);
  auto t2 = t2a + (std::chrono::steady_clock::now() - t2a) / 2;
  double u2 = Value(m2, "container_resources_cpu_usage_seconds_total", id);
  double throttled = Value(m2, "container_resources_cpu_throttled_seconds_total", id);
  double rate = (u2 - u1) / std::chrono::duration<double>(t2 - t1).count();
  std::printf("cpu burner: %.3f core/s over %.2f s (limit 0.5), throttled %.3f s, usage %.3f s\n", rate,
              std::chrono::duration<double>(t2 - t1).count(), throttled, u2);
  EXPECT_NEAR(rate, 0.5, 0.1);  // ±20%
  EXPECT_GT(throttled, 0);
  // Equal to the kernel's files, read just before and just after the gather.
  EXPECT_LE(ku0, u2);
  EXPECT_LE(u2, ku1);
  EXPECT_LE(kt0, throttled);
  EXPECT_LE(throttled, kt1);
  EXPECT_DOUBLE_EQ(Value(m2, "container_resources_cpu_limit_cores", id), 0.5);
  EXPECT_DOUBLE_EQ(Value(m2, "container_restarts_total", id), 0);
  if (!cg.dir("v2").empty()) {
    // PSI comes from the v2 cgroup: a throttled burner waits for CPU.
    double some = Value(m2, "container_resources_cpu_pressure_waiting_seconds_total", id, {{"kind", "some"}});
    EXPECT_GT(some, 0);
    auto after = ReadFile(cg.dir("v2") + "/cpu.pressure");
    ASSERT_TRUE(after.ok());
    size_t p = after->find("total=");
    EXPECT_LE(some, std::strtod(after->c_str() + p + 6, nullptr) / 1e6);
  }
}

void Hog() {
  std::vector<char*> chunks;
  for (int i = 0; i < 4096; i++) {  // up to 4 GiB; the 50 MB limit ends this long before
    char* c = static_cast<char*>(malloc(1 << 20));
    if (c == nullptr) _exit(4);
    memset(c, i & 0xff, 1 << 20);
    chunks.push_back(c);
  }
  _exit(5);
}

void Sleep() {
  for (;;) pause();
}

TEST(ContainersCgroupTest, OomKilledHogIsCountedAndItsRestartToo) {
  TestCgroup cg(TestCgroupName("oom"));
  REQUIRE_ROOT_AND(cg);
  ASSERT_TRUE(cg.Set("memory", "memory.limit_in_bytes", "52428800"));
  cg.Set("memory", "memory.memsw.limit_in_bytes", "52428800");  // no swap escape where swap exists
  int go = -1;
  pid_t hog = cg.Spawn(Hog, &go);
  ASSERT_GT(hog, 0);
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  const std::string id = cg.path();
  auto m0 = Gather(r);
  EXPECT_DOUBLE_EQ(Value(m0, "container_resources_memory_limit_bytes", id), 52428800);
  EXPECT_EQ(Find(m0, "container_oom_kills_total", id), nullptr);  // none yet

  Go(go);
  int status = cg.Wait(hog);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the hog was not killed, status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  r.Scan();  // the container has no process left; it is kept
  auto m1 = Gather(r);
  uint64_t kernel = Kv(cg.dir("memory") + "/memory.oom_control")["oom_kill"];
  EXPECT_EQ(kernel, 1u);
  EXPECT_DOUBLE_EQ(Value(m1, "container_oom_kills_total", id), 1);
  EXPECT_DOUBLE_EQ(Value(m1, "container_restarts_total", id), 0);

  // "Restart" the container: a new process in the same cgroup, started after the first one.
  std::this_thread::sleep_for(50ms);  // start times have a 10 ms resolution
  pid_t again = cg.Spawn(Sleep, &go);
  ASSERT_GT(again, 0);
  Go(go);
  r.Scan();
  auto m2 = Gather(r);
  EXPECT_DOUBLE_EQ(Value(m2, "container_restarts_total", id), 1);
  EXPECT_DOUBLE_EQ(Value(m2, "container_oom_kills_total", id), 1);
  // A sleeping process's memory is stable: equal to memory.stat.
  auto k1 = Kv(cg.dir("memory") + "/memory.stat");
  auto m3 = Gather(r);
  auto k2 = Kv(cg.dir("memory") + "/memory.stat");
  if (k1 == k2) {
    EXPECT_DOUBLE_EQ(Value(m3, "container_resources_memory_rss_bytes", id),
                     static_cast<double>(k1["total_rss"] + k1["total_mapped_file"]));
    EXPECT_DOUBLE_EQ(Value(m3, "container_resources_memory_cache_bytes", id), static_cast<double>(k1["total_cache"]));
  }
  std::printf("oom: kernel oom_kill=%lu, reported oom_kills=%.0f restarts=%.0f\n", static_cast<unsigned long>(kernel),
              Value(m2, "container_oom_kills_total", id), Value(m2, "container_restarts_total", id));
}

std::string g_write_path;

void Write16MiB() {
  int fd = open(g_write_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) _exit(6);
  void* buf = nullptr;
  if (posix_memalign(&buf, 4096, 1 << 20) != 0) _exit(7);
  memset(buf, 0x5a, 1 << 20);
  for (int i = 0; i < 16; i++)
    if (write(fd, buf, 1 << 20) != (1 << 20)) _exit(8);
  if (fsync(fd) != 0) _exit(9);
  close(fd);
  for (;;) pause();  // stay alive so the registry can read its mounts
}

TEST(ContainersCgroupTest, DiskWriterBytesMatchBlkio) {
  TestCgroup cg(TestCgroupName("disk"));
  REQUIRE_ROOT_AND(cg);
  // The file goes next to the test binary: a real filesystem, never tmpfs.
  std::string dir = ::testing::TempDir();
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string self(exe, static_cast<size_t>(n));
    dir = self.substr(0, self.rfind('/'));
  }
  struct stat st {};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  std::string mm = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  auto dev = ResolveBlockDevice("/sys", mm);
  if (!dev.ok()) GTEST_SKIP() << dir << " is not on a block device (" << mm << ")";
  // blk-throttle counts a cgroup's I/O only once a rule exists for the device (seen on 6.x);
  // a rule that limits nothing turns the counters on.
  ASSERT_TRUE(cg.Set("blkio", "blkio.throttle.write_bps_device", dev->disk_major_minor + " 100000000000"));
  g_write_path = dir + "/coroot-disk-test-" + std::to_string(getpid()) + ".bin";
  int go = -1;
  pid_t pid = cg.Spawn(Write16MiB, &go);
  ASSERT_GT(pid, 0);
  Go(go);
  // Wait for the 16 MiB to reach the disk.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  cgroup::IoStats io;
  while (std::chrono::steady_clock::now() < deadline) {
    auto bytes = ReadFile(cg.dir("blkio") + "/blkio.throttle.io_service_bytes");
    auto ops = ReadFile(cg.dir("blkio") + "/blkio.throttle.io_serviced");
    if (bytes.ok() && ops.ok()) io = cgroup::ParseBlkio(*ops, *bytes);
    if (io[dev->disk_major_minor].written_bytes >= (16u << 20)) break;
    std::this_thread::sleep_for(100ms);
  }
  unlink(g_write_path.c_str());
  ASSERT_GE(io[dev->disk_major_minor].written_bytes, 16u << 20) << "blkio did not count the writes";

  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  // The writer is done, but the filesystem may still add journal writes: bracket the gather
  // between two reads of the kernel's counters.
  auto read_io = [&] {
    auto bytes = ReadFile(cg.dir("blkio") + "/blkio.throttle.io_service_bytes");
    auto ops = ReadFile(cg.dir("blkio") + "/blkio.throttle.io_serviced");
    return bytes.ok() && ops.ok() ? cgroup::ParseBlkio(*ops, *bytes)[dev->disk_major_minor] : cgroup::IoStat{};
  };
  cgroup::IoStat before = read_io();
  auto m = Gather(r);
  cgroup::IoStat after = read_io();
  const std::string id = cg.path();
  const prom::Sample* written = Find(m, "container_resources_disk_written_bytes_total", id, {{"device", dev->name}});
  ASSERT_NE(written, nullptr);
  EXPECT_GE(written->value, 16 << 20);
  EXPECT_LE(static_cast<double>(before.written_bytes), written->value);
  EXPECT_LE(written->value, static_cast<double>(after.written_bytes));
  double writes = Value(m, "container_resources_disk_writes_total", id, {{"device", dev->name}});
  EXPECT_LE(static_cast<double>(before.writes), writes);
  EXPECT_LE(writes, static_cast<double>(after.writes));
  EXPECT_GT(Value(m, "container_resources_disk_size_bytes", id, {{"device", dev->name}}), 0);
  std::string mount_point;
  for (const auto& l : written->labels)
    if (l.name == "mount_point") mount_point = l.value;
  std::printf("disk writer: %s on %s (%s): written %.0f bytes in %.0f writes\n", dir.c_str(), dev->name.c_str(),
              mount_point.c_str(), written->value,
              Value(m, "container_resources_disk_writes_total", id, {{"device", dev->name}}));
}

// Writes 4 KiB and waits for the disk, 64 times: the process sleeps in block I/O.
void SyncWriter() {
  int fd = open(g_write_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) _exit(7);
  char buf[4096];
  memset(buf, 0x5a, sizeof buf);
  for (int i = 0; i < 64; i++)
    if (write(fd, buf, sizeof buf) != static_cast<ssize_t>(sizeof buf) || fdatasync(fd) != 0) _exit(8);
  close(fd);
  for (;;) pause();
}

std::vector<std::string> Fields(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// The kernel's own run-queue wait of a single-threaded process (schedstat's second field, ns).
double RunDelaySeconds(pid_t pid) {
  auto s = ReadFile("/proc/" + std::to_string(pid) + "/schedstat");
  if (!s.ok()) return -1;
  std::vector<std::string> f = Fields(*s);
  return f.size() >= 2 ? static_cast<double>(std::stoull(f[1])) / 1e9 : -1;
}

// delayacct_blkio_ticks, field 42 of /proc/<pid>/stat, in clock ticks.
double BlkioDelaySeconds(pid_t pid) {
  auto s = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!s.ok()) return -1;
  std::vector<std::string> f = Fields(s->substr(s->rfind(')') + 2));  // fields from 3 on
  return f.size() >= 40 ? static_cast<double>(std::stoull(f[39])) / static_cast<double>(sysconf(_SC_CLK_TCK)) : -1;
}

TEST(ContainersCgroupTest, CpuAndDiskDelaysMatchTheKernel) {
  // Delay accounting is turned on by the registry; do it before the children are forked, as the
  // kernel gives a process its block-I/O delay record at fork only while it is on.
  ASSERT_TRUE(EnableDelayAccounting("/proc").ok());
  TestCgroup cg(TestCgroupName("delay"));
  REQUIRE_ROOT_AND(cg);
  std::string dir = ::testing::TempDir();
  char exe[4096];
  if (ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1); n > 0) {
    std::string self(exe, static_cast<size_t>(n));
    dir = self.substr(0, self.rfind('/'));  // a real filesystem, never tmpfs
  }
  g_write_path = dir + "/coroot-delay-test-" + std::to_string(getpid()) + ".bin";
  // Two burners on one CPU: each is runnable while the other runs, so both wait for the CPU.
  std::vector<pid_t> burners = SpawnStarted(cg, BurnOnCpu0, 2);
  const pid_t b1 = burners[0], b2 = burners[1], w = SpawnStarted(cg, SyncWriter, 1)[0];
  ASSERT_GT(b1, 0);
  ASSERT_GT(b2, 0);
  ASSERT_GT(w, 0);

  RegistryOptions o = LiveRegistryOptions();
  o.delay_accounting = true;
  ContainerRegistry r(o);
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  std::this_thread::sleep_for(1500ms);
  unlink(g_write_path.c_str());
  const std::string id = cg.path();
  auto kernel_cpu = [&] { return RunDelaySeconds(b1) + RunDelaySeconds(b2) + RunDelaySeconds(w); };
  double cpu_before = kernel_cpu(), disk_before = BlkioDelaySeconds(w);
  auto m = Gather(r);
  double cpu_after = kernel_cpu(), disk_after = BlkioDelaySeconds(w);
  double cpu = Value(m, "container_resources_cpu_delay_seconds_total", id);
  double disk = Value(m, "container_resources_disk_delay_seconds_total", id);
  std::printf("delays: cpu %.3f s (kernel %.3f..%.3f), disk %.3f s (kernel %.2f..%.2f)\n", cpu, cpu_before,
              cpu_after, disk, disk_before, disk_after);
  // The two burners shared one CPU for 1.5 s: together they waited for about that long.
  EXPECT_GT(cpu, 0.5);
  EXPECT_LE(cpu_before, cpu + 1e-9);
  EXPECT_LE(cpu, cpu_after + 1e-9);
  // The kernel rounds /proc's figure down to whole ticks.
  EXPECT_GT(disk, 0);
  EXPECT_LE(disk_before, disk + 1e-9);
  EXPECT_LE(disk, disk_after + 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK)));

  // A process that exits takes its delays out of the kernel's figures, not out of the counter.
  kill(b2, SIGKILL);
  waitpid(b2, nullptr, 0);
  r.Scan();
  auto m2 = Gather(r);
  EXPECT_GE(Value(m2, "container_resources_cpu_delay_seconds_total", id), cpu);
}

// Limits are kept between gathers and read again after a write (inotify): each change shows at
// the next gather, and a gather with no write in between gives the same values.
TEST(ContainersCgroupTest, LimitsWrittenBetweenGathersShowAtTheNextGather) {
  TestCgroup cg(TestCgroupName("limits"));
  REQUIRE_ROOT_AND(cg);
  int go = -1;
  ASSERT_GT(cg.Spawn(Sleep, &go), 0);
  Go(go);
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  const std::string id = cg.path();
  auto m = Gather(r);
  EXPECT_EQ(Find(m, "container_resources_cpu_limit_cores", id), nullptr);
  EXPECT_EQ(Find(m, "container_resources_memory_limit_bytes", id), nullptr);
  for (int i = 1; i <= 3; i++) {
    ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_period_us", std::to_string(100000 * i)));
    ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_quota_us", std::to_string(50000 * i * i)));
    ASSERT_TRUE(cg.Set("memory", "memory.limit_in_bytes", std::to_string((64 + i) << 20)));
    for (int again = 0; again < 2; again++) {
      m = Gather(r);
      EXPECT_DOUBLE_EQ(Value(m, "container_resources_cpu_limit_cores", id), 0.5 * i) << i;
      EXPECT_DOUBLE_EQ(Value(m, "container_resources_memory_limit_bytes", id), (64 + i) << 20) << i;
    }
  }
  ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_quota_us", "-1"));
  m = Gather(r);
  EXPECT_EQ(Find(m, "container_resources_cpu_limit_cores", id), nullptr);
}

void SleepInOwnMountNamespace() {
  if (unshare(CLONE_NEWNS) != 0) _exit(4);
  mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
  for (;;) pause();
}

// The disk series a container's process gives when its own mountinfo and statfs are read, as the
// registry did before containers with one mount view shared them: (mount point, device) → size.
std::map<std::pair<std::string, std::string>, double> OwnDisks(pid_t pid) {
  std::map<std::pair<std::string, std::string>, double> out;
  std::string root = "/proc/" + std::to_string(pid);
  StatusOr<std::string> mi = ReadFile(root + "/mountinfo", 4 << 20);
  EXPECT_TRUE(mi.ok());
  if (!mi.ok()) return out;
  std::map<std::string, Mount> by_device;
  for (Mount& m : ParseMountinfo(*mi)) {
    if (StartsWith(m.major_minor, "0:")) continue;
    auto it = by_device.find(m.major_minor);
    if (it == by_device.end()) {
      if (by_device.size() < 16) by_device.emplace(m.major_minor, std::move(m));
      continue;
    }
    bool better = (m.root == "/") != (it->second.root == "/") ? m.root == "/"
                                                              : m.mount_point.size() < it->second.mount_point.size();
    if (better) it->second = std::move(m);
  }
  for (const auto& [mm, m] : by_device) {
    StatusOr<BlockDevice> dev = ResolveBlockDevice("/sys", mm);
    StatusOr<FsUsage> u = StatFs(root + "/root" + m.mount_point);
    if (dev.ok() && u.ok()) out[{m.mount_point, dev->name}] = static_cast<double>(u->size_bytes);
  }
  return out;
}

// Two containers in the test's mount namespace share one mountinfo read per refresh and one
// statfs per filesystem per gather; a third in a namespace of its own does not. Each must report
// what its own process's files give, across a refresh (every 10 gathers).
TEST(ContainersCgroupTest, ContainersInOneMountViewReportTheirOwnDisks) {
  TestCgroup a(TestCgroupName("view-a")), b(TestCgroupName("view-b")), c(TestCgroupName("view-c"));
  REQUIRE_ROOT_AND(a);
  REQUIRE_ROOT_AND(b);
  REQUIRE_ROOT_AND(c);
  int ga = -1, gb = -1, gc = -1;
  pid_t pids[] = {a.Spawn(Sleep, &ga), b.Spawn(Sleep, &gb), c.Spawn(SleepInOwnMountNamespace, &gc)};
  ASSERT_GT(pids[0], 0);
  ASSERT_GT(pids[1], 0);
  ASSERT_GT(pids[2], 0);
  Go(ga);
  Go(gb);
  Go(gc);
  struct stat own {}, other {};
  ASSERT_EQ(stat("/proc/self/ns/mnt", &own), 0);
  for (int i = 0; i < 100; i++) {  // until the third has its own namespace
    if (stat(("/proc/" + std::to_string(pids[2]) + "/ns/mnt").c_str(), &other) == 0 && other.st_ino != own.st_ino) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(other.st_ino, own.st_ino);
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  r.Scan();
  const std::string ids[] = {a.path(), b.path(), c.path()};
  for (int gather = 0; gather < 12; gather++) {
    auto m = Gather(r);
    for (int i = 0; i < 3; i++) {
      std::map<std::pair<std::string, std::string>, double> got;
      for (const auto& f : m)
        if (f.name == "container_resources_disk_size_bytes")
          for (const auto& s : f.samples) {
            std::string id, mp, dev;
            for (const auto& l : s.labels) {
              if (l.name == "container_id") id = l.value;
              if (l.name == "mount_point") mp = l.value;
              if (l.name == "device") dev = l.value;
            }
            if (id == ids[i]) got[{mp, dev}] = s.value;
          }
      EXPECT_EQ(got, OwnDisks(pids[i])) << ids[i] << " at gather " << gather;
      EXPECT_FALSE(got.empty()) << ids[i];
    }
  }
}

std::string g_java_dir;

void RunJava() {
  std::string src = g_java_dir + "/Hold.java";
  execlp("java", "java", "-Xmx256m", src.c_str(), static_cast<char*>(nullptr));
  _exit(127);
}

TEST(ContainersCgroupTest, JvmInAContainerReportsItsHeapAndGc) {
  TestCgroup cg(TestCgroupName("jvm"));
  REQUIRE_ROOT_AND(cg);
  if (std::system("command -v java >/dev/null 2>&1") != 0) GTEST_SKIP() << "no java";
  g_java_dir = ::testing::TempDir() + "/coroot-jvm-" + std::to_string(getpid());
  std::filesystem::create_directories(g_java_dir);
  ASSERT_TRUE(WriteFileAtomic(g_java_dir + "/Hold.java",
                              "public class Hold { public static void main(String[] a) throws Exception {"
                              " byte[][] k = new byte[32][]; for (int i = 0; i < 32; i++) k[i] = new byte[1 << 20];"
                              " System.gc(); System.out.println(\"ready\"); Thread.sleep(600000); } }\n")
                  .ok());
  int go = -1;
  pid_t pid = cg.Spawn(RunJava, &go);
  ASSERT_GT(pid, 0);
  Go(go);
  ContainerRegistry r(LiveRegistryOptions());
  const std::string id = cg.path();
  // The JVM is ready once its perf data names the program and the full GC has run.
  const prom::Sample* gc = nullptr;
  std::vector<prom::MetricFamily> m;
  for (int i = 0; i < 150 && gc == nullptr; i++) {
    std::this_thread::sleep_for(200ms);
    r.Scan();
    m = Gather(r);
    gc = Find(m, "container_jvm_gc_time_seconds", id, {{"gc", "G1 full collection pauses"}});
    if (gc && gc->value == 0) gc = nullptr;
  }
  std::filesystem::remove_all(g_java_dir);
  ASSERT_NE(gc, nullptr) << "no JVM metrics for " << id;
  const std::string jvm = "jdk.compiler/com.sun.tools.javac.launcher.Main " + g_java_dir + "/Hold.java";
  const prom::Sample* info = Find(m, "container_jvm_info", id, {{"jvm", jvm}});
  ASSERT_NE(info, nullptr);
  std::string version;
  for (const auto& l : info->labels)
    if (l.name == "java_version") version = l.value;
  EXPECT_FALSE(version.empty());
  // The values are the ones in the JVM's own perf-data file.
  auto direct = ReadJvmStats("/proc", pid);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  double used = Value(m, "container_jvm_heap_used_bytes", id, {{"jvm", jvm}});
  EXPECT_GE(used, 32 << 20);
  EXPECT_GE(Value(m, "container_jvm_heap_size_bytes", id, {{"jvm", jvm}}), used);
  EXPECT_DOUBLE_EQ(Value(m, "container_jvm_heap_max_size_bytes", id, {{"jvm", jvm}}), direct->heap_max_size_bytes);
  EXPECT_DOUBLE_EQ(Value(m, "container_application_type", id, {{"application_type", "java"}}), 1);
  // A JVM stopped by SIGTERM removes its perf-data file; make sure it is gone either way.
  kill(pid, SIGTERM);
  cg.Wait(pid);
  unlink(("/tmp/hsperfdata_" + std::string(getenv("USER") ? getenv("USER") : "root") + "/" + std::to_string(pid)).c_str());
  std::printf("jvm %s (java %s): heap used %.1f MiB, full GC %.3f s\n", jvm.c_str(), version.c_str(), used / (1 << 20),
              gc->value);
}

int g_ns_result_fd = -1;
std::string g_host_ns;  // the test process's namespace stands in for the host's (PID 1's may be closed to us)

// In a new cgroup namespace, a process sees its own cgroup as "/"; the base path from the host's
// namespace puts it back where it is.
void ReportFromOwnCgroupNamespace() {
  std::string out;
  if (unshare(CLONE_NEWCGROUP) != 0) {
    out = "unshare failed";
  } else {
    auto own = ReadFile("/proc/self/cgroup");
    auto base = cgroup::HostCgroupBasePath(g_host_ns);
    auto as_seen = own.ok() ? cgroup::ParseProcCgroup(*own) : StatusOr<cgroup::ProcCgroup>(Internal("read"));
    auto joined = own.ok() && base.ok() ? cgroup::ParseProcCgroup(*own, *base)
                                        : StatusOr<cgroup::ProcCgroup>(Internal("base"));
    out = (base.ok() ? *base : base.status().ToString()) + "\n" + (as_seen.ok() ? as_seen->Id() : "?") + "\n" +
          (joined.ok() ? joined->Id() : "?") + "\n";
  }
  if (write(g_ns_result_fd, out.data(), out.size()) < 0) _exit(2);
}

TEST(ContainersCgroupTest, AgentInItsOwnCgroupNamespaceFindsTheHostPaths) {
  TestCgroup cg(TestCgroupName("ns"));
  REQUIRE_ROOT_AND(cg);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  g_ns_result_fd = p[1];
  g_host_ns = "/proc/" + std::to_string(getpid()) + "/ns/cgroup";
  int go = -1;
  pid_t pid = cg.Spawn(ReportFromOwnCgroupNamespace, &go);
  ASSERT_GT(pid, 0);
  Go(go);
  close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  cg.Wait(pid);
  std::vector<std::string> lines = Split(out, '\n');
  ASSERT_GE(lines.size(), 3u) << out;
  const std::string expected = cg.path();
  EXPECT_EQ(lines[0], expected) << "base path";
  EXPECT_EQ(lines[1], "") << "inside its namespace the process is at the root";
  EXPECT_EQ(lines[2], expected) << "joined with the base path";
}

}  // namespace
}  // namespace coroot::agent::containers
