#pragma once
// Helpers of the tests against the real kernel (label bpf): a cgroup v2 per test process (its
// container_id), processes started inside one, and loopback ports outside the ephemeral range.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/file.h"
#include "lib/prom/metric.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer::bpf_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string Cgroup2Root() {
  for (const char* p : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    struct statfs st;
    if (statfs(p, &st) == 0 && st.f_type == 0x63677270) return p;
  }
  return "";
}

// A TCP port on 127.0.0.1 outside the ephemeral range (ports in it are skipped by design), free now.
inline int FreeStablePort() {
  static int next = 20000 + (getpid() % 5000);
  for (int i = 0; i < 2000; i++) {
    int port = next++;
    if (next > 32000) next = 20000;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) return port;
  }
  return 0;
}

// A cgroup v2 directory for one test process ("container"); removed (once empty) at the end.
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& name) {
    path_ = Cgroup2Root() + "/" + name;
    key_ = "/" + name;
    fs::create_directories(path_);
  }
  ~TestCgroup() {
    for (int i = 0; i < 100 && rmdir(path_.c_str()) != 0 && errno == EBUSY; i++) std::this_thread::sleep_for(20ms);
  }
  const std::string& path() const { return path_; }
  const std::string& key() const { return key_; }  // container_id label given by ProcCgroupResolver

 private:
  std::string path_, key_;
};

// A process started inside a cgroup, output to a log file; killed by pid (its process group).
class Proc {
 public:
  Proc(const TestCgroup& cg, std::vector<std::string> argv, const std::string& log,
       std::vector<std::string> env = {})
      : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test binary that was killed
      for (const auto& e : env) putenv(strdup(e.c_str()));
      int c = open((cg.path() + "/cgroup.procs").c_str(), O_WRONLY);
      if (c < 0 || write(c, "0", 1) != 1) _exit(126);
      close(c);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Proc() { Kill(); }
  pid_t pid() const { return pid_; }
  // Waits for the exit; returns the exit code (-1 on timeout, after killing it).
  int Wait(std::chrono::milliseconds limit = 60s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(10ms);
    }
    Kill();
    return -1;
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  std::string Log() const { return ReadFile(log_).ok() ? *ReadFile(log_) : ""; }
  // Waits until its output contains text (a server printing that it is ready).
  bool WaitForLog(const std::string& text, std::chrono::milliseconds limit = 30s) const {
    return testing::WaitFor([&] { return Log().find(text) != std::string::npos; }, limit);
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// The value of the first series of `family` (a counter's value, a histogram's count) whose labels
// include all of `want`; -1 when there is none.
// Whether `have` includes every label of `want`.
inline bool LabelsInclude(const prom::Labels& have, const prom::Labels& want) {
  for (const auto& l : want) {
    bool found = false;
    for (const auto& h : have) found |= h == l;
    if (!found) return false;
  }
  return true;
}

inline double SeriesValue(prom::ICollector& c, const std::string& family, const prom::Labels& want) {
  auto matches = [&](const prom::Labels& have) { return LabelsInclude(have, want); };
  std::vector<prom::MetricFamily> out;
  c.Collect(&out);
  for (const auto& f : out) {
    if (f.name != family) continue;
    for (const auto& s : f.samples)
      if (matches(s.labels)) return s.value;
    for (const auto& h : f.histograms)
      if (matches(h.labels)) return static_cast<double>(h.count);
  }
  return -1;
}

inline std::string DescribeLabels(const prom::Labels& labels) {
  std::string s;
  for (const auto& l : labels) s += l.name + "=" + l.value + " ";
  return s;
}

// Every series of the family, one per line (for failure messages).
inline std::string DumpFamily(prom::ICollector& c, const std::string& family) {
  std::vector<prom::MetricFamily> out;
  c.Collect(&out);
  std::string s;
  for (const auto& f : out) {
    if (f.name != family) continue;
    for (const auto& x : f.samples) s += "  " + DescribeLabels(x.labels) + "-> " + std::to_string(x.value) + "\n";
    for (const auto& h : f.histograms) s += "  " + DescribeLabels(h.labels) + "-> count " + std::to_string(h.count) + "\n";
  }
  return s;
}

// Polls until the series has the value n, then checks that it stays there (nothing counted twice
// or late). The failure message lists the family and the agent's L7 drop counters.
inline void ExpectSeriesValue(prom::ICollector& c, const std::string& family, const prom::Labels& want, double n) {
  bool reached = testing::WaitFor([&] { return SeriesValue(c, family, want) == n; }, 15s);
  if (reached) std::this_thread::sleep_for(300ms);
  EXPECT_EQ(SeriesValue(c, family, want), n)
      << family << " " << DescribeLabels(want) << "\nseries of the family:\n" << DumpFamily(c, family)
      << "L7 events dropped:\n" << DumpFamily(c, "coroot_node_agent_l7_events_dropped_total")
      << "HTTP/2 desyncs:\n" << DumpFamily(c, "coroot_node_agent_http2_desyncs");
}

// Waits until a TCP connect to 127.0.0.1:port succeeds (a plain connect: no request is made).
inline bool WaitTcpPort(int port, std::chrono::milliseconds limit = 30s) {
  return testing::WaitFor(
      [&] {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(port));
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
        close(fd);
        return ok;
      },
      limit);
}

}  // namespace coroot::agent::tracer::bpf_test
