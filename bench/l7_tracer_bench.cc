// What eBPF L7 tracing costs an HTTP service, in one run: a child process runs a small HTTP/1.1
// server (a thread per keep-alive connection, read/write) and an open-loop load client that sends
// requests at a fixed rate over C connections (latency measured from each request's scheduled
// time, so a stall is not hidden). The same workload runs with the agent off, with the agent's
// tracer on (TCP + L7), and, when bpftrace is installed, with bpftrace counting the same syscall
// tracepoints (the cost of merely attaching there). Prints per phase: p50/p99 latency, workload
// CPU per request, the agent's user-space CPU per request, kernel time per BPF program run
// (kernel.bpf_stats_enabled, restored after), L7 events read/lost and requests counted.
// Needs root. Asserts nothing.
//   l7_tracer_bench [rate=10000] [seconds=5] [connections=8]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/tracer/ebpf_collector.h"

using namespace coroot::agent::tracer;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; }

double ProcessCpu() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return Seconds(r.ru_utime) + Seconds(r.ru_stime);
}

struct Result {
  uint64_t requests = 0, errors = 0;
  double p50_us = 0, p99_us = 0, cpu = 0;
};

const char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

// Reads one request (up to the blank line; the bench sends no bodies), answers it.
void Serve(int c) {
  char buf[2048];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(c, buf + have, sizeof(buf) - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    // Requests are answered one by one; a read may end in the middle of the next one.
    for (;;) {
      char* end = static_cast<char*>(memmem(buf, have, "\r\n\r\n", 4));
      if (!end) break;
      if (write(c, kResponse, sizeof(kResponse) - 1) < 0) return;
      size_t used = static_cast<size_t>(end + 4 - buf);
      memmove(buf, buf + used, have - used);
      have -= used;
    }
    if (have == sizeof(buf)) break;
  }
  close(c);
}

// The child: server + open-loop client. Writes a Result to fd `out`.
[[noreturn]] void Workload(int port, int rate, int seconds, int conns, int out) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(ls, 128) != 0) _exit(2);
  std::vector<std::thread> servers;
  std::thread acceptor([&] {
    for (int i = 0; i < conns; i++) {
      int c = accept(ls, nullptr, nullptr);
      if (c < 0) _exit(3);
      servers.emplace_back(Serve, c);
    }
  });
  const std::string req = "GET /api/items?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: l7bench\r\n\r\n";
  std::vector<std::vector<double>> lat(conns);
  std::atomic<uint64_t> errors{0};
  auto start = Clock::now() + std::chrono::milliseconds(100);
  std::vector<std::thread> clients;
  for (int k = 0; k < conns; k++) {
    clients.emplace_back([&, k] {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) _exit(4);
      const auto interval = std::chrono::nanoseconds(1000000000LL * conns / rate);
      const int64_t n = static_cast<int64_t>(rate) * seconds / conns;
      lat[k].reserve(n);
      char buf[512];
      // Each connection's schedule is offset so that the connections do not fire together.
      auto first = start + interval * k / conns;
      for (int64_t i = 0; i < n; i++) {
        auto due = first + interval * i;
        std::this_thread::sleep_until(due);
        if (write(c, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
          errors++;
          break;
        }
        size_t got = 0;
        while (got < sizeof(kResponse) - 1) {
          ssize_t r = read(c, buf, sizeof(buf));
          if (r <= 0) break;
          got += static_cast<size_t>(r);
        }
        if (got != sizeof(kResponse) - 1) errors++;
        lat[k].push_back(std::chrono::duration<double, std::micro>(Clock::now() - due).count());
      }
      close(c);
    });
  }
  for (auto& t : clients) t.join();
  acceptor.join();
  for (auto& t : servers) t.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.requests = all.size();
  r.errors = errors;
  if (!all.empty()) {
    r.p50_us = all[all.size() / 2];
    r.p99_us = all[all.size() * 99 / 100];
  }
  if (write(out, &r, sizeof(r)) != sizeof(r)) _exit(5);
  _exit(0);
}

Result Run(int port, int rate, int seconds, int conns) {
  int p[2];
  if (pipe(p) != 0) exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    Workload(port, rate, seconds, conns, p[1]);
  }
  close(p[1]);
  Result r;
  if (read(p[0], &r, sizeof(r)) != sizeof(r)) fprintf(stderr, "workload failed\n");
  close(p[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  r.cpu = Seconds(ru.ru_utime) + Seconds(ru.ru_stime);
  return r;
}

std::string ReadSysctl(const char* path) {
  std::ifstream in(path);
  std::string v;
  in >> v;
  return v;
}
void WriteSysctl(const char* path, const std::string& v) { std::ofstream(path) << v; }

const char* kHooks[] = {"sys_enter_write",    "sys_enter_writev", "sys_enter_sendto",  "sys_enter_sendmsg",
                        "sys_enter_read",     "sys_exit_read",    "sys_enter_readv",   "sys_exit_readv",
                        "sys_enter_recvfrom", "sys_exit_recvfrom", "sys_enter_recvmsg", "sys_exit_recvmsg",
                        "sys_enter_close",    "sys_exit_accept4",  "sys_exit_accept"};

}  // namespace

