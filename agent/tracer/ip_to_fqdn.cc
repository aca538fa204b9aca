#include "agent/tracer/ip_to_fqdn.h"

#include <algorithm>

#include "agent/tracer/net_rules.h"

namespace coroot::agent::tracer {

void IpToFqdn::Learn(std::string_view fqdn, const std::vector<protocols::DnsAnswer>& answers, Clock::time_point now) {
  if (fqdn.empty() || answers.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& a : answers) {
    auto ip = ParseIp(a.ip);
    if (!ip.ok()) continue;
    if (answers.size() > 1 && !IsPrivate(*ip)) continue;
    std::string key = FormatIp(*ip);  // the form connections are reported in
    auto it = by_ip_.find(key);
    if (it == by_ip_.end()) {
      if (options_.max_entries == 0) return;
      if (by_ip_.size() >= options_.max_entries) EvictOldest();
      it = by_ip_.emplace(std::move(key), Entry{}).first;
    }
    it->second.fqdn = std::string(fqdn);
    it->second.updated = now;
  }
}

void IpToFqdn::EvictOldest() {
  // Linear, but only when the table is full (a bound that normal nodes never reach).
  auto oldest = std::min_element(by_ip_.begin(), by_ip_.end(),
                                 [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
  if (oldest == by_ip_.end()) return;
  by_ip_.erase(oldest);
  evicted_++;
}

std::string IpToFqdn::Lookup(std::string_view ip) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_ip_.find(std::string(ip));
  return it == by_ip_.end() ? std::string() : it->second.fqdn;
}

size_t IpToFqdn::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_ip_.size();
}

uint64_t IpToFqdn::evicted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evicted_;
}

void IpToFqdn::Collect(std::vector<prom::MetricFamily>* out, Clock::time_point now) {
  std::set<std::string> used;
  const bool filter = static_cast<bool>(options_.used_ips);
  if (filter) used = options_.used_ips();  // outside mu_: it takes the TCP tracker's lock
  prom::MetricFamily f("ip_to_fqdn", prom::MetricType::kGauge, "IP address to the name it was resolved from (eBPF DNS)");
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = by_ip_.begin(); it != by_ip_.end();) {
    bool in_use = !filter || used.count(it->first);
    if (!in_use && now - it->second.updated > options_.ttl) {
      it = by_ip_.erase(it);
      continue;
    }
    if (in_use) f.Add({{"fqdn", it->second.fqdn}, {"ip", it->first}}, 1);
    ++it;
  }
  std::sort(f.samples.begin(), f.samples.end(), [](const auto& a, const auto& b) { return a.labels < b.labels; });
  out->push_back(std::move(f));
  prom::MetricFamily e("coroot_node_agent_ip_to_fqdn_dropped_total", prom::MetricType::kCounter,
                       "ip_to_fqdn entries dropped to stay under the table limit, by reason");
  e.Add({{"reason", "table_full"}}, static_cast<double>(evicted_));
  out->push_back(std::move(e));
}

}  // namespace coroot::agent::tracer
