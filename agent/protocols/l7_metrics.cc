#include "agent/protocols/l7_metrics.h"

#include <algorithm>

#include "agent/protocols/dns/parse.h"
#include "agent/protocols/registry.h"

namespace coroot::agent::protocols {

namespace {
constexpr std::string_view kOtherDomain = "~other";
}

L7Metrics::AddResult L7Metrics::Add(std::string_view container_id, std::string_view destination,
                                    std::string_view actual_destination, const L7Request& r) {
  const ProtocolSpec* spec = FindProtocol(r.protocol);
  std::lock_guard<std::mutex> lock(mu_);
  if (spec == nullptr || (r.is_inbound ? spec->inbound_requests_total : spec->requests_total).empty()) {
    dropped_["unknown_protocol"]++;
    return AddResult::kDropped;
  }
  // Both directions: the usual targets (health checks, metrics scrapes) are inbound requests.
  if ((r.protocol == L7Protocol::kHttp || r.protocol == L7Protocol::kHttp2) && !options_.http_exclude.empty() &&
      options_.http_exclude.Excluded(r.path)) {
    dropped_["http_path_excluded"]++;
    return AddResult::kExcluded;
  }
  // HTTP/2 and gRPC are counted in the HTTP families, as Coroot does.
  L7Protocol proto = r.protocol == L7Protocol::kHttp2 ? L7Protocol::kHttp : r.protocol;
  Key key{std::string(container_id), proto, r.is_inbound, {}, {}, r.status.empty() ? "unknown" : r.status, {}, {},
          {}};
  bool is_dns = r.protocol == L7Protocol::kDns;
  bool is_messages = r.protocol == L7Protocol::kRabbitmq || r.protocol == L7Protocol::kNats;
  if (is_dns && !r.is_inbound) {
    // Coroot drops successful AAAA answers without records (dual-stack probing noise).
    if (r.method == "TypeAAAA" && key.status == kStatusOk && r.answers.empty()) {
      dropped_["dns_empty_aaaa"]++;
      return AddResult::kExcluded;
    }
    key.request_type = r.method;
    std::string domain = dns::NormalizeDomain(r.path);
    auto& seen = fqdns_[key.container_id];
    if (!seen.count(domain)) {
      if (seen.size() >= options_.max_fqdns_per_container)
        domain = std::string(kOtherDomain);
      else
        seen.insert(domain);
    }
    key.domain = std::move(domain);
  } else if (!r.is_inbound) {
    key.destination = std::string(destination);
    key.actual_destination = std::string(actual_destination);
  }
  if (is_messages) key.method = r.method;
  Key hkey{key.container_id, key.protocol, key.inbound, key.destination, key.actual_destination, {}, {}, {}, {}};
  bool has_histogram = !(r.is_inbound ? spec->inbound_requests_duration : spec->requests_duration).empty() &&
                       r.duration_ns != 0;
  auto cit = counters_.find(key);
  auto hit = has_histogram ? histograms_.find(hkey) : histograms_.end();
  size_t new_series = (cit == counters_.end() ? 1 : 0) + (has_histogram && hit == histograms_.end() ? 1 : 0);
  if (new_series > 0 && counters_.size() + histograms_.size() + new_series > options_.max_series) {
    dropped_["series_limit"]++;
    return AddResult::kDropped;
  }
  if (cit == counters_.end()) cit = counters_.emplace(std::move(key), 0).first;
  cit->second += is_messages ? std::max<uint32_t>(1, r.messages) : 1;  // a batch of messages in one syscall
  if (!has_histogram) return AddResult::kCounted;
  if (hit == histograms_.end()) hit = histograms_.emplace(std::move(hkey), Histogram{}).first;
  Histogram& h = hit->second;
  h.count++;
  double seconds = static_cast<double>(r.duration_ns) / 1e9;
  h.sum += seconds;
  const auto& le = prom::DefaultBuckets();
  for (size_t i = 0; i < kBuckets && i < le.size(); i++) {
    if (seconds <= le[i]) {
      h.buckets[i]++;
      break;
    }
  }
  return AddResult::kCounted;
}

void L7Metrics::RemoveContainer(std::string_view container_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = counters_.begin(); it != counters_.end();)
    it = it->first.container_id == container_id ? counters_.erase(it) : std::next(it);
  for (auto it = histograms_.begin(); it != histograms_.end();)
    it = it->first.container_id == container_id ? histograms_.erase(it) : std::next(it);
  auto f = fqdns_.find(container_id);
  if (f != fqdns_.end()) fqdns_.erase(f);
}

size_t L7Metrics::series() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_.size() + histograms_.size();
}

uint64_t L7Metrics::dropped(std::string_view reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dropped_.find(reason);
  return it == dropped_.end() ? 0 : it->second;
}

void L7Metrics::Collect(std::vector<prom::MetricFamily>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string_view, size_t> index;  // family name → position in out
  auto family = [&](std::string_view name, prom::MetricType type, std::string_view help) -> prom::MetricFamily& {
    auto it = index.find(name);
    if (it != index.end()) return (*out)[it->second];
    out->emplace_back(std::string(name), type, std::string(help));
    index.emplace(name, out->size() - 1);
    return out->back();
  };
  const auto& le = prom::DefaultBuckets();
  auto base_labels = [](const Key& k) {
    prom::Labels labels{{"container_id", k.container_id}};
    if (!k.inbound && k.protocol != L7Protocol::kDns) {
      labels.push_back({"destination", k.destination});
      labels.push_back({"actual_destination", k.actual_destination});
    }
    return labels;
  };
  for (const auto& [k, n] : counters_) {
    const ProtocolSpec* spec = FindProtocol(k.protocol);
    if (spec == nullptr) continue;
    prom::Labels labels = base_labels(k);
    if (k.protocol == L7Protocol::kDns && !k.inbound) {
      labels.push_back({"request_type", k.request_type});
      labels.push_back({"domain", k.domain});
    }
    labels.push_back({"status", k.status});
    if (k.protocol == L7Protocol::kRabbitmq || k.protocol == L7Protocol::kNats) labels.push_back({"method", k.method});
    std::sort(labels.begin(), labels.end());
    std::string_view total = k.inbound ? spec->inbound_requests_total : spec->requests_total;
    family(total, prom::MetricType::kCounter, "Number of L7 requests observed by eBPF").Add(std::move(labels), double(n));
  }
  for (const auto& [k, v] : histograms_) {
    const ProtocolSpec* spec = FindProtocol(k.protocol);
    if (spec == nullptr) continue;
    std::string_view duration = k.inbound ? spec->inbound_requests_duration : spec->requests_duration;
    prom::HistogramSample h;
    h.labels = base_labels(k);
    std::sort(h.labels.begin(), h.labels.end());
    h.upper_bounds = le;
    uint64_t cum = 0;
    for (size_t i = 0; i < le.size() && i < kBuckets; i++) {
      cum += v.buckets[i];
      h.cumulative_counts.push_back(cum);
    }
    h.count = v.count;
    h.sum = v.sum;
    family(duration, prom::MetricType::kHistogram, "Histogram of L7 request latency, seconds")
        .histograms.push_back(std::move(h));
  }
  if (dropped_.empty()) return;
  auto& d = family("coroot_l7_dropped_total", prom::MetricType::kCounter, "L7 records not counted, by reason");
  for (const auto& [reason, n] : dropped_) d.Add({{"reason", reason}}, double(n));
}

}  // namespace coroot::agent::protocols
