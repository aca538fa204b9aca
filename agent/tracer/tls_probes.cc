#include "agent/tracer/tls_probes.h"

namespace coroot::agent::tracer {

TlsProbes::TlsProbes(tls::TlsInstrumenterOptions options) : instrumenter_(&forwarder_, std::move(options)) {}

TlsProbes::~TlsProbes() { Stop(); }

void TlsProbes::Start(tls::IUprobeAttacher* attacher) {
  {
    std::lock_guard<std::mutex> l(mu_);
    forwarder_.to = attacher;
  }
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      instrumenter_.Poll(tls::TlsInstrumenter::Clock::now());
      cv_.wait_for(l, std::chrono::seconds(1), [this] { return stop_; });
    }
  });
}

void TlsProbes::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    forwarder_.to = nullptr;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TlsProbes::OnTcpEvent(const coroot_tcp_event& e) {
  if (e.pid == 0 || (e.type != COROOT_TCP_CONNECT_OK && e.type != COROOT_TCP_LISTEN_OPEN)) return;
  std::lock_guard<std::mutex> l(mu_);
  instrumenter_.OnProcess(static_cast<pid_t>(e.pid));
}

void TlsProbes::PollNow() {
  std::lock_guard<std::mutex> l(mu_);
  instrumenter_.Poll(tls::TlsInstrumenter::Clock::now());
}

tls::TlsInstrumenter::Stats TlsProbes::stats() {
  std::lock_guard<std::mutex> l(mu_);
  return instrumenter_.stats();
}

void TlsProbes::CollectSelfMetrics(std::vector<prom::MetricFamily>* out) {
  auto s = stats();
  prom::MetricFamily files("coroot_node_agent_tls_files", prom::MetricType::kGauge,
                           "Binaries and libraries looked at for TLS uprobes, by outcome");
  files.Add({{"state", "attached"}}, static_cast<double>(s.files_attached));
  files.Add({{"state", "skipped"}}, static_cast<double>(s.files_skipped));
  prom::MetricFamily probes("coroot_node_agent_tls_uprobes", prom::MetricType::kGauge,
                            "TLS uprobes attached, and the ones the kernel refused");
  probes.Add({{"state", "attached"}}, static_cast<double>(s.probes_attached));
  probes.Add({{"state", "failed"}}, static_cast<double>(s.attach_errors));
  out->push_back(std::move(files));
  out->push_back(std::move(probes));
}

}  // namespace coroot::agent::tracer
