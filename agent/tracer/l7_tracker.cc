#include "agent/tracer/l7_tracker.h"

#include <chrono>
#include <cstddef>
#include <string_view>

#include "agent/protocols/l7_event.h"

namespace coroot::agent::tracer {

namespace protocols = coroot::agent::protocols;

L7Tracker::L7Tracker(std::shared_ptr<TcpTracker> tcp, std::shared_ptr<IContainerResolver> resolver,
                     protocols::L7MetricsOptions options)
    : tcp_(std::move(tcp)),
      resolver_(std::move(resolver)),
      metrics_(std::move(options)),
      ip_to_fqdn_(IpToFqdnOptions{.used_ips = [t = tcp_] { return t ? t->DestinationIps() : std::set<std::string>{}; }}) {}

void L7Tracker::OnEvent(const coroot_l7_event& e) {
  static_assert(offsetof(coroot_l7_event, cgroup_id) == protocols::kL7EventSize,
                "bpf/l7_abi.h and l7_event.h disagree");
  protocols::L7Event ev;
  std::string_view raw(reinterpret_cast<const char*>(&e), protocols::kL7EventSize);
  if (protocols::DecodeL7Event(raw, &ev) != protocols::ParseResult::kSuccess) return Drop("malformed");

  const bool dns = ev.protocol == protocols::L7Protocol::kDns;
  TcpTracker::ConnectionLabels labels;
  if (!Attribute(ev.pid, ev.fd, ev.is_inbound || dns, e.cgroup_id, 1, &labels)) return;

  protocols::L7Request req;
  {
    std::lock_guard<std::mutex> lock(mu_);
    decoder_.Decode(ev, &req);  // kInvalid still leaves the common fields (status, duration) valid
  }
  if (dns && !ev.is_inbound && req.status == protocols::kStatusOk) ip_to_fqdn_.Learn(req.path, req.answers);
  metrics_.Add(labels.container, labels.destination, labels.actual_destination, req);
}

bool L7Tracker::Attribute(uint32_t pid, uint64_t fd, bool by_process, uint64_t cgroup_id, size_t requests,
                          TcpTracker::ConnectionLabels* labels) {
  if (by_process) {
    labels->container = resolver_->ContainerKey(pid, cgroup_id);
  } else if (!tcp_->LookupConnection(pid, static_cast<int64_t>(fd), labels)) {
    Drop("untracked_connection", requests);  // skipped by the destination rules, or not seen connecting
    return false;
  }
  if (labels->container.empty()) {
    Drop("unknown_container", requests);
    return false;
  }
  return true;
}

void L7Tracker::Drop(const char* reason, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  dropped_[reason] += n;
}

void L7Tracker::OnH2Chunk(const coroot_h2_chunk& c) {
  std::vector<protocols::http2::Request> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    h2_.Feed(c, &done);
  }
  if (done.empty()) return;
  TcpTracker::ConnectionLabels labels;
  if (!Attribute(c.pid, c.fd, c.is_inbound, c.cgroup_id, done.size(), &labels)) return;
  for (const auto& r : done) {
    protocols::L7Request req;
    req.protocol = protocols::L7Protocol::kHttp2;
    req.method = r.method.empty() ? "unknown" : r.method;
    req.path = r.path;
    req.status = protocols::http2::StatusLabel(r);
    req.http_status_code = r.status;
    req.raw_status = r.is_grpc() ? r.grpc_status : r.status;
    req.duration_ns = r.duration_ns;
    req.is_inbound = c.is_inbound;
    req.fd = c.fd;
    req.pid = c.pid;
    req.connection_timestamp = c.connection_timestamp;
    metrics_.Add(labels.container, labels.destination, labels.actual_destination, req);
  }
}

size_t L7Tracker::h2_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return h2_.size();
}

void L7Tracker::Collect(std::vector<prom::MetricFamily>* out) {
  metrics_.Collect(out);
  ip_to_fqdn_.Collect(out);
  {
    std::lock_guard<std::mutex> lock(mu_);
    h2_.Gc(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count()));
    auto st = h2_.stats();
    prom::MetricFamily h2("coroot_node_agent_http2_connections", prom::MetricType::kGauge,
                          "HTTP/2 connections whose frames are being paired");
    h2.Add({}, static_cast<double>(h2_.size()));
    prom::MetricFamily desync("coroot_node_agent_http2_desyncs", prom::MetricType::kGauge,
                              "HPACK states lost on open HTTP/2 connections (bytes cut inside header frames)");
    desync.Add({}, static_cast<double>(st.desyncs));
    prom::MetricFamily evicted("coroot_node_agent_http2_connections_evicted_total", prom::MetricType::kCounter,
                               "HTTP/2 connections dropped to stay under the connection limit");
    evicted.Add({}, static_cast<double>(h2_.evicted()));
    out->push_back(std::move(h2));
    out->push_back(std::move(desync));
    out->push_back(std::move(evicted));
  }
  prom::MetricFamily f("coroot_node_agent_l7_events_dropped_total", prom::MetricType::kCounter,
                       "Kernel L7 events that could not be attributed to a container/connection, by reason");
  std::lock_guard<std::mutex> lock(mu_);
  for (const char* r : {"malformed", "untracked_connection", "unknown_container"})
    f.Add({{"reason", r}}, static_cast<double>(dropped_.count(r) ? dropped_.at(r) : 0));
  out->push_back(std::move(f));
}

uint64_t L7Tracker::dropped(const std::string& reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dropped_.find(reason);
  return it == dropped_.end() ? 0 : it->second;
}

}  // namespace coroot::agent::tracer
