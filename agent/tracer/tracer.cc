#include "agent/tracer/tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "agent/tracer/bpf_iter_records.h"
#include "agent/tracer/ring_wait.h"
#include "coroot.skel.h"
#include "lib/base/log.h"

namespace coroot::agent::tracer {

namespace {

// libbpf's own messages go to our log: warnings as warnings, the rest at debug level.
int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  std::string msg(buf, n > 0 ? std::min<size_t>(n, sizeof(buf) - 1) : 0);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  if (level == LIBBPF_WARN) {
    LOG(WARNING) << msg;  // libbpf's messages start with "libbpf: "
  } else {
    LOG(DEBUG) << msg;
  }
  return 0;
}

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string DetectTracefs() {
  for (const char* p : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
    if (Exists(std::string(p) + "/events")) return p;
  return "";
}

const char* DropReasonName(int i) {
  switch (i) {
    case COROOT_DROP_RINGBUF_FULL: return "ring_buffer_full";
    case COROOT_DROP_CONNS_FULL: return "conns_map_full";
    case COROOT_DROP_LISTENS_FULL: return "listens_map_full";
    case COROOT_DROP_FDS_FULL: return "connect_fds_map_full";
  }
  return "unknown";
}

}  // namespace

StatusOr<std::unique_ptr<Tracer>> Tracer::Start(const TracerOptions& options, EventHandler handler,
                                                L7Handler l7_handler, H2Handler h2_handler) {
  std::unique_ptr<Tracer> t(new Tracer());
  t->handler_ = std::move(handler);
  t->l7_handler_ = std::move(l7_handler);
  t->h2_handler_ = std::move(h2_handler);
  if (auto st = t->Init(options); !st.ok()) return st;
  t->thread_ = std::thread([p = t.get()] { p->Run(); });
  return t;
}

Status Tracer::Init(const TracerOptions& options) {
  options_ = options;
  libbpf_set_print(LibbpfPrint);
  if (!Exists("/sys/kernel/btf/vmlinux"))
    return Unavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot be relocated");
  std::string tracefs = options.tracefs.empty() ? DetectTracefs() : options.tracefs;
  // Without CAP_BPF + CAP_PERFMON (or root) nothing loads: say so once instead of per program.
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr) != 1)
    return PermissionDenied("this process cannot load BPF tracepoint programs (needs root, or CAP_BPF and CAP_PERFMON)");

  struct Spec {
    const char* program;
    bool required;
  };
  // Every program of the object, whether the agent can do without it.
  const Spec specs[] = {
      {"coroot_inet_sock_set_state", true},
      {"coroot_tcp_retransmit_skb", false},
      {"coroot_sys_enter_connect", false},
      {"coroot_sys_exit_connect", false},
      {"coroot_conn_bytes_iter", false},
      // L7 tracing (bpf/l7.bpf.c).
      {"coroot_l7_enter_write", false},
      {"coroot_l7_enter_writev", false},
      {"coroot_l7_enter_sendto", false},
      {"coroot_l7_enter_sendmsg", false},
      {"coroot_l7_enter_sendmmsg", false},
      {"coroot_l7_enter_connect", false},
      {"coroot_l7_enter_read", false},
      {"coroot_l7_exit_read", false},
      {"coroot_l7_enter_readv", false},
      {"coroot_l7_exit_readv", false},
      {"coroot_l7_enter_recvfrom", false},
      {"coroot_l7_exit_recvfrom", false},
      {"coroot_l7_enter_recvmsg", false},
      {"coroot_l7_exit_recvmsg", false},
      {"coroot_l7_exit_accept", false},
      {"coroot_l7_exit_accept4", false},
      {"coroot_l7_enter_bind", false},
      {"coroot_l7_exit_bind", false},
      {"coroot_l7_enter_close", false},
  };
  // TLS uprobes (tls::kTlsPrograms): loaded with L7 tracing, attached on demand through Attach().
  const bool load_uprobes = options.l7_hooks && options.connect_fd_hooks;

  for (int attempt = 0; attempt < 2; attempt++) {
    skel_ = coroot_bpf__open();
    if (!skel_) return ErrnoStatus("opening the BPF object", errno);
    bpf_map__set_max_entries(skel_->maps.events, static_cast<uint32_t>(options.ring_buffer_bytes));
    bpf_map__set_max_entries(skel_->maps.conns, options.max_connections);
    skel_->rodata->coroot_wakeup_bytes = options.wakeup_bytes ? options.wakeup_bytes : options.ring_buffer_bytes / 4;

    hooks_.clear();
    for (const auto& s : specs) {
      bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, s.program);
      HookState h;
      h.program = s.program;
      h.required = s.required;
      if (!prog) {
        h.error = "not in the BPF object";
        hooks_.push_back(h);
        continue;
      }
      h.hook = bpf_program__section_name(prog);
      bool load = true;
      // Feature probe: a tracepoint that this kernel does not have cannot attach; skip loading it.
      if (h.hook.rfind("tracepoint/", 0) == 0 && !tracefs.empty()) {
        std::string tp = h.hook.substr(strlen("tracepoint/"));
        if (!Exists(tracefs + "/events/" + tp)) {
          h.error = "tracepoint " + tp + " does not exist on this kernel";
          load = false;
        }
      }
      if (h.program == "coroot_conn_bytes_iter" && (!options.conn_bytes_iterator || attempt > 0)) {
        h.error = attempt > 0 ? "the BPF object failed to load with the socket iterator; loaded without it"
                              : "disabled by configuration";
        load = false;
      }
      if ((h.program == "coroot_sys_enter_connect" || h.program == "coroot_sys_exit_connect") &&
          !options.connect_fd_hooks) {
        h.error = "not needed: L7 tracing is disabled (connections are reported without their fd)";
        load = false;
      }
      if (h.program.rfind("coroot_l7_", 0) == 0 && load && !(options.l7_hooks && options.connect_fd_hooks)) {
        h.error = "L7 tracing is disabled";
        load = false;
      }
      if (!load) bpf_program__set_autoload(prog, false);
      hooks_.push_back(h);
    }
    // Programs of other loaders in the same object (e.g. ProcTracer's) are not this one's to load.
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel_->obj) {
      const char* name = bpf_program__name(prog);
      const bool uprobe = std::any_of(std::begin(tls::kTlsPrograms), std::end(tls::kTlsPrograms),
                                      [&](const char* u) { return strcmp(u, name) == 0; });
      if (uprobe) {
        if (!load_uprobes) bpf_program__set_autoload(prog, false);
        continue;
      }
      if (std::none_of(std::begin(specs), std::end(specs), [&](const Spec& s) { return strcmp(s.program, name) == 0; }))
        bpf_program__set_autoload(prog, false);
    }
    // RuntimeProbes' maps (bpf/runtime.bpf.c) live in its own instance: not created here.
    for (bpf_map* m : {skel_->maps.runtime_stats, skel_->maps.python_waits, skel_->maps.nodejs_loops})
      bpf_map__set_autocreate(m, false);
    int err = coroot_bpf__load(skel_);
    if (err == 0) break;
    coroot_bpf__destroy(skel_);
    skel_ = nullptr;
    // The iterator is the program most likely to be refused (it needs BPF_PROG_TYPE_TRACING):
    // try once more without it before giving up.
    if (attempt == 0 && options.conn_bytes_iterator) {
      LOG(WARNING) << "eBPF: loading the BPF object failed (" << strerror(-err)
                   << "); retrying without the socket iterator (iter/tcp)";
      continue;
    }
    return ErrnoStatus("loading the BPF object (verifier or permissions)", -err);
  }

  for (auto& h : hooks_) {
    if (!h.error.empty()) continue;
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, h.program.c_str());
    bpf_link* link = nullptr;
    if (h.program == "coroot_conn_bytes_iter") {
      link = bpf_program__attach_iter(prog, nullptr);
      if (link) iter_link_ = link;
    } else {
      link = bpf_program__attach(prog);
      if (link) links_.push_back(link);
    }
    if (!link) {
      int e = errno;
      h.error = std::string("attach failed: ") + strerror(e);
    } else {
      h.attached = true;
    }
  }
  for (const auto& h : hooks_) {
    if (h.attached) {
      LOG(INFO) << "eBPF hook " << h.hook << " (" << h.program << "): attached";
    } else {
      LOG(WARNING) << "eBPF hook " << (h.hook.empty() ? h.program : h.hook) << " (" << h.program
                   << "): NOT attached: " << h.error
                   << (h.required ? "" : "; continuing without it");
    }
  }
  for (const auto& h : hooks_)
    if (h.required && !h.attached) return Unavailable("required eBPF hook " + h.hook + " is not attached: " + h.error);

  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &Tracer::OnSample, this, nullptr);
  if (!rb_) return ErrnoStatus("creating the ring buffer reader", errno);
  return Status::Ok();
}

