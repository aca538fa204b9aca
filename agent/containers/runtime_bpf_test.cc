// Language-runtime metrics through the registry, against the real kernel (label `bpf`, root):
// real /usr/bin/python3 and /usr/bin/node processes in cgroups made by the test, probed by
// RuntimeProbes (bpf/runtime.bpf.c) as the agent wires it (agent/main.cc). Only the test's
// containers are looked at; other Python or Node.js processes on the machine are probed too.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "agent/containers/registry.h"
#include "agent/containers/test_cgroup.h"
#include "agent/tracer/runtime_probes.h"
#include "lib/base/file.h"
#include "lib/cgroup/cgroupfs.h"

namespace coroot::agent::containers {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The command a spawned child execs (set before Spawn: the child takes a copy at fork).
const char* g_exe = nullptr;
std::string g_script;
void Exec() {
  if (std::string(g_exe).find("node") != std::string::npos)
    execl(g_exe, g_exe, "-e", g_script.c_str(), nullptr);
  else
    execl(g_exe, g_exe, "-c", g_script.c_str(), nullptr);
  _exit(127);
}

pid_t SpawnExec(TestCgroup& cg, const char* exe, const std::string& script) {
  g_exe = exe;
  g_script = script;
  int go = -1;
  pid_t p = cg.Spawn(Exec, &go);
  if (p > 0) Go(go);
  return p;
}

// Until the child runs exe (the registry guesses the app type from the command line).
bool WaitExec(pid_t pid, const std::string& exe) {
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
    auto cmd = ReadFile("/proc/" + std::to_string(pid) + "/cmdline", 4096);
    if (cmd.ok() && cmd->rfind(exe, 0) == 0) return true;
  }
  return false;
}

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// The value of a container's series, or -1 when it is not reported.
double Value(ContainerRegistry& r, const std::string& metric, const std::string& id) {
  std::vector<prom::MetricFamily> fams;
  r.Collect(&fams);
  prom::Flatten(&fams);
  for (const auto& f : fams)
    if (f.name == metric)
      for (const auto& s : f.samples)
        if (std::find(s.labels.begin(), s.labels.end(), prom::Label{"container_id", id}) != s.labels.end())
          return s.value;
  return -1;
}

