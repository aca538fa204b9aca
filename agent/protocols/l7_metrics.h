#pragma once
// L7Metrics: accumulates decoded requests into Coroot's per-container L7 families —
//   outbound: container_<proto>_<requests|queries>_total{destination,actual_destination,status}
//             + the ..._duration_seconds_total histogram{destination,actual_destination}
//             (buckets 0.005 … 10 s, no status label);
//   inbound:  container_<proto>_inbound_..._total{status} + histogram (no labels);
//   DNS:      container_dns_requests_total{request_type,domain,status} (domain capped per container
//             by --max-fqdns-per-container, overflow "~other");
//   RabbitMQ/NATS: container_<proto>_messages_total{destination,actual_destination,status,method}.
// Family names come from the protocol registry. The number of series is bounded; records that
// would exceed it are counted in coroot_l7_dropped_total{reason}. Thread-safe.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "agent/protocols/http/parse.h"
#include "agent/protocols/types.h"
#include "lib/prom/metric.h"

namespace coroot::agent::protocols {

struct L7MetricsOptions {
  size_t max_series = 100000;
  size_t max_fqdns_per_container = 50;  // --max-fqdns-per-container
  http::PathFilter http_exclude;        // --exclude-http-requests-by-path (HTTP/1 and HTTP/2, both directions)
};

class L7Metrics : public prom::ICollector {
 public:
  enum class AddResult { kCounted, kExcluded, kDropped };

  explicit L7Metrics(L7MetricsOptions options = {}) : options_(std::move(options)) {}

  // destination / actual_destination are ignored for inbound requests and for DNS.
  AddResult Add(std::string_view container_id, std::string_view destination, std::string_view actual_destination,
                const L7Request& r);

  // Forget a container's series (it is gone).
  void RemoveContainer(std::string_view container_id);

  void Collect(std::vector<prom::MetricFamily>* out) override;

  size_t series() const;
  uint64_t dropped(std::string_view reason) const;

 private:
  struct Key {
    std::string container_id;
    L7Protocol protocol;
    bool inbound;
    std::string destination, actual_destination, status, method, request_type, domain;
    auto Tie() const {
      return std::tie(container_id, protocol, inbound, destination, actual_destination, status, method, request_type,
                      domain);
    }
    bool operator<(const Key& o) const { return Tie() < o.Tie(); }
  };
  static constexpr size_t kBuckets = 11;
  struct Histogram {
    uint64_t count = 0;
    std::array<uint64_t, kBuckets> buckets{};  // non-cumulative: [i] counts (le[i-1], le[i]]
    double sum = 0;
  };

  L7MetricsOptions options_;
  mutable std::mutex mu_;
  // Counters carry every label; latency histograms (as in Coroot) only the container and, outbound,
  // destination + actual_destination: no status, no DNS type/domain. Zero durations are not observed.
  std::map<Key, uint64_t> counters_;
  std::map<Key, Histogram> histograms_;
  std::map<std::string, std::set<std::string>, std::less<>> fqdns_;  // per container
  std::map<std::string, uint64_t, std::less<>> dropped_;
};

}  // namespace coroot::agent::protocols