int Tracer::OnSample(void* ctx, void* data, size_t size) {
  auto* t = static_cast<Tracer*>(ctx);
  // The kinds of record in the ring have different fixed sizes.
  static_assert(sizeof(coroot_l7_event) != sizeof(coroot_tcp_event));
  static_assert(sizeof(coroot_h2_chunk) != sizeof(coroot_tcp_event) && sizeof(coroot_h2_chunk) != sizeof(coroot_l7_event));
  if (size == sizeof(coroot_l7_event)) {
    t->l7_events_++;
    if (t->l7_handler_) t->l7_handler_(*static_cast<const coroot_l7_event*>(data));
    return 0;
  }
  if (size == sizeof(coroot_h2_chunk)) {
    t->h2_chunks_++;
    if (t->h2_handler_) t->h2_handler_(*static_cast<const coroot_h2_chunk*>(data));
    return 0;
  }
  if (size < sizeof(coroot_tcp_event)) {
    t->malformed_++;
    return 0;
  }
  coroot_tcp_event e;
  std::memcpy(&e, data, sizeof(e));
  t->events_++;
  t->handler_(e);
  return 0;
}

void Tracer::Run() {
  // Sleep in slices of at most 200 ms so that Stop() is prompt whatever the poll interval.
  const auto slice = std::min<std::chrono::milliseconds>(options_.poll_interval, std::chrono::milliseconds(200));
  auto next_drain = std::chrono::steady_clock::now() + options_.poll_interval;
  while (!stop_.load()) {
    // Returns early only when a producer forced a wakeup (the ring is filling up); the events
    // are consumed then (n > 0) or on the timer below.
    int n = WaitForRing(rb_, static_cast<int>(slice.count()));
    if (n > 0) Drain();
    if (n < 0 && n != -EINTR) {
      LOG(ERROR) << "eBPF: ring buffer poll failed: " << strerror(-n);
      std::this_thread::sleep_for(slice);
    }
    if (std::chrono::steady_clock::now() >= next_drain) {
      Drain();
      next_drain = std::chrono::steady_clock::now() + options_.poll_interval;
    }
  }
}

