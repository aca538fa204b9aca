// Prints what a registry scan and a gather cost: on a fake host (N systemd-service containers with
// M processes each, hybrid cgroup files written to a temp dir) and on this host. Run by hand:
//   build/agent/containers/registry_speed_test [containers] [processes per container]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/containers/registry.h"

using namespace coroot;
using namespace coroot::agent::containers;
namespace fs = std::filesystem;

namespace {

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

template <typename F>
double Millis(F f, int reps) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; i++) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
}

long RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int containers = argc > 1 ? std::atoi(argv[1]) : 500;
  int per = argc > 2 ? std::atoi(argv[2]) : 4;
  std::string root = fs::temp_directory_path() / ("coroot-registry-bench-" + std::to_string(getpid()));
  Write(root + "/proc/stat", "cpu 1 2 3 4 5 6 7 8\nbtime " + std::to_string(time(nullptr) - 3600) + "\n");
  int pid = 100;
  for (int c = 0; c < containers; c++) {
    std::string path = "/system.slice/app" + std::to_string(c) + ".service";
    for (const char* ctl : {"cpu", "cpuacct", "memory", "blkio"}) fs::create_directories(root + "/cg/" + ctl + path);
    Write(root + "/cg/cpu" + path + "/cpu.stat", "nr_periods 1\nnr_throttled 1\nthrottled_time 123\n");
    Write(root + "/cg/cpu" + path + "/cpu.cfs_quota_us", "50000\n");
    Write(root + "/cg/cpu" + path + "/cpu.cfs_period_us", "100000\n");
    Write(root + "/cg/cpuacct" + path + "/cpuacct.usage", "123456789\n");
    Write(root + "/cg/memory" + path + "/memory.stat", "total_rss 1000\ntotal_mapped_file 10\ntotal_cache 5\n");
    Write(root + "/cg/memory" + path + "/memory.limit_in_bytes", "9223372036854771712\n");
    Write(root + "/cg/memory" + path + "/memory.oom_control", "oom_kill 0\n");
    for (int p = 0; p < per; p++, pid++) {
      std::string d = root + "/proc/" + std::to_string(pid);
      Write(d + "/stat", std::to_string(pid) + " (app) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 10\n");
      Write(d + "/cgroup", "4:memory:" + path + "\n2:cpuacct:" + path + "\n1:cpu:" + path + "\n7:blkio:" + path +
                               "\n0::" + path + "\n");
      Write(d + "/cmdline", std::string("/usr/sbin/nginx\0", 16));
    }
  }
  RegistryOptions o;
  o.proc_root = root + "/proc";
  o.sys_root = root + "/sys";
  o.cgroupfs.root = root + "/cg";
  o.cgroupfs.v2_root = root + "/cg/unified";
  o.min_container_age = std::chrono::milliseconds(0);
  o.docker_socket = "";
  long rss0 = RssKiB();
  ContainerRegistry r(o);
  double first = Millis([&] { r.Scan(); }, 1);
  double scan = Millis([&] { r.Scan(); }, 5);
  size_t series = 0;
  double collect = Millis(
      [&] {
        std::vector<prom::MetricFamily> out;
        r.Collect(&out);
        series = 0;
        for (const auto& f : out) series += f.samples.size();
      },
      5);
  std::printf("fake host: %d containers x %d processes: first scan %.1f ms, scan %.1f ms, gather %.1f ms "
              "(%zu series), registry RSS +%ld KiB\n",
              containers, per, first, scan, collect, series, RssKiB() - rss0);
  fs::remove_all(root);

  RegistryOptions live;
  live.cgroupfs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
  live.min_container_age = std::chrono::milliseconds(0);
  ContainerRegistry host(live);
  host.Scan();
  double hscan = Millis([&] { host.Scan(); }, 5);
  std::printf("this host: %zu processes in /proc, %zu containers: scan %.2f ms\n",
              static_cast<size_t>(std::distance(fs::directory_iterator("/proc"), fs::directory_iterator{})),
              host.Containers().size(), hscan);
  return 0;
}
