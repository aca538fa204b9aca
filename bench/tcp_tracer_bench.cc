// What the eBPF TCP tracer costs, in one run: the same connection workload (a child process that
// opens N loopback connections to its own server thread, sends 100 bytes, reads 100 back, closes)
// first without the tracer, then with it. Prints the workload's wall time and CPU per
// connection both ways, the agent's own CPU per connection (reader thread + one collection), and
// the kernel time of each BPF program per run (kernel.bpf_stats_enabled is switched on for the
// run and restored). Needs root. It asserts nothing.
//   tcp_tracer_bench [connections=20000] [rounds=3]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "agent/tracer/ebpf_collector.h"

using namespace coroot::agent::tracer;

namespace {

double Seconds(const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; }

double ProcessCpu() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return Seconds(r.ru_utime) + Seconds(r.ru_stime);
}

struct Workload {
  double wall = 0, cpu = 0;
};

// Runs the workload in a child process; returns its wall time and CPU time (user + system).
Workload RunWorkload(int connections, int port) {
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(ls, 1024) != 0) _exit(2);
    std::thread server([ls, connections] {
      char buf[100];
      for (int i = 0; i < connections; i++) {
        int c = accept(ls, nullptr, nullptr);
        if (c < 0) continue;
        if (read(c, buf, sizeof(buf)) > 0 && write(c, buf, sizeof(buf)) < 0) {
        }
        close(c);
      }
    });
    char buf[100] = {};
    for (int i = 0; i < connections; i++) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      // Close with RST, not FIN: no TIME_WAIT sockets pile up and exhaust the ephemeral ports.
      linger lg{1, 0};
      setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) _exit(3);
      if (write(c, buf, sizeof(buf)) != sizeof(buf) || read(c, buf, sizeof(buf)) <= 0) _exit(4);
      close(c);
    }
    server.join();
    _exit(0);
  }
  int status = 0;
  rusage r{};
  wait4(pid, &status, 0, &r);
  Workload w;
  w.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  w.cpu = Seconds(r.ru_utime) + Seconds(r.ru_stime);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "workload failed (status %d)\n", status);
    exit(1);
  }
  return w;
}

std::string ReadSysctl(const char* path) {
  std::ifstream in(path);
  std::string v;
  in >> v;
  return v;
}
void WriteSysctl(const char* path, const std::string& v) { std::ofstream(path) << v; }

}  // namespace

int main(int argc, char** argv) {
  int connections = argc > 1 ? atoi(argv[1]) : 20000;
  int rounds = argc > 2 ? atoi(argv[2]) : 3;
  int port = 27000 + getpid() % 3000;
  const char* stats_path = "/proc/sys/kernel/bpf_stats_enabled";
  std::string stats_before = ReadSysctl(stats_path);

  printf("tcp_tracer_bench: %d connections per round, %d rounds (phases interleaved), best round reported\n",
         connections, rounds);
  struct Phase {
    const char* name = "";
    bool tracer = false, syscall_hooks = false;
    Workload w{1e9, 1e9};
    double agent_cpu = 0;
    std::vector<Tracer::ProgramStats> before, after;
    Tracer::Counters counters;
  };
  Phase phases[3];
  phases[0].name = "tracer off";
  phases[1].name = "tracer on";
  phases[1].tracer = phases[1].syscall_hooks = true;
  phases[2].name = "on, no syscall hooks";
  phases[2].tracer = true;
  WriteSysctl(stats_path, "1");
  for (int r = 0; r < rounds; r++) {
    for (auto& ph : phases) {
      std::shared_ptr<EbpfCollector> collector;
      if (ph.tracer) {
        EbpfOptions o;
        o.reconcile = false;
        o.tracer.connect_fd_hooks = ph.syscall_hooks;
        auto started = EbpfCollector::Start(o);
        if (!started.ok()) {
          fprintf(stderr, "cannot start the tracer: %s\n", started.status().ToString().c_str());
          WriteSysctl(stats_path, stats_before.empty() ? "0" : stats_before);
          return 1;
        }
        collector = *started;
      }
      std::vector<Tracer::ProgramStats> b;
      if (collector) b = collector->tracer().ReadProgramStats();
      double cpu0 = ProcessCpu();
      Workload w = RunWorkload(connections, port);
      if (collector) {
        std::vector<coroot::prom::MetricFamily> out;
        collector->Collect(&out);  // drains the ring and aggregates everything
      }
      double cpu = ProcessCpu() - cpu0;
      if (w.wall < ph.w.wall) {
        ph.w = w;
        ph.agent_cpu = cpu;
        if (collector) {
          ph.before = b;
          ph.after = collector->tracer().ReadProgramStats();
          ph.counters = collector->tracer().ReadCounters();
        }
      }
      if (collector) collector->Stop();
    }
  }
  WriteSysctl(stats_path, stats_before.empty() ? "0" : stats_before);
  const Workload& off = phases[0].w;

  auto per = [&](double s) { return s / connections * 1e6; };
  printf("\n%-42s %12s %12s %22s\n", "", phases[0].name, phases[1].name, phases[2].name);
  printf("%-42s %12.0f %12.0f %22.0f\n", "connections per second (workload)", connections / off.wall,
         connections / phases[1].w.wall, connections / phases[2].w.wall);
  printf("%-42s %12.2f %12.2f %22.2f\n", "workload wall time per connection, us", per(off.wall), per(phases[1].w.wall),
         per(phases[2].w.wall));
  printf("%-42s %12.2f %12.2f %22.2f\n", "workload CPU per connection, us", per(off.cpu), per(phases[1].w.cpu),
         per(phases[2].w.cpu));
  printf("%-42s %12s %12.2f %22.2f\n", "agent user-space CPU per connection, us", "-", per(phases[1].agent_cpu),
         per(phases[2].agent_cpu));
  for (int i = 1; i < 3; i++) {
    auto& ph = phases[i];
    printf("\n%s: kernel time per BPF program run (bpf_stats), best round:\n", ph.name);
    for (size_t i = 0; i < ph.after.size() && i < ph.before.size(); i++) {
      uint64_t n = ph.after[i].run_count - ph.before[i].run_count;
      uint64_t ns = ph.after[i].run_time_ns - ph.before[i].run_time_ns;
      printf("  %-32s %10llu runs  %8.0f ns/run  %8.2f runs/connection\n", ph.after[i].program.c_str(),
             static_cast<unsigned long long>(n), n ? static_cast<double>(ns) / n : 0.0,
             static_cast<double>(n) / connections);
    }
    printf("  events read: %llu, lost (ring buffer full): %llu\n", static_cast<unsigned long long>(ph.counters.events),
           static_cast<unsigned long long>(ph.counters.kernel_drops[COROOT_DROP_RINGBUF_FULL]));
  }
  return 0;
}
