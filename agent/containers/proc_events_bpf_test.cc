// eBPF process events into the container registry, against the real kernel (label `bpf`, root):
// the test makes its own cgroups, runs real processes in them (a burst of short-lived ones, a
// memory hog the kernel OOM-kills), and checks what the registry learned from ProcTracer's
// events. Only events of the test's cgroups matter: other processes on the machine go to other
// containers or to none.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <chrono>
#include <cstring>
#include <optional>
#include <cstdlib>
#include <thread>

#include "agent/containers/delay_source.h"
#include "agent/containers/proc_pid.h"
#include "agent/containers/registry.h"
#include "agent/containers/taskstats.h"
#include "agent/containers/test_cgroup.h"
#include "agent/tracer/proc_tracer.h"
#include "lib/cgroup/cgroupfs.h"

namespace coroot::agent::containers {
namespace {

using namespace std::chrono_literals;

constexpr int kBurst = 50;

// Feeds the registry as the agent does (agent/main.cc).
std::unique_ptr<tracer::ProcTracer> StartEvents(ContainerRegistry* r, tracer::ProcTracerOptions o = {}) {
  auto t = tracer::ProcTracer::Start(o, [r](const coroot_proc_event& e) {
    if (e.type == COROOT_PROC_START) r->OnProcessStart(static_cast<int>(e.pid), e.cgroup_id, e.ts_ns);
    if (e.type == COROOT_PROC_MOVE) r->OnProcessMoved(static_cast<int>(e.pid));
    if (e.type == COROOT_PROC_EXIT)
      r->OnProcessExit(static_cast<int>(e.pid), e.cgroup_id, (e.flags & COROOT_PROC_OOM_KILLED) != 0);
  });
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

std::optional<ContainerInfo> Get(ContainerRegistry& r, const std::string& id) {
  for (ContainerInfo& c : r.Containers())
    if (c.id == id) return c;
  return std::nullopt;
}

// Waits (draining the ring) until pred holds for the container, or 10 s.
template <typename Pred>
std::optional<ContainerInfo> WaitFor(ContainerRegistry& r, tracer::ProcTracer& t, const std::string& id, Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::optional<ContainerInfo> c;
  while (std::chrono::steady_clock::now() < deadline) {
    t.Drain();
    c = Get(r, id);
    if (c && pred(*c)) break;
    std::this_thread::sleep_for(20ms);
  }
  return c;
}

// Forks kBurst children that exit at once (each waited for), then stays.
void Burst() {
  for (int i = 0; i < kBurst; i++) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    if (p > 0) waitpid(p, nullptr, 0);
  }
  for (;;) pause();
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

#define REQUIRE_ROOT_AND(cg)                                                      \
  if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, BPF)";                \
  if (!(cg).ok()) GTEST_SKIP() << "cannot make test cgroups: " << (cg).error()

TEST(ProcEventsBpfTest, BurstOfShortLivedProcessesIsAttributedWithoutAScan) {
  TestCgroup cg(TestCgroupName("burst"));
  REQUIRE_ROOT_AND(cg);
  if (cg.dir("v2").empty()) GTEST_SKIP() << "no writable cgroup v2 hierarchy: eBPF cgroup ids name nothing here";
  int go = -1;
  pid_t spawner = cg.Spawn(Burst, &go);
  ASSERT_GT(spawner, 0);

  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  auto events = StartEvents(&r);
  ASSERT_NE(events, nullptr);
  for (const auto& h : events->hooks()) EXPECT_TRUE(h.attached) << h.hook << ": " << h.error;
  r.SetProcessEvents(true);  // scans trust the pid cache, exits come as events
  // No scan: the container is known only from the events of its short-lived processes.
  Go(go);
  const std::string id = cg.path();
  auto c = WaitFor(r, *events, id, [](const ContainerInfo& c) {
    return c.processes_started >= kBurst && c.pids.empty();
  });
  ASSERT_TRUE(c) << "the registry did not learn " << id << " from process events";
  EXPECT_EQ(c->processes_started, static_cast<uint64_t>(kBurst));  // exactly the burst, nothing else
  EXPECT_TRUE(c->pids.empty()) << "every burst process has exited";
  EXPECT_EQ(c->type, cgroup::ContainerType::kSystemdService);

  // A scan then finds the long-lived spawner; the short-lived processes were no restart.
  r.Scan();
  c = Get(r, id);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pids, std::vector<int>{spawner});
  EXPECT_EQ(c->restarts, 0u);
  r.Scan();  // from the pid cache this time
  EXPECT_EQ(Get(r, id)->pids, std::vector<int>{spawner});
  // The spawner's exit is an event: the container has no process left, and a scan agrees.
  kill(spawner, SIGKILL);
  cg.Wait(spawner);
  c = WaitFor(r, *events, id, [](const ContainerInfo& c) { return c.pids.empty(); });
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->pids.empty());
  r.Scan();
  EXPECT_TRUE(Get(r, id)->pids.empty());
  std::printf("burst: %lu process starts seen in %s, %lu events in all\n",
              static_cast<unsigned long>(c->processes_started), id.c_str(),
              static_cast<unsigned long>(events->events()));
  EXPECT_EQ(events->kernel_drops(), 0u);
}

