// CPU time and RSS of one collection cycle (registry Scan + Gather of the node and container
// collectors with the constant labels, as the agent's /metrics, + text exposition) over real
// cgroups and processes made here, beside Debian's prometheus-node-exporter doing its default
// collection in the same run.
// Root only. Prints figures, asserts nothing:
//   build/bench/containers_bench [containers=200] [processes=2000] [cycles=50]
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "agent/containers/delay_source.h"
#include "agent/containers/proc_pid.h"
#include "agent/containers/registry.h"
#include "agent/node/node_collector.h"
#include "agent/tracer/cgroup_stats_iter.h"
#include "agent/tracer/proc_tracer.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/proc_cgroup.h"
#include "lib/prom/exposition.h"

using namespace coroot;
using namespace coroot::agent::containers;

namespace {

std::vector<std::string> g_dirs;  // every cgroup dir made, removed at the end (children first)
std::vector<pid_t> g_pids;

bool WriteStr(const std::string& path, const std::string& v) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, v.data(), v.size()) == static_cast<ssize_t>(v.size());
  close(fd);
  return ok;
}

void Cleanup() {
  for (pid_t p : g_pids) kill(p, SIGKILL);
  for (pid_t p : g_pids) waitpid(p, nullptr, 0);
  for (auto it = g_dirs.rbegin(); it != g_dirs.rend(); ++it) rmdir(it->c_str());
}

double ProcessCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// utime + stime of another process, ms (clock-tick resolution).
double OtherCpuMs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::vector<std::string> f;
  size_t i = p + 2;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    f.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  if (f.size() < 13) return 0;
  return (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) * 1000.0 / sysconf(_SC_CLK_TCK);
}

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// One HTTP/1.0 GET of /metrics on 127.0.0.1:port; the body size, or -1.
long Scrape(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(s);
    return -1;
  }
  const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(s, req, sizeof(req) - 1) < 0) {
    close(s);
    return -1;
  }
  char buf[65536];
  long total = 0;
  for (ssize_t n; (n = read(s, buf, sizeof(buf))) > 0;) total += n;
  close(s);
  return total;
}

}  // namespace

// With eBPF, as main.cc: delays from the task walk (one run per gather), process moves as
// events (cached pids are not read again while the kernel loses no event), scans listing
// processes from the same walk. Null (delays stay on netlink) where it cannot load.
std::shared_ptr<agent::tracer::ProcTracer> UseProcTracer(ContainerRegistry* r) {
  auto tracer = agent::tracer::ProcTracer::Start({}, [](const coroot_proc_event&) {});
  if (!tracer.ok() || !(*tracer)->ReadTaskDelays().ok()) return nullptr;
  std::shared_ptr<agent::tracer::ProcTracer> shared = std::move(tracer).value();
  // CONTAINERS_BENCH_TASK_ITER=1: delays and process lists from the task iterator instead of the
  // task walk (A/B).
  const auto via = std::getenv("CONTAINERS_BENCH_TASK_ITER") ? agent::tracer::ProcTracer::TaskSource::kIterator
                                                             : agent::tracer::ProcTracer::TaskSource::kAny;
  r->SetDelaySource(std::make_unique<SnapshotDelaySource>(agent::tracer::TaskDelaysReader(shared, via)));
  if (shared->move_hook_attached()) r->SetMoveEvents([shared] { return shared->kernel_drops(); });
  if (ProcIsOfInitialPidNamespace("/proc")) r->SetPidLister(agent::tracer::ProcessLister(shared, via));
  return shared;
}

// With eBPF the agent reads every cgroup's CPU and pressure counters from the cgroup iterator
// (one read per hierarchy), as main.cc does. Null where it cannot load.
// CONTAINERS_BENCH_NO_CGROUP_ITER=1 leaves it out (A/B runs of the same binary).
std::shared_ptr<agent::tracer::CgroupStatsIter> UseCgroupIterator(ContainerRegistry* r, const cgroup::CgroupFs& fs) {
  if (const char* off = std::getenv("CONTAINERS_BENCH_NO_CGROUP_ITER"); off && *off == '1') return nullptr;
  auto it = agent::tracer::CgroupStatsIter::Start({fs.V1("cpu", ""), fs.V1("memory", ""), fs.v2_root});
  if (!it.ok()) {
    std::fprintf(stderr, "no eBPF cgroup iterator here (%s): the eBPF row reads cgroup files\n",
                 it.status().ToString().c_str());
    return nullptr;
  }
  std::shared_ptr<agent::tracer::CgroupStatsIter> shared = std::move(it).value();
  r->SetCgroupCounters(std::make_unique<CgroupCountersSnapshot>(agent::tracer::CgroupCountersReader(shared)));
  return shared;
}

