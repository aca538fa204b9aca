#pragma once
// TestCgroup: a cgroup made by a test (or a benchmark) on this host's real hierarchies, with child
// processes moved into it; children are killed by PID and the cgroups removed on destruction.
// Needs root.
#include <fcntl.h>
#include <sched.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "agent/containers/registry.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/proc_cgroup.h"

namespace coroot::agent::containers {

// A cgroup made by the test in every hierarchy it uses; removed (after its processes) on destruction.
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& name) : path_("/system.slice/" + name) {
    fs_ = cgroup::DetectCgroupFs("/sys/fs/cgroup");
    // Our own memcg may be a nested one (this sandbox puts us in /process_api/<id>): make the
    // test's memcg inside it, so the host's accounting of us stays intact.
    auto self = cgroup::ReadProcCgroup("/proc", getpid());
    std::string mem_base = self.ok() ? self->Path("memory") : "";
    for (const char* c : {"cpu", "cpuacct", "blkio"}) dirs_[c] = fs_.V1(c, path_);
    dirs_["memory"] = fs_.V1("memory", mem_base + path_);
    if (fs_.v2_root != fs_.root || access((fs_.root + "/cgroup.controllers").c_str(), F_OK) == 0)
      dirs_["v2"] = fs_.V2(path_);
    for (auto& [c, d] : dirs_) {
      std::string parent = d.substr(0, d.rfind('/'));
      if (mkdir(parent.c_str(), 0755) == 0) created_.push_back(parent);
      if (mkdir(d.c_str(), 0755) != 0) {
        error_ = "mkdir " + d + ": " + strerror(errno);
        if (c == "v2") {  // v2 is optional: a pure-v1 host has none we can write
          error_.clear();
          d.clear();
          continue;
        }
        return;
      }
      created_.push_back(d);
    }
  }
  ~TestCgroup() {
    for (pid_t p : pids_) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) rmdir(it->c_str());
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  std::string dir(const std::string& c) const {
    auto it = dirs_.find(c);
    return it == dirs_.end() ? "" : it->second;
  }
  bool Set(const std::string& c, const std::string& file, const std::string& value, bool on_parent = false) {
    std::string d = dir(c);
    if (on_parent) d = d.substr(0, d.rfind('/'));
    std::string p = d + "/" + file;
    int fd = open(p.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    close(fd);
    return ok;
  }
  // Forks a child that waits for a byte on a pipe, is moved into every hierarchy, then runs fn.
  // Returns the pid and a fd that starts the work when written to.
  pid_t Spawn(void (*fn)(), int* go_fd) {
    int p[2];
    if (pipe(p) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
      close(p[1]);
      char b;
      if (read(p[0], &b, 1) != 1) _exit(3);
      fn();
      _exit(0);
    }
    close(p[0]);
    pids_.push_back(pid);
    for (auto& [c, d] : dirs_)
      if (!d.empty()) {
        if (!Set(c, "cgroup.procs", std::to_string(pid))) ADD_FAILURE() << "cannot move " << pid << " into " << d;
      }
    *go_fd = p[1];
    return pid;
  }
  // Waits for a child the test expects to end; it is then no longer killed on destruction.
  int Wait(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
    return status;
  }

 private:
  std::string path_;
  cgroup::CgroupFs fs_;
  std::map<std::string, std::string> dirs_;
  std::vector<std::string> created_;
  std::vector<pid_t> pids_;
  std::string error_;
};

inline void Go(int fd) {
  char b = 1;
  EXPECT_EQ(write(fd, &b, 1), 1);
  close(fd);
}

// A child body for Spawn: spins on CPU 0 for ever. Two of them wait for the CPU half the time each,
// which is what the delay tests measure.
inline void BurnOnCpu0() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) _exit(7);
  volatile uint64_t x = 0;
  for (;;) x = x + 1;
}

// Spawns n children running fn in cg and starts them; their pids (<= 0 where a fork failed).
inline std::vector<pid_t> SpawnStarted(TestCgroup& cg, void (*fn)(), int n) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; i++) {
    int go = -1;
    pid_t p = cg.Spawn(fn, &go);
    if (p > 0) Go(go);
    pids.push_back(p);
  }
  return pids;
}

// A systemd-service-like name unique to this test process: coroot-test-<pid>-<what>.service.
inline std::string TestCgroupName(const std::string& what) {
  return "coroot-test-" + std::to_string(getpid()) + "-" + what + ".service";
}

// The value a gather of r reports for metric of container_id (with label kind=`kind` if given);
// -1 when there is no such sample.
inline double ReportedValue(ContainerRegistry& r, const std::string& metric, const std::string& container_id,
                            const std::string& kind = "") {
  std::vector<prom::MetricFamily> fams;
  r.Collect(&fams);
  prom::Flatten(&fams);
  for (const auto& f : fams) {
    if (f.name != metric) continue;
    for (const auto& s : f.samples) {
      bool mine = false, kind_ok = kind.empty();
      for (const auto& l : s.labels) {
        mine |= l.name == "container_id" && l.value == container_id;
        kind_ok |= l.name == "kind" && l.value == kind;
      }
      if (mine && kind_ok) return s.value;
    }
  }
  return -1;
}

// Registry options for tests on this host's real cgroups: every container is reported at once and
// kept an hour after its processes are gone.
inline RegistryOptions LiveRegistryOptions() {
  using namespace std::chrono_literals;
  RegistryOptions o;
  o.cgroupfs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
  o.min_container_age = 0ms;
  o.dead_container_ttl = 1h;
  return o;
}

}  // namespace coroot::agent::containers