int main(int argc, char** argv) {
  int rate = argc > 1 ? atoi(argv[1]) : 10000;
  int seconds = argc > 2 ? atoi(argv[2]) : 5;
  int conns = argc > 3 ? atoi(argv[3]) : 8;
  int port = 27000 + getpid() % 3000;
  const char* stats_path = "/proc/sys/kernel/bpf_stats_enabled";
  std::string stats_before = ReadSysctl(stats_path);
  uint64_t total = static_cast<uint64_t>(rate) * seconds / conns * conns;
  printf("l7_tracer_bench: HTTP/1.1 keep-alive on loopback, %d req/s for %d s over %d connections (%llu requests)\n",
         rate, seconds, conns, static_cast<unsigned long long>(total));

  // 1. agent off
  Result off = Run(port++, rate, seconds, conns);

  // 2. agent on (TCP + L7), in this process
  EbpfOptions o;
  o.reconcile = false;
  o.tracer.ring_buffer_bytes = 8 << 20;
  auto started = EbpfCollector::Start(o);
  if (!started.ok()) {
    fprintf(stderr, "cannot start the tracer: %s\n", started.status().ToString().c_str());
    return 1;
  }
  auto collector = *started;
  WriteSysctl(stats_path, "1");
  auto before = collector->tracer().ReadProgramStats();
  double cpu0 = ProcessCpu();
  int on_port = port++;
  Result on = Run(on_port, rate, seconds, conns);
  std::vector<coroot::prom::MetricFamily> fams;
  collector->Collect(&fams);  // drains the ring and aggregates everything
  double agent_cpu = ProcessCpu() - cpu0;
  auto after = collector->tracer().ReadProgramStats();
  auto counters = collector->tracer().ReadCounters();
  WriteSysctl(stats_path, stats_before.empty() ? "0" : stats_before);
  double counted_out = 0;
  std::string dest = "127.0.0.1:" + std::to_string(on_port);
  for (const auto& f : fams) {
    for (const auto& s : f.samples) {
      bool to_dest = false;
      for (const auto& l : s.labels) to_dest |= l.name == "destination" && l.value == dest;
      if (f.name == "container_http_requests_total" && to_dest) counted_out += s.value;
    }
  }
  collector->Stop();
  collector.reset();

  // 3. bpftrace counting the same tracepoints (if installed)
  bool have_bpftrace = system("command -v bpftrace >/dev/null 2>&1") == 0;
  Result bt;
  if (have_bpftrace) {
    std::string probes;
    for (const char* h : kHooks) probes += std::string(probes.empty() ? "" : ",") + "tracepoint:syscalls:" + h;
    pid_t b = fork();
    if (b == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execlp("bpftrace", "bpftrace", "-e", (probes + " { @[probe] = count(); }").c_str(), nullptr);
      _exit(127);
    }
    sleep(3);  // bpftrace compiles and attaches
    bt = Run(port++, rate, seconds, conns);
    kill(b, SIGINT);
    waitpid(b, nullptr, 0);
  }

  auto per = [&](double s, const Result& r) { return r.requests ? s / r.requests * 1e6 : 0; };
  printf("\n%-44s %12s %12s %14s\n", "", "agent off", "agent on", "bpftrace count");
  printf("%-44s %12llu %12llu %14llu\n", "requests completed", (unsigned long long)off.requests,
         (unsigned long long)on.requests, (unsigned long long)bt.requests);
  printf("%-44s %12.0f %12.0f %14.0f\n", "latency p50, us", off.p50_us, on.p50_us, bt.p50_us);
  printf("%-44s %12.0f %12.0f %14.0f\n", "latency p99, us", off.p99_us, on.p99_us, bt.p99_us);
  printf("%-44s %12.2f %12.2f %14.2f\n", "workload CPU per request (incl. BPF), us", per(off.cpu, off),
         per(on.cpu, on), per(bt.cpu, bt));
  printf("%-44s %12s %12.2f %14s\n", "agent user-space CPU per request, us", "-", per(agent_cpu, on), "-");
  printf("%-44s %12s %+12.0f %+14.0f\n", "added p99, us", "-", on.p99_us - off.p99_us,
         have_bpftrace ? bt.p99_us - off.p99_us : 0.0);
  uint64_t bpf_ns = 0;
  printf("\nagent on: kernel time per BPF program (bpf_stats):\n");
  for (size_t i = 0; i < after.size() && i < before.size(); i++) {
    uint64_t n = after[i].run_count - before[i].run_count;
    uint64_t ns = after[i].run_time_ns - before[i].run_time_ns;
    bpf_ns += ns;
    if (n == 0) continue;
    printf("  %-30s %10llu runs %8.0f ns/run %8.2f runs/request\n", after[i].program.c_str(), (unsigned long long)n,
           static_cast<double>(ns) / n, on.requests ? static_cast<double>(n) / on.requests : 0);
  }
  printf("  total BPF kernel time per request: %.2f us\n", on.requests ? bpf_ns / 1e3 / on.requests : 0);
  printf("L7 events read: %llu (expected 2 per request: client and server side), lost (ring full): %llu\n",
         (unsigned long long)counters.l7_events, (unsigned long long)counters.kernel_drops[COROOT_DROP_RINGBUF_FULL]);
  printf("outbound requests counted in container_http_requests_total{destination=%s}: %.0f of %llu\n", dest.c_str(),
         counted_out, (unsigned long long)on.requests);
  if (!have_bpftrace) printf("(bpftrace not installed: baseline column empty)\n");
  return 0;
}