int main(int argc, char** argv) {
  const int containers = argc > 1 ? std::atoi(argv[1]) : 200;
  const int processes = argc > 2 ? std::atoi(argv[2]) : 2000;
  const int cycles = argc > 3 ? std::atoi(argv[3]) : 50;
  if (geteuid() != 0) {
    std::fprintf(stderr, "needs root (makes cgroups)\n");
    return 1;
  }
  if (containers <= 0 || processes < containers || cycles <= 0) {
    std::fprintf(stderr, "usage: %s [containers>0] [processes>=containers] [cycles>0]\n", argv[0]);
    return 2;
  }
  cgroup::CgroupFs fs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
  auto self = cgroup::ReadProcCgroup("/proc", getpid());
  const std::string mem_base = self.ok() ? self->Path("memory") : "";
  const std::string slice = "/system.slice";
  // A path's directory in each hierarchy the bench uses (cpu, cpuacct, blkio, memory, v2).
  auto dirs_of = [&](const std::string& path) {
    std::vector<std::string> dirs = {fs.V1("cpu", path), fs.V1("cpuacct", path), fs.V1("blkio", path),
                                     fs.V1("memory", mem_base + path)};
    if (fs.v2_root != fs.root) dirs.push_back(fs.V2(path));
    return dirs;
  };
  // Cgroups left by a run that was killed (its pid is gone) would be walked too: removed first.
  for (const std::string& parent : dirs_of(slice)) {
    DIR* d = opendir(parent.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      int pid = 0;
      if (std::sscanf(e->d_name, "coroot-bench-%d-", &pid) == 1 && pid != getpid() && kill(pid, 0) != 0)
        rmdir((parent + "/" + e->d_name).c_str());
    }
    closedir(d);
  }
  std::vector<std::vector<std::string>> procs_files(static_cast<size_t>(containers));
  std::vector<cgroup::CgroupDirs> bench_dirs;  // for the per-file costs at the end
  for (int i = 0; i < containers; i++) {
    std::string path = slice + "/coroot-bench-" + std::to_string(getpid()) + "-" + std::to_string(i) + ".service";
    std::vector<std::string> dirs = dirs_of(path);
    bench_dirs.push_back({dirs[0], dirs[1], dirs[3], dirs[2], dirs.size() > 4 ? dirs[4] : ""});
    for (const std::string& d : dirs) {
      std::string parent = d.substr(0, d.rfind('/'));
      if (mkdir(parent.c_str(), 0755) == 0) g_dirs.insert(g_dirs.begin(), parent);
      if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
        std::fprintf(stderr, "mkdir %s: %s\n", d.c_str(), strerror(errno));
        Cleanup();
        return 1;
      }
      g_dirs.push_back(d);
      procs_files[static_cast<size_t>(i)].push_back(d + "/cgroup.procs");
    }
  }
  for (int p = 0; p < processes; p++) {
    pid_t pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
    if (pid < 0) break;
    g_pids.push_back(pid);
    for (const std::string& f : procs_files[static_cast<size_t>(p % containers)]) WriteStr(f, std::to_string(pid));
  }
  std::printf("%d containers (real cgroups: cpu, cpuacct, blkio, memory%s), %zu sleeping processes in them\n",
              containers, fs.v2_root != fs.root ? ", v2" : "", g_pids.size());

  RegistryOptions o;
  o.cgroupfs = fs;
  o.min_container_age = std::chrono::milliseconds(0);
  o.docker_socket.clear();
  o.crio_sockets.clear();
  o.delay_accounting = true;  // as the agent: CPU and disk delays per container (netlink taskstats)
  ContainerRegistry r(o);
  if (!r.Init().ok()) return 1;
  // Gathered as the agent's /metrics does: the node and container collectors through
  // prom::Registry, the text writer adding the constant labels (this host's machine_id and a
  // system_uuid of the usual length) to every sample. node_exporter's scrape is node-level.
  prom::Registry gather;
  gather.Register(std::make_shared<agent::node::NodeCollector>());
  gather.Register(std::shared_ptr<prom::ICollector>(&r, [](prom::ICollector*) {}));
  {
    std::string machine_id = "0123456789abcdef0123456789abcdef";
    if (std::ifstream f("/etc/machine-id"); f) std::getline(f, machine_id);
    gather.SetConstLabels({{"machine_id", machine_id}, {"system_uuid", "4c4c4544-0043-3510-8052-b4c04f384e32"}});
  }
  size_t bytes = 0, samples = 0;
  double scan_ms = 0, gather_ms = 0, text_ms = 0;  // CPU per phase, summed
  auto cycle = [&] {
    double t0 = ProcessCpuMs();
    r.Scan();
    double t1 = ProcessCpuMs();
    prom::Gathered g = gather.GatherApart();
    double t2 = ProcessCpuMs();
    std::string text = prom::WriteText(g.families, g.const_labels);
    double t3 = ProcessCpuMs();
    scan_ms += t1 - t0;
    gather_ms += t2 - t1;
    text_ms += t3 - t2;
    bytes = text.size();
    samples = 0;
    for (const auto& f : g.families) samples += f.samples.size();
  };
  // For profiling one phase alone (perf record on this process):
  //   CONTAINERS_BENCH_ONLY=scan|scan-events|collect  (collect: Gather + text, eBPF modes on)
  if (const char* only = std::getenv("CONTAINERS_BENCH_ONLY")) {
    std::string what = only;
    r.Scan();
    std::shared_ptr<agent::tracer::ProcTracer> tracer;
    std::shared_ptr<agent::tracer::CgroupStatsIter> cgroup_iter;
    if (what != "scan") {
      r.SetProcessEvents(true);
      r.SetOomKillsFromEbpf(true);
      tracer = UseProcTracer(&r);
      cgroup_iter = UseCgroupIterator(&r, fs);
      r.Scan();
    }
    double t0 = ProcessCpuMs();
    for (int i = 0; i < cycles; i++) {
      if (what == "collect") {
        prom::Gathered g = gather.GatherApart();
        bytes += prom::WriteText(g.families, g.const_labels).size();
      } else {
        r.Scan();
      }
    }
    std::printf("%s only: %.2f ms CPU per cycle\n", what.c_str(), (ProcessCpuMs() - t0) / cycles);
    if (tracer) tracer->Stop();
    Cleanup();
    return 0;
  }
  double c0 = ProcessCpuMs();
  cycle();  // the first cycle decides every cgroup
  double first = ProcessCpuMs() - c0;
  size_t found = 0;
  for (const ContainerInfo& c : r.Containers()) found += c.id.find("/coroot-bench-") != std::string::npos;
  // The agent's defaults: a scrape every 15 s (--scrape-interval). Without eBPF process events
  // /proc is scanned every 5 s (3 scans per scrape) and OOM kills come from the cgroups' files;
  // with them (this kernel: ProcTracer and its oom/mark_victim hook attach) every 60 s (a scan
  // per 4th scrape) and OOM kills are counted by eBPF, so memory.oom_control is not read.
  struct Mode {
    double scan = 0, gather = 0, text = 0, wall = 0;
    long rss = 0;
  };
  // between: run after each cycle, outside its time (the baseline's scrape, interleaved so that both
  // see the same machine: this VM's speed drifts by tens of percent over seconds).
  auto measure = [&](Mode* m, const std::function<void()>& between) {
    scan_ms = gather_ms = text_ms = 0;
    std::chrono::duration<double, std::milli> wall{0};
    for (int i = 0; i < cycles; i++) {
      auto w0 = std::chrono::steady_clock::now();
      cycle();
      wall += std::chrono::steady_clock::now() - w0;
      if (between) between();
    }
    m->wall = wall.count() / cycles;
    m->scan = scan_ms / cycles;
    m->gather = gather_ms / cycles;
    m->text = text_ms / cycles;
    m->rss = RssKiB(getpid());
  };
  Mode no_ebpf, ebpf;
  measure(&no_ebpf, nullptr);

  // Baseline: node_exporter's default collectors, a scrape after each of our default cycles.
  int port = FreePort();
  pid_t ne = fork();
  if (ne == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    execlp("prometheus-node-exporter", "prometheus-node-exporter", listen.c_str(), nullptr);
    _exit(127);
  }
  long ne_bytes = -1;
  for (int i = 0; i < 200 && ne_bytes < 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ne_bytes = Scrape(port);
  }
  if (ne_bytes > 0) {
    for (int i = 0; i < 5; i++) Scrape(port);  // warm up
  } else {
    std::fprintf(stderr, "prometheus-node-exporter did not answer (is it installed?)\n");
  }
  std::chrono::duration<double, std::milli> ne_wall_sum{0};
  auto scrape_ne = [&] {
    if (ne_bytes <= 0) return;
    auto t0 = std::chrono::steady_clock::now();
    ne_bytes = Scrape(port);
    ne_wall_sum += std::chrono::steady_clock::now() - t0;
  };

  r.SetProcessEvents(true);
  r.SetOomKillsFromEbpf(true);
  auto tracer = UseProcTracer(&r);
  if (!tracer) std::fprintf(stderr, "no eBPF task iterator here: the eBPF row reads delays over netlink too\n");
  auto cgroup_iter = UseCgroupIterator(&r, fs);
  r.Scan();  // rebuild the cache under the new mode
  const double n0 = ne_bytes > 0 ? OtherCpuMs(ne) : 0;
  measure(&ebpf, scrape_ne);
  double ne_cpu = -1, ne_wall = -1;
  long ne_rss = 0;
  if (ne_bytes > 0) {
    ne_cpu = (OtherCpuMs(ne) - n0) / cycles;
    ne_wall = ne_wall_sum.count() / cycles;
    ne_rss = RssKiB(ne);
  }
  kill(ne, SIGTERM);
  waitpid(ne, nullptr, 0);
  if (tracer) tracer->Stop();
  const double ours_default = ebpf.gather + ebpf.text + ebpf.scan / 4;
  const double ours_no_ebpf = no_ebpf.gather + no_ebpf.text + 3 * no_ebpf.scan;

  std::printf("%d cycles each, same machine, same run, node_exporter scraped after each of our default cycles "
              "(first cycle of ours, deciding every cgroup: %.1f ms CPU)\n",
              cycles, first);
  std::printf("%-52s %13s %9s %8s %9s %s\n", "program", "CPU ms/scrape", "wall ms", "RSS MB", "bytes", "detail");
  std::printf("%-52s %13.2f %9.2f %8.1f %9zu %zu containers, %zu samples (node ones too)\n",
              "ours, agent default here: eBPF process events on", ours_default, ebpf.wall, ebpf.rss / 1024.0, bytes,
              found, samples);
  std::printf("    Gather %.2f + text %.2f + /proc scan %.2f every 4th scrape (60 s scans, 15 s scrapes); "
              "delays from %s\n",
              ebpf.gather, ebpf.text, ebpf.scan, !tracer                                  ? "netlink taskstats"
              : std::getenv("CONTAINERS_BENCH_TASK_ITER") ? "the eBPF task iterator"
                                                          : "the eBPF task walk");
  std::printf("%-52s %13.2f %9.2f %8.1f %9s same\n", "ours, no eBPF (kernel without BTF / unprivileged)",
              ours_no_ebpf, no_ebpf.wall, no_ebpf.rss / 1024.0, "");
  std::printf("    Gather %.2f + text %.2f + /proc scan %.2f x 3 (5 s scans); scan + Gather + text once: %.2f; "
              "delays from netlink taskstats\n",
              no_ebpf.gather, no_ebpf.text, no_ebpf.scan, no_ebpf.gather + no_ebpf.text + no_ebpf.scan);
  std::printf("%-52s %13.2f %9.2f %8.1f %9ld %s\n", "prometheus-node-exporter (default collectors)", ne_cpu, ne_wall,
              ne_rss / 1024.0, ne_bytes, "node-level only");
  if (ne_cpu > 0) std::printf("ours (default) / node_exporter: %.2f\n", ours_default / ne_cpu);
  auto ms = r.MemoryStatReads();
  std::printf("memory.stat over all cycles: read %llu times, reused %llu times (the cgroup's counters had not moved)\n",
              static_cast<unsigned long long>(ms.read), static_cast<unsigned long long>(ms.reused));

  // Where Collect's time goes: the kernel's cost of each cgroup file it reads (pread of the
  // open file, as ReadCgroupFile does), over these containers, CPU per file and per scrape.
  std::printf("cgroup files, CPU per read (the kernel formats them at every read):\n");
  struct FileKind {
    const char* name;
    std::string cgroup::CgroupDirs::*dir;
  };
  const FileKind kinds[] = {{"cpu.stat", &cgroup::CgroupDirs::cpu},
                            {"cpuacct.usage", &cgroup::CgroupDirs::cpuacct},
                            {"cpu.cfs_period_us", &cgroup::CgroupDirs::cpu},
                            {"cpu.cfs_quota_us", &cgroup::CgroupDirs::cpu},
                            {"memory.stat", &cgroup::CgroupDirs::memory},
                            {"memory.limit_in_bytes", &cgroup::CgroupDirs::memory},
                            {"memory.oom_control", &cgroup::CgroupDirs::memory},
                            {"cpu.pressure", &cgroup::CgroupDirs::v2},
                            {"memory.pressure", &cgroup::CgroupDirs::v2},
                            {"io.pressure", &cgroup::CgroupDirs::v2},
                            {"blkio.throttle.io_serviced", &cgroup::CgroupDirs::blkio},
                            {"blkio.throttle.io_service_bytes", &cgroup::CgroupDirs::blkio}};
  double files_total = 0;
  for (const FileKind& k : kinds) {
    const int reps = 10;
    size_t reads = 0;
    double t0 = ProcessCpuMs();
    for (int rep = 0; rep < reps; rep++)
      for (const cgroup::CgroupDirs& d : bench_dirs) {
        if ((d.*k.dir).empty()) continue;
        reads += cgroup::ReadCgroupFile(d.*k.dir + "/" + k.name, 1 << 20).ok();
      }
    double ms = (ProcessCpuMs() - t0) / reps;
    const std::string name = k.name;
    const bool from_iter = cgroup_iter && (name == "cpu.stat" || name.find(".pressure") != std::string::npos);
    const char* note = name == "memory.oom_control" ? "  (not read: eBPF counts OOM kills)"
                       : name == "memory.stat" && cgroup_iter ? "  (read when the iterator's fingerprint moved)"
                       : name == "cpu.cfs_period_us" || name == "cpu.cfs_quota_us" || name == "memory.limit_in_bytes"
                           ? "  (kept until written: inotify)"
                       : from_iter ? "  (not read: the eBPF cgroup iterator)"
                                   : "";
    if (!*note) files_total += ms;
    std::printf("  %-32s %6.2f us  %6.2f ms/scrape%s\n", k.name, reads ? ms * 1e3 * reps / static_cast<double>(reads) : 0,
                ms, note);
  }
  std::printf("  files read at every scrape: %.2f ms/scrape, of Gather's %.2f\n", files_total, ebpf.gather);
  if (cgroup_iter) {
    // What replaces those files: one walk of each hierarchy by the iter/cgroup program.
    const int reps = 20;
    size_t records = 0;
    double t0 = ProcessCpuMs();
    for (int rep = 0; rep < reps; rep++) {
      records = 0;
      (void)cgroup_iter->Read([&](uint64_t, const coroot_cgroup_stat&) { records++; });
    }
    double ms = (ProcessCpuMs() - t0) / reps;
    std::printf("  eBPF cgroup iterator: %.2f ms/scrape for %zu cgroups in %zu hierarchies (%.2f us per cgroup)\n", ms,
                records, cgroup_iter->roots().size(), records ? ms * 1e3 / static_cast<double>(records) : 0);
  }
  Cleanup();
  return 0;
}