void Sleep() {
  for (;;) pause();
}

// How runc, systemd and shells start a container: the process forks outside the container's
// cgroup and is moved into it (here by TestCgroup::Spawn, from this test's process), and makes no
// further process. Its start event names the old cgroup; the move must attribute it.
TEST(ProcEventsBpfTest, ProcessMovedIntoAContainerIsAttributedWithoutAScan) {
  TestCgroup cg(TestCgroupName("moved"));
  REQUIRE_ROOT_AND(cg);
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  auto events = StartEvents(&r);
  ASSERT_NE(events, nullptr);
  r.SetProcessEvents(true);
  r.Scan();  // the last scan: from here on only events tell the registry anything
  int go = -1;
  pid_t pid = cg.Spawn(Sleep, &go);  // forked here, then moved into every hierarchy of cg
  ASSERT_GT(pid, 0);
  Go(go);
  const std::string id = cg.path();
  auto c = WaitFor(r, *events, id, [pid](const ContainerInfo& c) { return c.pids == std::vector<int>{pid}; });
  ASSERT_TRUE(c) << "the registry did not learn " << id << " from the move";
  EXPECT_EQ(c->pids, std::vector<int>{pid});
  EXPECT_EQ(c->processes_started, 0u) << "a move is not a process start";
  kill(pid, SIGKILL);
  cg.Wait(pid);
  c = WaitFor(r, *events, id, [](const ContainerInfo& c) { return c.pids.empty(); });
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->pids.empty());
}

// v1's `tasks` file moves one thread: the hook leaves that out (the registry would read /proc for
// a thread). A write to cgroup.procs moves the whole process: the kernel reports it once, by its
// leader, per hierarchy.
TEST(ProcEventsBpfTest, AMovedProcessIsReportedByItsLeaderOnly) {
  TestCgroup cg(TestCgroupName("movedthreads"));
  REQUIRE_ROOT_AND(cg);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {  // three threads besides the leader, all asleep, in the test's own cgroup
    for (int i = 0; i < 3; i++) {
      pthread_t t;
      pthread_create(&t, nullptr, [](void*) -> void* { for (;;) pause(); }, nullptr);
    }
    (void)!write(ready[1], "x", 1);
    for (;;) pause();
  }
  ASSERT_GT(pid, 0);
  char b;
  ASSERT_EQ(read(ready[0], &b, 1), 1);
  close(ready[0]);
  close(ready[1]);
  std::vector<int> tids;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task"))
    tids.push_back(std::atoi(e.path().filename().c_str()));
  ASSERT_EQ(tids.size(), 4u);

  std::mutex mu;  // the handler runs on the reader thread too
  std::map<uint32_t, int> moves;  // pid -> move events
  auto moves_of = [&](int p) {
    std::lock_guard<std::mutex> lock(mu);
    return moves.count(static_cast<uint32_t>(p)) ? moves[static_cast<uint32_t>(p)] : 0;
  };
  auto events = tracer::ProcTracer::Start({}, [&](const coroot_proc_event& e) {
    std::lock_guard<std::mutex> lock(mu);
    if (e.type == COROOT_PROC_MOVE) moves[e.pid]++;
  });
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_TRUE(cg.Set("cpu", "tasks", std::to_string(tids.back() == pid ? tids.front() : tids.back())));
  int hierarchies = 0;
  for (const char* h : {"cpu", "memory", "blkio", "v2"})
    if (!cg.dir(h).empty()) {
      EXPECT_TRUE(cg.Set(h, "cgroup.procs", std::to_string(pid))) << h;
      hierarchies++;
    }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (moves_of(pid) < hierarchies && std::chrono::steady_clock::now() < deadline) {
    (*events)->Drain();
    std::this_thread::sleep_for(20ms);
  }
  (*events)->Drain();
  (*events)->Stop();
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  // cpu and cpuacct may be one hierarchy (co-mounted): at least one event per write, each a move.
  EXPECT_GE(moves_of(pid), hierarchies) << "the leader's moves";
  for (int tid : tids)
    if (tid != pid) EXPECT_EQ(moves_of(tid), 0) << "thread " << tid << " was reported";
  std::printf("moved a 4-thread process in %d hierarchies: %d move events for its leader\n", hierarchies,
              moves_of(pid));
}

