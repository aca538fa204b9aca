#pragma once
// TLS plaintext for L7 tracing, beside the tracer: a process that connects or listens becomes a
// candidate of the TLS instrumenter (tls/tls_instrumenter.h), and a thread looks at the due
// candidates every second, attaching the uprobes of bpf/l7_tls.h through the tracer.
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/tracer/tls/tls_instrumenter.h"
#include "lib/prom/metric.h"
#include "tcp_abi.h"

namespace coroot::agent::tracer {

class TlsProbes {
 public:
  explicit TlsProbes(tls::TlsInstrumenterOptions options);
  ~TlsProbes();
  TlsProbes(const TlsProbes&) = delete;
  TlsProbes& operator=(const TlsProbes&) = delete;

  // Starts the polling thread; uprobes go through attacher (the tracer), which must outlive Stop.
  void Start(tls::IUprobeAttacher* attacher);
  void Stop();
  // Called from the tracer's reader thread for every TCP event.
  void OnTcpEvent(const coroot_tcp_event& e);
  // Looks at the due candidates now (tests; the thread does it every second).
  void PollNow();

  tls::TlsInstrumenter::Stats stats();
  void CollectSelfMetrics(std::vector<prom::MetricFamily>* out);

 private:
  // Forwards to the attacher set by Start: the instrumenter is built before the tracer exists.
  struct Forwarder : tls::IUprobeAttacher {
    tls::IUprobeAttacher* to = nullptr;
    Status Attach(const std::string& program, const std::string& path, uint64_t offset, bool retprobe) override {
      return to ? to->Attach(program, path, offset, retprobe) : Unavailable("the tracer is not running");
    }
  };
  Forwarder forwarder_;
  std::mutex mu_;
  tls::TlsInstrumenter instrumenter_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace coroot::agent::tracer
