#pragma once
// When and where TLS uprobes go. A process becomes a candidate when it first connects or listens;
// once it has run for the instrumentation delay (Coroot's --instrumentation-delay, 30 s: libraries
// are loaded by then and short-lived tools are never instrumented), its executable and mapped
// libssl files are inspected. Each file is parsed and attached once however many processes use it.
// A process is looked at again every retry interval for a while, for libraries loaded late.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "agent/tracer/tls/tls_targets.h"
#include "lib/base/status.h"

namespace coroot::agent::tracer::tls {

// Attaches one uprobe to a BPF program of the loaded object (the tracer implements it over libbpf).
class IUprobeAttacher {
 public:
  virtual ~IUprobeAttacher() = default;
  virtual Status Attach(const std::string& program, const std::string& path, uint64_t offset, bool retprobe) = 0;
};

// Every BPF program ProgramForSite names (bpf/l7_tls.h): the tracer loads them with L7 tracing
// and attaches them on demand.
inline constexpr const char* kTlsPrograms[] = {
    "coroot_openssl_write_enter",   "coroot_openssl_write_exit",    "coroot_openssl_read_enter",
    "coroot_openssl_read_exit",     "coroot_openssl_read_ex_enter", "coroot_openssl_read_ex_exit",
    "coroot_go_tls_write_enter",    "coroot_go_tls_read_enter",     "coroot_go_tls_read_exit",
};

// The BPF program that handles a probe site; nullptr when the agent has none for it.
const char* ProgramForSite(TlsLibraryKind kind, const UprobeSite& site);

struct TlsInstrumenterOptions {
  std::string proc_root = "/proc";
  std::chrono::seconds delay{30};            // since the process started
  std::chrono::seconds retry_interval{5};    // between looks at one process
  int looks_per_process = 6;                 // then the process is left alone
};

class TlsInstrumenter {
 public:
  using Clock = std::chrono::steady_clock;
  TlsInstrumenter(IUprobeAttacher* attacher, TlsInstrumenterOptions options);

  // A process that connected or listened.
  void OnProcess(pid_t pid);
  // Looks at the candidates that are due; call every second or so.
  void Poll(Clock::time_point now);

  struct Stats {
    uint64_t files_attached = 0;    // files with every probe site attached
    uint64_t probes_attached = 0;
    uint64_t attach_errors = 0;     // probe sites the kernel refused
    uint64_t files_skipped = 0;     // no TLS, stripped, unreadable, unsupported Go
    uint64_t processes_inspected = 0;
  };
  const Stats& stats() const { return stats_; }
  // Why each skipped or failed file was left out (path → reason), for the log and tests.
  const std::map<std::string, std::string>& problems() const { return problems_; }

 private:
  struct Candidate {
    Clock::time_point next;
    int looks_left;
  };
  void Inspect(pid_t pid);
  void InspectFile(const std::string& path, bool libssl_only);
  // How long ago the process started (from /proc/<pid>/stat), or nullopt when it is gone.
  std::optional<std::chrono::seconds> Age(pid_t pid) const;

  IUprobeAttacher* attacher_;
  TlsInstrumenterOptions options_;
  std::map<pid_t, Candidate> candidates_;
  std::set<std::tuple<uint64_t, uint64_t>> files_done_;  // dev, inode: attached or skipped
  std::map<std::string, std::string> problems_;
  Stats stats_;
};

}  // namespace coroot::agent::tracer::tls