TEST(ProcEventsBpfTest, OomKillIsCountedFromMarkVictimAndExit) {
  TestCgroup cg(TestCgroupName("oomebpf"));
  REQUIRE_ROOT_AND(cg);
  ASSERT_TRUE(cg.Set("memory", "memory.limit_in_bytes", "52428800"));
  cg.Set("memory", "memory.memsw.limit_in_bytes", "52428800");  // no swap escape where swap exists
  int go = -1;
  pid_t hog = cg.Spawn(Hog, &go);
  ASSERT_GT(hog, 0);

  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  auto events = StartEvents(&r);
  ASSERT_NE(events, nullptr);
  ASSERT_TRUE(events->oom_hook_attached());
  r.SetOomKillsFromEbpf(true);  // from here on the cgroup's counter is not read
  r.Scan();
  const std::string id = cg.path();
  ASSERT_TRUE(Get(r, id)) << "the scan did not find " << id;

  Go(go);
  int status = cg.Wait(hog);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the hog was not killed, status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto c = WaitFor(r, *events, id, [](const ContainerInfo& c) { return c.oom_kills > 0; });
  ASSERT_TRUE(c);
  EXPECT_EQ(c->oom_kills, 1u);
  EXPECT_TRUE(c->pids.empty()) << "the exit event took the hog off";

  std::vector<prom::MetricFamily> fams;
  r.Collect(&fams);
  prom::Flatten(&fams);
  double reported = -1;
  for (const auto& f : fams)
    if (f.name == "container_oom_kills_total")
      for (const auto& s : f.samples)
        if (std::find(s.labels.begin(), s.labels.end(), prom::Label{"container_id", id}) != s.labels.end())
          reported = s.value;
  EXPECT_EQ(reported, 1);
  // The kernel agrees.
  auto oc = cgroup::ReadFlatKeyed(cg.dir("memory") + "/memory.oom_control");
  ASSERT_TRUE(oc.ok());
  EXPECT_EQ((*oc)["oom_kill"], 1u);
  std::printf("oom via eBPF: container_oom_kills_total=%.0f, kernel oom_kill=%lu\n", reported,
              static_cast<unsigned long>((*oc)["oom_kill"]));
}

// Without the mark_victim hook (as when it cannot attach) exits carry no OOM mark and the
// registry falls back to the cgroup's oom_kill counter.
TEST(ProcEventsBpfTest, WithoutTheOomHookTheCgroupCounterIsUsed) {
  TestCgroup cg(TestCgroupName("oomfallback"));
  REQUIRE_ROOT_AND(cg);
  ASSERT_TRUE(cg.Set("memory", "memory.limit_in_bytes", "52428800"));
  cg.Set("memory", "memory.memsw.limit_in_bytes", "52428800");
  int go = -1;
  pid_t hog = cg.Spawn(Hog, &go);
  ASSERT_GT(hog, 0);
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  tracer::ProcTracerOptions o;
  o.oom_hook = false;
  auto events = StartEvents(&r, o);
  ASSERT_NE(events, nullptr);
  EXPECT_FALSE(events->oom_hook_attached());
  r.Scan();
  const std::string id = cg.path();
  Go(go);
  int status = cg.Wait(hog);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto c = WaitFor(r, *events, id, [](const ContainerInfo& c) { return c.pids.empty(); });
  ASSERT_TRUE(c);
  EXPECT_EQ(c->oom_kills, 0u);  // the exit came, unmarked
  std::vector<prom::MetricFamily> fams;
  r.Collect(&fams);
  prom::Flatten(&fams);
  double reported = -1;
  for (const auto& f : fams)
    if (f.name == "container_oom_kills_total")
      for (const auto& s : f.samples)
        if (std::find(s.labels.begin(), s.labels.end(), prom::Label{"container_id", id}) != s.labels.end())
          reported = s.value;
  EXPECT_EQ(reported, 1);  // memory.oom_control's oom_kill
}