// Registry + probes: scans, hands the processes over and attaches now.
struct Live {
  ContainerRegistry registry{LiveRegistryOptions()};
  std::shared_ptr<tracer::RuntimeProbes> probes;
  std::string error;
  explicit Live(const tracer::RuntimeProbesOptions& options = {}) {
    auto t0 = Clock::now();
    if (auto st = registry.Init(); !st.ok()) error = st.ToString();
    auto p = tracer::RuntimeProbes::Start(options);
    if (!p.ok()) {
      error = p.status().ToString();
      return;
    }
    probes = *p;
    registry.SetRuntimeSource(probes);
    std::printf("runtime probes loaded in %.1f ms\n", std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  ~Live() {
    if (probes) probes->Stop();
  }
  void Probe() {
    registry.Scan();
    std::vector<prom::MetricFamily> fams;
    registry.Collect(&fams);
    prom::Flatten(&fams);
    auto t0 = Clock::now();
    probes->ProbeNow();
    auto s = probes->stats();
    std::printf("probed %zu processes (%zu uprobes) in %.1f ms\n", s.processes, s.uprobes,
                std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
};

#define REQUIRE_ROOT_AND(cg)                                         \
  if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, BPF)";   \
  if (!(cg).ok()) GTEST_SKIP() << "cannot make test cgroups: " << (cg).error()

// Threads that burn CPU for 2 s each once GO exists, then DONE is written; the process stays.
std::string PythonBurner(int threads, const std::string& go, const std::string& done) {
  return "import os, threading, time\n"
         "while not os.path.exists('" + go + "'): time.sleep(0.005)\n"
         "def burn():\n"
         "    end = time.monotonic() + 2.0\n"
         "    x = 0\n"
         "    while time.monotonic() < end: x += 1\n"
         "ts = [threading.Thread(target=burn) for _ in range(" + std::to_string(threads) + ")]\n"
         "for t in ts: t.start()\n"
         "for t in ts: t.join()\n"
         "open('" + done + "', 'w').close()\n"
         "time.sleep(120)\n";
}

// Past max_processes a process waits unprobed, and the agent says how many do.
TEST(RuntimeBpfTest, ProcessesBeyondTheBoundAreCounted) {
  TestCgroup cg(TestCgroupName("pybound"));
  REQUIRE_ROOT_AND(cg);
  if (!Exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  tracer::RuntimeProbesOptions o;
  o.max_processes = 1;
  Live live(o);
  ASSERT_TRUE(live.error.empty()) << live.error;
  pid_t a = SpawnExec(cg, "/usr/bin/python3", "import time\ntime.sleep(120)\n");
  pid_t b = SpawnExec(cg, "/usr/bin/python3", "import time\ntime.sleep(120)\n");
  ASSERT_TRUE(WaitExec(a, "/usr/bin/python3"));
  ASSERT_TRUE(WaitExec(b, "/usr/bin/python3"));
  live.Probe();
  auto s = live.probes->stats();
  EXPECT_EQ(s.processes, 1u);
  EXPECT_EQ(s.waiting, 1u);
  std::vector<prom::MetricFamily> fams;
  live.probes->Collect(&fams);
  double unprobed = -1;
  for (const auto& f : fams)
    if (f.name == "coroot_node_agent_runtime_unprobed_processes") unprobed = f.samples.at(0).value;
  EXPECT_EQ(unprobed, 1);
}

TEST(RuntimeBpfTest, PythonGilWaitOfContendingThreads) {
  TestCgroup two(TestCgroupName("py2")), one(TestCgroupName("py1"));
  REQUIRE_ROOT_AND(two);
  REQUIRE_ROOT_AND(one);
  if (!Exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  Live live;
  ASSERT_TRUE(live.error.empty()) << live.error;
  const std::string tmp = "/tmp/coroot-runtime-test-" + std::to_string(getpid());
  const std::string go = tmp + "-go", done2 = tmp + "-done2", done1 = tmp + "-done1";
  pid_t p2 = SpawnExec(two, "/usr/bin/python3", PythonBurner(2, go, done2));
  pid_t p1 = SpawnExec(one, "/usr/bin/python3", PythonBurner(1, go, done1));
  ASSERT_TRUE(WaitExec(p2, "/usr/bin/python3") && WaitExec(p1, "/usr/bin/python3"));
  live.Probe();
  auto problems = live.probes->problems();
  ASSERT_FALSE(problems.count(p2)) << problems[p2];
  ASSERT_FALSE(problems.count(p1)) << problems[p1];

  auto t0 = Clock::now();
  { FILE* f = std::fopen(go.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  while ((!Exists(done2) || !Exists(done1)) && Clock::now() - t0 < 15s) std::this_thread::sleep_for(10ms);
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const std::string& f : {go, done1, done2}) unlink(f.c_str());
  ASSERT_LT(elapsed, 15) << "the burners did not finish";

  const char* m = "container_python_thread_lock_wait_time_seconds";
  double v2 = Value(live.registry, m, two.path()), v1 = Value(live.registry, m, one.path());
  std::printf("GIL wait: 2 threads %.3f s, 1 thread %.3f s (elapsed %.3f s)\n", v2, v1, elapsed);
  // Two CPU-bound threads: one waits for the GIL while the other runs, about the whole 2 s.
  EXPECT_GT(v2, 0.5);
  EXPECT_LE(v2, elapsed * 2);
  EXPECT_GE(v1, 0);  // reported (the process is probed) ...
  EXPECT_LT(v1, 0.1);  // ... but a single thread never waits for the GIL
  // A counter: the same again at the next gather (no reset).
  EXPECT_GE(Value(live.registry, m, two.path()), v2);
}

// A TCP server on 127.0.0.1:port whose 'data' handler spins spin_ms before answering "ok".
std::string NodeServer(int port, int spin_ms) {
  return "require('net').createServer(s => s.on('data', () => {\n"
         "  const end = Date.now() + " + std::to_string(spin_ms) + ";\n"
         "  while (Date.now() < end) {}\n"
         "  s.write('ok');\n"
         "})).listen(" + std::to_string(port) + ", '127.0.0.1');\n";
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// n requests of one byte on one connection, each waiting for "ok". False on failure.
bool Requests(int port, int n) {
  int fd = -1;
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
    close(fd);
    fd = -1;
  }
  if (fd < 0) return false;
  bool ok = true;
  for (int i = 0; i < n && ok; i++) {
    char buf[2];
    ok = send(fd, "x", 1, 0) == 1 && recv(fd, buf, 2, MSG_WAITALL) == 2;
  }
  close(fd);
  return ok;
}

TEST(RuntimeBpfTest, NodejsEventLoopBlockedByASlowCallback) {
  TestCgroup blocked(TestCgroupName("nodeblocked")), quick(TestCgroupName("nodequick"));
  REQUIRE_ROOT_AND(blocked);
  REQUIRE_ROOT_AND(quick);
  if (!Exists("/usr/bin/node")) GTEST_SKIP() << "no /usr/bin/node";
  Live live;
  ASSERT_TRUE(live.error.empty()) << live.error;
  int bport = FreePort(), qport = FreePort();
  ASSERT_GT(bport, 0);
  ASSERT_GT(qport, 0);
  pid_t pb = SpawnExec(blocked, "/usr/bin/node", NodeServer(bport, 300));
  pid_t pq = SpawnExec(quick, "/usr/bin/node", NodeServer(qport, 0));
  ASSERT_TRUE(WaitExec(pb, "/usr/bin/node") && WaitExec(pq, "/usr/bin/node"));
  live.Probe();
  auto problems = live.probes->problems();
  // A node whose libuv has no symbol table (Debian's nodejs links the stripped shared libuv1)
  // cannot be probed, by us or by Coroot: a limit of that build, not a failure here.
  if (problems.count(pb) && problems[pb].find("no uv__io_poll") != std::string::npos)
    GTEST_SKIP() << "this /usr/bin/node cannot be probed: " << problems[pb];
  ASSERT_FALSE(problems.count(pb)) << problems[pb];
  ASSERT_FALSE(problems.count(pq)) << problems[pq];

  auto t0 = Clock::now();
  ASSERT_TRUE(Requests(bport, 3));
  ASSERT_TRUE(Requests(qport, 20));
  std::this_thread::sleep_for(100ms);  // the callback's return comes just after its answer
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();

  const char* m = "container_nodejs_event_loop_blocked_time_seconds_total";
  double vb = Value(live.registry, m, blocked.path()), vq = Value(live.registry, m, quick.path());
  std::printf("event loop blocked: 3 x 300 ms callbacks %.3f s, 20 quick requests %.3f s (elapsed %.3f s)\n", vb, vq,
              elapsed);
  EXPECT_GE(vb, 0.8);
  EXPECT_LE(vb, elapsed);
  EXPECT_GE(vq, 0);  // reported (the process is probed) ...
  EXPECT_LT(vq, 0.05);  // ... and quick callbacks keep the loop busy only briefly (6 ms measured)
}

}  // namespace
}  // namespace coroot::agent::containers
