// The eBPF cgroup iterator (bpf/cgroup_stats.bpf.c) against the kernel's own cgroup files for the
// same cgroups, and the registry taking containers' CPU throttling and pressure from it. Needs
// root and eBPF.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "agent/containers/cgroup_counters.h"
#include "agent/containers/registry.h"
#include "agent/containers/test_cgroup.h"
#include "agent/tracer/cgroup_stats_iter.h"
#include "lib/base/file.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/psi.h"

namespace coroot::agent::containers {
namespace {

using namespace std::chrono_literals;

#define REQUIRE_ROOT_AND(cg)                                       \
  if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, BPF)"; \
  if (!(cg).ok()) GTEST_SKIP() << "cannot make test cgroups: " << (cg).error()

// The iterator over this host's hierarchies, as main.cc starts it.
std::shared_ptr<tracer::CgroupStatsIter> StartIter(std::string* error) {
  cgroup::CgroupFs fs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
  auto it = tracer::CgroupStatsIter::Start({fs.V1("cpu", ""), fs.V1("memory", ""), fs.v2_root});
  if (!it.ok()) {
    *error = it.status().ToString();
    return nullptr;
  }
  return std::move(it).value();
}

// Every record of the iterator now, by cgroup key.
std::map<std::pair<uint64_t, uint64_t>, coroot_cgroup_stat> Snapshot(tracer::CgroupStatsIter& it) {
  std::map<std::pair<uint64_t, uint64_t>, coroot_cgroup_stat> out;
  Status st = it.Read([&](uint64_t dev, const coroot_cgroup_stat& r) { out[{dev, r.id}] = r; });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

const coroot_cgroup_stat* Find(const std::map<std::pair<uint64_t, uint64_t>, coroot_cgroup_stat>& s,
                               const std::string& dir) {
  CgroupKey k = KeyOf(dir);
  auto it = s.find({k.dev, k.ino});
  return it == s.end() ? nullptr : &it->second;
}

uint64_t FileInt(const std::string& path) {
  auto text = ReadFile(path, 4096);
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? std::stoull(*text) : 0;
}

uint64_t FlatValue(const std::string& path, const std::string& key) {
  auto v = cgroup::ReadFlatKeyed(path);
  EXPECT_TRUE(v.ok()) << path;
  if (!v.ok() || !v->count(key)) return 0;
  return v->at(key);
}

// A child body: writes and syncs a file for ever (I/O pressure in its cgroup).
void SyncWriter() {
  char path[64];
  std::snprintf(path, sizeof(path), "/var/tmp/coroot-cgroup-counters-%d", getpid());
  FILE* f = std::fopen(path, "w");
  if (!f) _exit(5);
  unlink(path);
  char block[4096] = {1};
  for (;;) {
    std::fwrite(block, sizeof(block), 1, f);
    std::fflush(f);
    fdatasync(fileno(f));
  }
}

// A child body: reads a 48 MiB file again and again under the cgroup's 16 MiB memory limit, so
// the kernel reclaims its page cache all the time (memory pressure in its cgroup).
void CacheChurner() {
  char path[64];
  std::snprintf(path, sizeof(path), "/var/tmp/coroot-cgroup-churn-%d", getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) _exit(5);
  unlink(path);
  static char block[1 << 20];
  for (int i = 0; i < 48; i++)
    if (write(fd, block, sizeof(block)) != static_cast<ssize_t>(sizeof(block))) _exit(6);
  for (;;)
    for (off_t off = 0; off < (48 << 20); off += sizeof(block))
      if (pread(fd, block, sizeof(block), off) < 0) _exit(7);
}

// Two burners on one CPU with half a core allowed, a writer syncing every 4 KiB and a reader
// churning its page cache under a memory limit: throttling and CPU, I/O and memory pressure all
// grow.
TEST(CgroupCountersBpfTest, IteratorMatchesTheKernelFilesOfBusyCgroups) {
  TestCgroup cg(TestCgroupName("counters"));
  REQUIRE_ROOT_AND(cg);
  if (cg.dir("v2").empty()) GTEST_SKIP() << "no writable cgroup v2 here (pressure lives there)";
  std::string error;
  auto it = StartIter(&error);
  ASSERT_TRUE(it) << error;
  ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_period_us", "100000"));
  ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_quota_us", "50000"));
  ASSERT_TRUE(cg.Set("memory", "memory.limit_in_bytes", std::to_string(16 << 20)));
  SpawnStarted(cg, BurnOnCpu0, 2);
  SpawnStarted(cg, SyncWriter, 1);
  SpawnStarted(cg, CacheChurner, 1);
  std::this_thread::sleep_for(3s);  // past the kernel's 2 s PSI aggregation at least once

  // The iterator, then the files: each file value is at least the iterator's and not far above.
  auto snap = Snapshot(*it);
  const coroot_cgroup_stat* cpu = Find(snap, cg.dir("cpu"));
  const coroot_cgroup_stat* v2 = Find(snap, cg.dir("v2"));
  ASSERT_TRUE(cpu && v2) << snap.size() << " cgroups in the snapshot, not the test's";
  EXPECT_TRUE(cpu->flags & COROOT_CGROUP_CPU_BW);
  EXPECT_TRUE(v2->flags & COROOT_CGROUP_PSI);
  uint64_t throttled = FlatValue(cg.dir("cpu") + "/cpu.stat", "throttled_time");
  std::printf("throttled: iterator %.4f s, file %.4f s\n", cpu->throttled_ns / 1e9, throttled / 1e9);
  EXPECT_GT(cpu->throttled_ns, 500'000'000u);  // 2 tasks, half a core, 3 s
  EXPECT_LE(cpu->throttled_ns, throttled);
  EXPECT_LT(throttled - cpu->throttled_ns, 300'000'000u);  // at most a few 100 ms periods

  // A pressure file's read brings the group's totals up to date, so the iterator right after it
  // reads the same totals (µs in the file, ns here): this checks each of the six fields.
  auto cpu_p = cgroup::ParsePressure(*ReadFile(cg.dir("v2") + "/cpu.pressure", 4096));
  auto io_p = cgroup::ParsePressure(*ReadFile(cg.dir("v2") + "/io.pressure", 4096));
  auto mem_p = cgroup::ParsePressure(*ReadFile(cg.dir("v2") + "/memory.pressure", 4096));
  ASSERT_TRUE(cpu_p.ok() && io_p.ok() && mem_p.ok());
  v2 = Find(snap = Snapshot(*it), cg.dir("v2"));
  ASSERT_TRUE(v2);
  const struct {
    const char* what;
    double file_s;
    int index;
  } fields[] = {{"cpu some", cpu_p->some_seconds, COROOT_PSI_CPU_SOME},
                {"cpu full", cpu_p->full_seconds, COROOT_PSI_CPU_FULL},
                {"io some", io_p->some_seconds, COROOT_PSI_IO_SOME},
                {"io full", io_p->full_seconds, COROOT_PSI_IO_FULL},
                {"memory some", mem_p->some_seconds, COROOT_PSI_MEM_SOME},
                {"memory full", mem_p->full_seconds, COROOT_PSI_MEM_FULL}};
  for (const auto& f : fields) {
    double iter_s = v2->psi_total_ns[f.index] / 1e9;
    std::printf("pressure %-11s iterator %.6f s, file %.6f s\n", f.what, iter_s, f.file_s);
    EXPECT_GE(iter_s + 1e-6, f.file_s) << f.what;  // the file truncates to µs
    EXPECT_LT(iter_s - f.file_s, 0.05) << f.what;   // the other files' reads came between
  }
  EXPECT_GT(cpu_p->some_seconds, 0.5);  // two tasks on one throttled CPU wait most of the time
  EXPECT_GT(io_p->some_seconds, 0.0);
  EXPECT_GT(mem_p->some_seconds, 0.0);
}

// A hierarchy with more cgroups than one read() of the iterator holds (about 450: the kernel's
// 32 KB buffer) is read whole, in shards: every one of 1,200 cgroups made here is in the snapshot.
TEST(CgroupCountersBpfTest, LargeHierarchiesAreReadWhole) {
  TestCgroup cg(TestCgroupName("counters-many"));
  REQUIRE_ROOT_AND(cg);
  std::string error;
  auto it = StartIter(&error);
  ASSERT_TRUE(it) << error;
  constexpr int kChildren = 1200;
  std::vector<std::string> made;
  for (const char* h : {"cpu", "v2"}) {
    if (cg.dir(h).empty()) continue;
    for (int i = 0; i < kChildren; i++) {
      std::string d = cg.dir(h) + "/c" + std::to_string(i);
      if (mkdir(d.c_str(), 0755) == 0) made.push_back(d);
    }
  }
  ASSERT_GE(made.size(), static_cast<size_t>(kChildren)) << "could not make the child cgroups";
  auto snap = Snapshot(*it);
  size_t found = 0;
  for (const std::string& d : made) found += Find(snap, d) != nullptr;
  EXPECT_EQ(found, made.size()) << snap.size() << " records";
  uint32_t most = 0;
  for (const std::string& root : it->roots()) most = std::max(most, it->shards(root));
  std::printf("%zu cgroups made, %zu records, up to %u shards per hierarchy\n", made.size(), snap.size(), most);
  EXPECT_GT(most, 1u);
  for (auto d = made.rbegin(); d != made.rend(); ++d) rmdir(d->c_str());
}

// The registry takes a container's throttling and pressure from the snapshot: the same figures as
// from its files (read just after); when the snapshot cannot be read, from the files.
TEST(CgroupCountersBpfTest, RegistryReportsTheIteratorsFigures) {
  TestCgroup cg(TestCgroupName("counters-registry"));
  REQUIRE_ROOT_AND(cg);
  std::string error;
  auto it = StartIter(&error);
  ASSERT_TRUE(it) << error;
  ASSERT_TRUE(cg.Set("cpu", "cpu.cfs_quota_us", "50000"));
  SpawnStarted(cg, BurnOnCpu0, 2);
  std::this_thread::sleep_for(2500ms);

  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  bool fail_reads = false;
  size_t reads = 0;
  auto reader = tracer::CgroupCountersReader(it);
  // The iterator's figures plus 1000 s, so that the registry's series show where they came from.
  constexpr uint64_t kMark = 1000'000'000'000;
  r.SetCgroupCounters(std::make_unique<CgroupCountersSnapshot>(
      [&](const std::function<void(CgroupKey, const CgroupCounters&)>& fn) -> Status {
        reads++;
        if (fail_reads) return Unavailable("test: the iterator is gone");
        return reader([&](CgroupKey k, const CgroupCounters& c) {
          CgroupCounters marked = c;
          marked.throttled_ns += kMark;
          marked.cpu_some_ns += kMark;
          fn(k, marked);
        });
      }));
  r.Scan();
  auto value = [&](const std::string& metric, const std::string& kind) { return ReportedValue(r, metric, cg.path(), kind); };
  for (bool from_files : {false, true}) {
    fail_reads = from_files;
    SCOPED_TRACE(from_files ? "files" : "iterator");
    double usage = value("container_resources_cpu_usage_seconds_total", "");
    double file_usage = FileInt(cg.dir("cpuacct") + "/cpuacct.usage") / 1e9;
    EXPECT_GT(usage, 0.5);
    EXPECT_LE(usage, file_usage);
    EXPECT_LT(file_usage - usage, 0.05);
    const double mark = from_files ? 0 : kMark / 1e9;
    double throttled = value("container_resources_cpu_throttled_seconds_total", "") - mark;
    EXPECT_GT(throttled, 0.5);
    EXPECT_LE(throttled, FlatValue(cg.dir("cpu") + "/cpu.stat", "throttled_time") / 1e9 + 1e-6);
    EXPECT_DOUBLE_EQ(value("container_resources_cpu_limit_cores", ""), 0.5);
    if (!cg.dir("v2").empty()) {
      double some = value("container_resources_cpu_pressure_waiting_seconds_total", "some") - mark;
      auto file = cgroup::ParsePressure(*ReadFile(cg.dir("v2") + "/cpu.pressure", 4096));
      ASSERT_TRUE(file.ok());
      EXPECT_GT(some, 0.5);
      EXPECT_LE(some, file->some_seconds + 1e-6);
      EXPECT_LT(file->some_seconds - some, 2.5);  // the kernel aggregates every 2 s
    }
  }
  EXPECT_GE(reads, 2u);
}

// Written to (by the test) when the AllocateOnSignal child should allocate.
int g_allocate_pipe[2] = {-1, -1};

// A child body: idle until a byte arrives on g_allocate_pipe, then 48 MiB of anonymous memory
// touched, then idle for ever.
void AllocateOnSignal() {
  char b;
  if (read(g_allocate_pipe[0], &b, 1) != 1) _exit(3);
  constexpr size_t kSize = 48 << 20;
  volatile char* p = static_cast<char*>(malloc(kSize));
  if (!p) _exit(4);
  for (size_t i = 0; i < kSize; i += 4096) p[i] = 1;
  for (;;) pause();
}

// The memory fingerprint stands while the cgroup is idle and moves when its process allocates;
// the registry then reuses memory.stat's figures while idle and reports the new RSS after.
TEST(CgroupCountersBpfTest, MemoryFingerprintMovesWithTheCounters) {
  TestCgroup cg(TestCgroupName("counters-memory"));
  REQUIRE_ROOT_AND(cg);
  std::string error;
  auto it = StartIter(&error);
  ASSERT_TRUE(it) << error;
  const bool v1 = !cg.dir("memory").empty();
  const std::string mem_dir = v1 ? cg.dir("memory") : cg.dir("v2");
  ASSERT_FALSE(mem_dir.empty());
  ASSERT_EQ(pipe(g_allocate_pipe), 0);
  SpawnStarted(cg, AllocateOnSignal, 1);
  auto rss_file = [&] {
    return v1 ? FlatValue(mem_dir + "/memory.stat", "total_rss") : FlatValue(mem_dir + "/memory.stat", "anon");
  };

  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  r.SetCgroupCounters(std::make_unique<CgroupCountersSnapshot>(tracer::CgroupCountersReader(it)));
  r.Scan();
  auto rss_reported = [&] { return ReportedValue(r, "container_resources_memory_rss_bytes", cg.path()); };

  // Idle: past the kernel's 2 s flush of the start's counters, then across another flush.
  std::this_thread::sleep_for(2500ms);
  const coroot_cgroup_stat* rec = Find(Snapshot(*it), mem_dir);
  ASSERT_TRUE(rec) << "the memory cgroup is not in the snapshot";
  ASSERT_TRUE(rec->flags & COROOT_CGROUP_MEMORY);
  const uint64_t idle = rec->memory_fingerprint;
  const double rss_idle = rss_reported();
  EXPECT_GE(rss_idle, 0.0);
  auto before = r.MemoryStatReads();
  std::this_thread::sleep_for(2500ms);
  rec = Find(Snapshot(*it), mem_dir);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->memory_fingerprint, idle) << "an idle cgroup's counters moved";
  EXPECT_EQ(rss_reported(), rss_idle);
  auto after = r.MemoryStatReads();
  EXPECT_EQ(after.reused, before.reused + 1) << "memory.stat was read again for an idle cgroup";

  // 48 MiB allocated: the fingerprint moves within the kernel's 2 s flush, and the registry reads
  // memory.stat again and reports the new RSS.
  const uint64_t rss0 = rss_file();
  char b = 1;
  ASSERT_EQ(write(g_allocate_pipe[1], &b, 1), 1);
  uint64_t moved = idle;
  for (int i = 0; i < 60 && moved == idle; i++) {
    std::this_thread::sleep_for(100ms);
    if ((rec = Find(Snapshot(*it), mem_dir))) moved = rec->memory_fingerprint;
  }
  EXPECT_NE(moved, idle) << "the fingerprint did not move in 6 s";
  EXPECT_GE(rss_file(), rss0 + (40u << 20));
  const double rss_now = rss_reported();
  std::printf("rss reported: idle %.0f, after allocating %.0f (file %llu)\n", rss_idle, rss_now,
              static_cast<unsigned long long>(rss_file()));
  EXPECT_GE(rss_now, rss_idle + (40 << 20));
  close(g_allocate_pipe[0]);
  close(g_allocate_pipe[1]);
}

}  // namespace
}  // namespace coroot::agent::containers