// The task iterator reads the same figures netlink taskstats gives, for the whole host in one
// read, and the registry's counters from it match taskstats' per-process answers.
TEST(ProcEventsBpfTest, TaskIteratorDelaysMatchTaskstats) {
  ASSERT_TRUE(EnableDelayAccounting("/proc").ok());
  TestCgroup cg(TestCgroupName("delayiter"));
  REQUIRE_ROOT_AND(cg);
  std::vector<pid_t> burners = SpawnStarted(cg, BurnOnCpu0, 2);
  const pid_t b1 = burners[0], b2 = burners[1];
  ASSERT_GT(b1, 0);
  ASSERT_GT(b2, 0);
  std::this_thread::sleep_for(1s);

  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  auto events = StartEvents(&r);
  ASSERT_NE(events, nullptr);
  auto ts = TaskstatsClient::Open();
  ASSERT_TRUE(ts.ok()) << ts.status().ToString();
  auto netlink_cpu = [&] {
    double sum = 0;
    for (pid_t p : {b1, b2}) {
      auto d = (*ts)->Tgid(p);
      EXPECT_TRUE(d.ok()) << d.status().ToString();
      if (d.ok()) sum += static_cast<double>(d->cpu_delay_ns);
    }
    return sum;
  };
  double before = netlink_cpu();
  auto tasks = events->ReadTaskDelays(tracer::ProcTracer::TaskSource::kIterator);
  double after = netlink_cpu();
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  double iter = 0;
  size_t seen = 0;
  for (const coroot_task_delay& t : *tasks)
    if (t.tgid == static_cast<uint32_t>(b1) || t.tgid == static_cast<uint32_t>(b2)) {
      iter += static_cast<double>(t.cpu_delay_ns);
      seen++;
    }
  std::printf("task iterator: %zu tasks on the host; the two burners waited %.3f s (taskstats %.3f..%.3f)\n",
              tasks->size(), iter / 1e9, before / 1e9, after / 1e9);
  EXPECT_EQ(seen, 2u);
  EXPECT_GT(tasks->size(), 10u);
  EXPECT_GT(iter, 0.2e9);
  EXPECT_LE(before, iter);
  EXPECT_LE(iter, after);

  // The registry on the iterator, as the agent runs it.
  r.SetDelaySource(std::make_unique<SnapshotDelaySource>(
      tracer::TaskDelaysReader(std::shared_ptr<tracer::ProcTracer>(events.get(), [](tracer::ProcTracer*) {}),
                               tracer::ProcTracer::TaskSource::kIterator)));
  r.Scan();
  auto value = [&] { return ReportedValue(r, "container_resources_cpu_delay_seconds_total", cg.path()); };
  double v1 = value();  // a new container: everything its tasks have
  std::this_thread::sleep_for(500ms);
  double k0 = netlink_cpu();
  double v2 = value();
  double k1 = netlink_cpu();
  EXPECT_GE(v1, iter / 1e9);
  EXPECT_LE(k0 / 1e9, v2 + 1e-9);
  EXPECT_LE(v2, k1 / 1e9 + 1e-9);
  std::printf("registry on the iterator: %.3f s then %.3f s (taskstats %.3f..%.3f)\n", v1, v2, k0 / 1e9, k1 / 1e9);
}

