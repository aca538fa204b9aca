#pragma once
// IpToFqdn: the node-wide IP -> name table learned from the A/AAAA answers of the DNS responses
// the kernel reports, exported as Coroot's `ip_to_fqdn{ip,fqdn}` gauge (value 1).
// As Coroot: a name is learned for its private addresses, and for a public one only when it
// resolved to that single address (a name behind many public IPs says little about one of them).
// Exported for the IPs that a container's connections still use (when a provider of those is
// set), else all learned ones. Bounded: the oldest entry makes room; entries not refreshed for
// `ttl` and not in use are forgotten.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/protocols/types.h"
#include "lib/prom/metric.h"

namespace coroot::agent::tracer {

struct IpToFqdnOptions {
  size_t max_entries = 10000;
  std::chrono::seconds ttl{600};
  // IPs (text form, as FormatIp prints them) that containers' connections use now; unset = export
  // every learned entry.
  std::function<std::set<std::string>()> used_ips;
};

class IpToFqdn : public prom::ICollector {
 public:
  using Clock = std::chrono::steady_clock;
  explicit IpToFqdn(IpToFqdnOptions options = {}) : options_(std::move(options)) {}

  // The answers of one response for `fqdn` (any thread).
  void Learn(std::string_view fqdn, const std::vector<protocols::DnsAnswer>& answers, Clock::time_point now = Clock::now());
  // "" when the IP has no name.
  std::string Lookup(std::string_view ip) const;
  size_t size() const;
  uint64_t evicted() const;

  void Collect(std::vector<prom::MetricFamily>* out) override { Collect(out, Clock::now()); }
  void Collect(std::vector<prom::MetricFamily>* out, Clock::time_point now);

 private:
  struct Entry {
    std::string fqdn;
    Clock::time_point updated;
  };
  void EvictOldest();

  IpToFqdnOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> by_ip_;
  uint64_t evicted_ = 0;
};

}  // namespace coroot::agent::tracer