void Tracer::Drain() {
  std::lock_guard<std::mutex> lock(rb_mu_);
  if (rb_) ring_buffer__consume(rb_);
}

void Tracer::Stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  Drain();
  std::lock_guard<std::mutex> lock(rb_mu_);
  if (rb_) ring_buffer__free(rb_);
  rb_ = nullptr;
  for (auto* l : links_) bpf_link__destroy(l);
  links_.clear();
  {
    std::lock_guard<std::mutex> l(uprobe_mu_);
    for (auto* u : uprobe_links_) bpf_link__destroy(u);
    uprobe_links_.clear();
  }
  if (iter_link_) bpf_link__destroy(iter_link_);
  iter_link_ = nullptr;
  if (skel_) coroot_bpf__destroy(skel_);
  skel_ = nullptr;
}

Tracer::~Tracer() { Stop(); }

Status Tracer::Attach(const std::string& program, const std::string& path, uint64_t offset, bool retprobe) {
  std::lock_guard<std::mutex> l(uprobe_mu_);
  if (!skel_) return Unavailable("the tracer is stopped");
  bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, program.c_str());
  if (!prog) return NotFound("no BPF program " + program);
  if (bpf_program__fd(prog) < 0) return Unavailable("BPF program " + program + " is not loaded");
  bpf_link* link = bpf_program__attach_uprobe(prog, retprobe, -1 /* every process */, path.c_str(), offset);
  if (!link) return ErrnoStatus((retprobe ? "uretprobe " : "uprobe ") + program + " on " + path, errno);
  uprobe_links_.push_back(link);
  return Status::Ok();
}

size_t Tracer::uprobes() const {
  std::lock_guard<std::mutex> l(uprobe_mu_);
  return uprobe_links_.size();
}