// The task walk (one run of a syscall program over the kernel's task list) gives every task the
// iterator gives, threads included, with figures between two iterator reads around it; the
// registry on it reports what taskstats reports.
TEST(ProcEventsBpfTest, TaskWalkAgreesWithTheIteratorAndTaskstats) {
  ASSERT_TRUE(EnableDelayAccounting("/proc").ok());
  TestCgroup cg(TestCgroupName("delaywalk"));
  REQUIRE_ROOT_AND(cg);
  std::vector<pid_t> burners = SpawnStarted(cg, BurnOnCpu0, 2);
  ASSERT_GT(burners[0], 0);
  ASSERT_GT(burners[1], 0);
  std::this_thread::sleep_for(1s);
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  auto events = StartEvents(&r);
  ASSERT_NE(events, nullptr);
  using Via = tracer::ProcTracer::TaskSource;
  auto before = events->ReadTaskDelays(Via::kIterator);
  std::map<uint32_t, coroot_task_delay> walked;
  Status st = events->ForEachTaskDelay([&](const coroot_task_delay& t) { walked[t.tid] = t; }, Via::kWalk);
  auto after = events->ReadTaskDelays(Via::kIterator);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(before.ok() && after.ok());
  std::map<uint32_t, coroot_task_delay> later;
  for (const auto& t : *after) later[t.tid] = t;
  size_t both = 0, threads = 0;
  for (const coroot_task_delay& t : *before) {
    auto l = later.find(t.tid);
    if (l == later.end() || l->second.tgid != t.tgid) continue;  // exited (or tid reused) meanwhile
    both++;
    auto w = walked.find(t.tid);
    if (w == walked.end()) {
      ADD_FAILURE() << "tid " << t.tid << " (tgid " << t.tgid << ") is not in the walk";
      continue;
    }
    threads += t.tid != t.tgid;
    EXPECT_EQ(w->second.tgid, t.tgid) << t.tid;
    EXPECT_LE(t.cpu_delay_ns, w->second.cpu_delay_ns) << t.tid;
    EXPECT_LE(w->second.cpu_delay_ns, l->second.cpu_delay_ns) << t.tid;
    EXPECT_LE(t.blkio_delay_ns, w->second.blkio_delay_ns) << t.tid;
    EXPECT_LE(w->second.blkio_delay_ns, l->second.blkio_delay_ns) << t.tid;
  }
  std::printf("task walk: %zu tasks, %zu alive across the iterator's two reads (%zu of them threads)\n",
              walked.size(), both, threads);
  EXPECT_GT(both, 10u);
  EXPECT_GT(threads, 0u);  // this test's own process runs the tracer's reader thread
  for (pid_t b : burners) {
    ASSERT_TRUE(walked.count(static_cast<uint32_t>(b)));
    EXPECT_GT(walked[static_cast<uint32_t>(b)].cpu_delay_ns, 100'000'000u);  // two burners on one CPU
  }

  // The registry on the walk, as the agent runs it.
  r.SetDelaySource(std::make_unique<SnapshotDelaySource>(
      tracer::TaskDelaysReader(std::shared_ptr<tracer::ProcTracer>(events.get(), [](tracer::ProcTracer*) {}), Via::kWalk)));
  r.Scan();
  auto ts = TaskstatsClient::Open();
  ASSERT_TRUE(ts.ok()) << ts.status().ToString();
  auto netlink_cpu = [&] {
    double sum = 0;
    for (pid_t p : burners)
      if (auto d = (*ts)->Tgid(p); d.ok()) sum += static_cast<double>(d->cpu_delay_ns);
    return sum / 1e9;
  };
  double k0 = netlink_cpu();
  double v = ReportedValue(r, "container_resources_cpu_delay_seconds_total", cg.path());
  double k1 = netlink_cpu();
  std::printf("registry on the walk: %.3f s (taskstats %.3f..%.3f)\n", v, k0, k1);
  EXPECT_LE(k0, v + 1e-9);
  EXPECT_LE(v, k1 + 1e-9);
}

