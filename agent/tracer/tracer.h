#pragma once
// Tracer: loads the agent's BPF object (bpf/, through the libbpf skeleton), attaches each hook on
// its own and logs one clear line for every hook that cannot attach, and delivers the kernel's
// events from a ring buffer whose wakeups are batched (producers submit with BPF_RB_NO_WAKEUP
// unless the ring is a quarter full; this thread drains it on a timer).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/tracer/tls/tls_instrumenter.h"
#include "lib/base/status.h"
#include "lib/prom/metric.h"
#include "l7_abi.h"
#include "tcp_abi.h"

struct coroot_bpf;
struct ring_buffer;
struct bpf_link;

namespace coroot::agent::tracer {

struct TracerOptions {
  size_t ring_buffer_bytes = 1 << 20;  // a power of two, at least one page
  uint32_t max_connections = 65536;    // size of the kernel's `conns` map
  std::chrono::milliseconds poll_interval{100};
  // Unread bytes at which a producer wakes the reader (0 = a quarter of the ring).
  uint64_t wakeup_bytes = 0;
  // The socket iterator that refreshes byte counters of open connections.
  bool conn_bytes_iterator = true;
  // sys_enter/exit_connect, which give each connection its fd (needed by L7 tracing to join
  // requests to connections). Any enabled syscall tracepoint sends every syscall of every process
  // through the kernel's tracing slow path, so they are off when L7 tracing is disabled.
  bool connect_fd_hooks = true;
  // The read/write/accept/close syscall hooks of L7 tracing (bpf/l7.bpf.c); need connect_fd_hooks.
  bool l7_hooks = true;
  // Root of tracefs, to check that each tracepoint exists before loading ("" = detect).
  std::string tracefs;
};

struct HookState {
  std::string program;  // BPF program name
  std::string hook;     // e.g. "tracepoint/sock/inet_sock_set_state"
  bool required = false;
  bool attached = false;
  std::string error;  // why it is not attached
};

class Tracer : public tls::IUprobeAttacher {
 public:
  using EventHandler = std::function<void(const coroot_tcp_event&)>;
  // L7 events come through the same ring (so in order with the connects); raw bytes, in the
  // layout of agent/protocols/l7_event.h.
  using L7Handler = std::function<void(const coroot_l7_event&)>;
  // HTTP/2 connections: each read/write, raw (paired in user space).
  using H2Handler = std::function<void(const coroot_h2_chunk&)>;

  // Loads, attaches and starts the reader thread. Fails (and the caller carries on without eBPF)
  // when the object cannot be loaded or a required hook cannot attach; optional hooks that fail
  // are logged and left out.
  static StatusOr<std::unique_ptr<Tracer>> Start(const TracerOptions& options, EventHandler handler,
                                                 L7Handler l7_handler = nullptr, H2Handler h2_handler = nullptr);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  void Stop();
  const std::vector<HookState>& hooks() const { return hooks_; }

  // Attaches a uprobe program of the object (the TLS ones, bpf/l7_tls.h) to a file offset in a
  // binary, for every process that maps it. Links live until Stop.
  Status Attach(const std::string& program, const std::string& path, uint64_t offset, bool retprobe) override;
  size_t uprobes() const;

  // Byte totals of open connections (the socket iterator). An iterator walks the sockets of the
  // network namespace it is created in: this process's, or the one netns_fd (an open
  // /proc/<pid>/ns/net) refers to, entered by a short-lived thread.
  Status ReadConnBytes(const std::function<void(const coroot_conn_bytes&)>& fn, int netns_fd = -1);
  // Registers a connection that existed before the tracer, so that its close is reported.
  Status AddReconciled(const coroot_tuple_key& key);
  // Traces a DNS server's UDP socket (bound to port 53) that was bound before the tracer attached
  // (the kernel only sees binds).
  Status AddDnsServerSocket(uint32_t pid, int fd);
  // Drains the ring buffer now (tests; the reader thread does it every poll_interval).
  void Drain();

  struct Counters {
    uint64_t events = 0, malformed = 0, l7_events = 0, h2_chunks = 0;
    uint64_t kernel_drops[COROOT_DROP_MAX] = {};
  };
  Counters ReadCounters();

  // Kernel run statistics of each loaded program (filled only while the kernel's
  // bpf_stats_enabled sysctl is on): for benchmarks.
  struct ProgramStats {
    std::string program;
    uint64_t run_count = 0, run_time_ns = 0;
  };
  std::vector<ProgramStats> ReadProgramStats();
  // Self-metrics: hooks attached, events, lost events, kernel-side drops.
  void CollectSelfMetrics(std::vector<prom::MetricFamily>* out);

 private:
  Tracer() = default;
  Status Init(const TracerOptions& options);
  void Run();
  static int OnSample(void* ctx, void* data, size_t size);

  TracerOptions options_;
  EventHandler handler_;
  L7Handler l7_handler_;
  H2Handler h2_handler_;
  coroot_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  bpf_link* iter_link_ = nullptr;
  std::vector<bpf_link*> links_;
  mutable std::mutex uprobe_mu_;
  std::vector<bpf_link*> uprobe_links_;
  std::vector<HookState> hooks_;
  std::mutex rb_mu_;  // ring_buffer__consume is not reentrant
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<uint64_t> events_{0}, malformed_{0}, l7_events_{0}, h2_chunks_{0};
};

}  // namespace coroot::agent::tracer