Status Tracer::ReadConnBytes(const std::function<void(const coroot_conn_bytes&)>& fn, int netns_fd) {
  if (!iter_link_) return Unavailable("the socket iterator is not attached");
  int fd = -1, err = 0;
  if (netns_fd < 0) {
    fd = bpf_iter_create(bpf_link__fd(iter_link_));
    err = errno;
  } else {
    // The iterator takes the namespace of its creator; the agent's threads stay where they are.
    int link_fd = bpf_link__fd(iter_link_);
    std::thread([&] {
      if (setns(netns_fd, CLONE_NEWNET) != 0) {
        err = errno;
        return;
      }
      fd = bpf_iter_create(link_fd);
      err = errno;
    }).join();
  }
  if (fd < 0) return ErrnoStatus("creating the socket iterator", err);
  return ReadIterRecords<coroot_conn_bytes>(fd, "socket iterator", fn);
}

Status Tracer::AddReconciled(const coroot_tuple_key& key) {
  if (!skel_) return Unavailable("tracer stopped");
  __u32 one = 1;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.reconciled), &key, &one, BPF_ANY) != 0)
    return ErrnoStatus("adding a reconciled connection", errno);
  return Status::Ok();
}

Status Tracer::AddDnsServerSocket(uint32_t pid, int fd) {
  if (!skel_) return Unavailable("tracer stopped");
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // bpf_ktime_get_ns()'s clock
  coroot_l7_sock s{};
  s.ts_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
  s.inbound = 1;
  s.udp = 1;  // cgroup_id 0: the container is resolved by pid
  uint64_t key = (static_cast<uint64_t>(pid) << 32) | static_cast<uint32_t>(fd);
  // BPF_NOEXIST: a bind the kernel saw since attaching wins.
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.l7_socks), &key, &s, BPF_NOEXIST) != 0 && errno != EEXIST)
    return ErrnoStatus("adding a DNS server socket", errno);
  return Status::Ok();
}

Tracer::Counters Tracer::ReadCounters() {
  Counters c;
  c.events = events_.load();
  c.malformed = malformed_.load();
  c.l7_events = l7_events_.load();
  c.h2_chunks = h2_chunks_.load();
  if (!skel_) return c;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return c;
  std::vector<__u64> values(static_cast<size_t>(ncpu));
  int fd = bpf_map__fd(skel_->maps.drops);
  for (__u32 i = 0; i < COROOT_DROP_MAX; i++) {
    if (bpf_map_lookup_elem(fd, &i, values.data()) != 0) continue;
    for (auto v : values) c.kernel_drops[i] += v;
  }
  return c;
}

std::vector<Tracer::ProgramStats> Tracer::ReadProgramStats() {
  std::vector<ProgramStats> out;
  if (!skel_) return out;
  for (const auto& h : hooks_) {
    if (!h.attached) continue;
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, h.program.c_str());
    if (!prog) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0) continue;
    out.push_back({h.program, info.run_cnt, info.run_time_ns});
  }
  return out;
}

void Tracer::CollectSelfMetrics(std::vector<prom::MetricFamily>* out) {
  using prom::MetricFamily;
  using prom::MetricType;
  MetricFamily hooks("coroot_node_agent_ebpf_hook_attached", MetricType::kGauge,
                     "1 when the eBPF program is attached to its hook, 0 when it could not be");
  for (const auto& h : hooks_) hooks.Add({{"program", h.program}, {"hook", h.hook}}, h.attached ? 1 : 0);
  Counters c = ReadCounters();
  MetricFamily events("coroot_node_agent_ebpf_events_total", MetricType::kCounter,
                      "Events read from the eBPF ring buffer");
  events.Add({}, static_cast<double>(c.events + c.l7_events + c.h2_chunks));
  MetricFamily lost("coroot_node_agent_ebpf_events_lost_total", MetricType::kCounter,
                    "Events the kernel could not write because the ring buffer was full");
  lost.Add({}, static_cast<double>(c.kernel_drops[COROOT_DROP_RINGBUF_FULL]));
  MetricFamily dropped("coroot_node_agent_ebpf_dropped_total", MetricType::kCounter,
                       "Kernel-side drops by reason (full maps, full ring buffer, malformed events)");
  for (int i = 0; i < COROOT_DROP_MAX; i++)
    dropped.Add({{"reason", DropReasonName(i)}}, static_cast<double>(c.kernel_drops[i]));
  dropped.Add({{"reason", "malformed_event"}}, static_cast<double>(c.malformed));
  out->push_back(std::move(hooks));
  out->push_back(std::move(events));
  out->push_back(std::move(lost));
  out->push_back(std::move(dropped));
}

}  // namespace coroot::agent::tracer