// A host with more tasks than the walk's array holds (here an array of 16) is read with the task
// iterator: the same tasks as the iterator alone gives, and the walk alone says it overflowed.
TEST(ProcEventsBpfTest, TaskWalkPastItsArrayFallsBackToTheIterator) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF)";
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  tracer::ProcTracerOptions o;
  o.task_walk_capacity = 16;
  auto events = StartEvents(&r, o);
  ASSERT_NE(events, nullptr);
  using Via = tracer::ProcTracer::TaskSource;
  auto walked = events->ReadTaskDelays(Via::kWalk);
  ASSERT_FALSE(walked.ok());
  EXPECT_EQ(walked.status().code(), StatusCode::kResourceExhausted) << walked.status().ToString();
  auto any = events->ReadTaskDelays(Via::kAny);
  auto iterated = events->ReadTaskDelays(Via::kIterator);
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  ASSERT_TRUE(iterated.ok()) << iterated.status().ToString();
  std::set<uint32_t> a, b;
  for (const auto& t : *any) a.insert(t.tid);
  for (const auto& t : *iterated) b.insert(t.tid);
  size_t common = 0;
  for (uint32_t tid : a) common += b.count(tid);
  std::printf("array of 16: %zu tasks read (iterator alone: %zu, %zu in both)\n", a.size(), b.size(), common);
  EXPECT_GT(a.size(), 16u);
  EXPECT_GE(common + 5, std::max(a.size(), b.size()));  // tasks may come and go between the reads
}

// A drain on demand (a gather, a test) must not wait for the reader thread's poll: the reader
// used to sleep in ring_buffer__poll holding the consumers' mutex and take it back at once, so a
// drain waited up to a poll timeout each time and, on some kernels' scheduling, for minutes (a
// scan blocked 25-265 s on this machine). 20 drains, no event needed: well under one timeout.
// The task iterator and the task walk list the same processes as /proc (those alive across both
// reads), no thread, and this one; the registry's scans find a test cgroup's process through them.
TEST(ProcEventsBpfTest, ProcessListerAgreesWithProc) {
  TestCgroup cg(TestCgroupName("lister"));
  REQUIRE_ROOT_AND(cg);
  if (!ProcIsOfInitialPidNamespace("/proc")) GTEST_SKIP() << "not in the initial pid namespace";
  std::vector<pid_t> kids = SpawnStarted(cg, BurnOnCpu0, 1);
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  auto events = StartEvents(&r);
  ASSERT_NE(events, nullptr);
  auto shared_events = std::shared_ptr<tracer::ProcTracer>(events.get(), [](tracer::ProcTracer*) {});
  std::pair<const char*, ContainerRegistry::PidLister> listers[] = {
      {"task iterator", tracer::ProcessLister(shared_events, tracer::ProcTracer::TaskSource::kIterator)},
      {"task walk", tracer::ProcessLister(shared_events, tracer::ProcTracer::TaskSource::kWalk)}};
  for (auto& [name, lister] : listers) {
    SCOPED_TRACE(name);
    std::vector<int> before = ListPids("/proc", 1 << 20);
    StatusOr<std::vector<int>> listed = lister();
    std::vector<int> after = ListPids("/proc", 1 << 20);
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<int> got = *listed;
    std::sort(got.begin(), got.end());
    size_t both = 0;
    for (int pid : before) {
      if (!std::binary_search(after.begin(), after.end(), pid)) continue;  // exited meanwhile
      both++;
      EXPECT_TRUE(std::binary_search(got.begin(), got.end(), pid)) << "pid " << pid << " of /proc not listed";
    }
    for (int pid : got)  // /proc lists processes only: a listed pid that /proc never had is a thread
      EXPECT_TRUE(std::binary_search(before.begin(), before.end(), pid) ||
                  std::binary_search(after.begin(), after.end(), pid))
          << "pid " << pid << " listed, not in /proc";
    EXPECT_TRUE(std::binary_search(got.begin(), got.end(), getpid()));
    std::printf("%s: %zu processes listed, %zu in /proc before and after\n", name, got.size(), both);
    r.SetPidLister(lister);
    r.Scan();
    auto c = Get(r, cg.path());
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->pids, std::vector<int>{kids[0]});
  }
}

TEST(ProcEventsBpfTest, DrainDoesNotWaitForTheReaderThreadsPoll) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF)";
  ContainerRegistry r(LiveRegistryOptions());
  ASSERT_TRUE(r.Init().ok());
  tracer::ProcTracerOptions o;
  o.poll_timeout = 1s;
  auto events = StartEvents(&r, o);
  ASSERT_NE(events, nullptr);
  std::this_thread::sleep_for(100ms);  // the reader is in its poll
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; i++) events->Drain();
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 1.0) << "20 drains waited " << waited << " s for the reader thread";
  std::printf("20 drains while the reader polls: %.3f ms\n", waited * 1e3);
}

}  // namespace
}  // namespace coroot::agent::containers
