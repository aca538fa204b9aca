#include "agent/tracer/ip_to_fqdn.h"

#include <gtest/gtest.h>

namespace coroot::agent::tracer {
namespace {

using protocols::DnsAnswer;

std::vector<std::pair<std::string, std::string>> Exported(IpToFqdn& t, IpToFqdn::Clock::time_point now) {
  std::vector<prom::MetricFamily> out;
  t.Collect(&out, now);
  std::vector<std::pair<std::string, std::string>> r;  // (ip, fqdn)
  for (const auto& f : out) {
    if (f.name != "ip_to_fqdn") continue;
    for (const auto& s : f.samples) {
      std::string ip, fqdn;
      for (const auto& l : s.labels) (l.name == "ip" ? ip : fqdn) = l.value;
      EXPECT_EQ(s.value, 1);
      r.emplace_back(ip, fqdn);
    }
  }
  return r;
}

TEST(IpToFqdnTest, PrivateAddressesOrASinglePublicOne) {
  IpToFqdn t;
  auto now = IpToFqdn::Clock::now();
  t.Learn("one.example", {{"TypeA", "93.184.216.34"}}, now);
  t.Learn("many.example", {{"TypeA", "1.1.1.1"}, {"TypeA", "10.0.0.7"}, {"TypeAAAA", "2001:db8::1"}}, now);
  t.Learn("v6.test", {{"TypeAAAA", "fd00::1"}}, now);
  t.Learn("junk.test", {{"TypeA", "not-an-ip"}}, now);
  EXPECT_EQ(t.Lookup("93.184.216.34"), "one.example");
  EXPECT_EQ(t.Lookup("10.0.0.7"), "many.example");  // private: kept although the name has several
  EXPECT_EQ(t.Lookup("1.1.1.1"), "");              // one public address of several: not kept
  EXPECT_EQ(t.Lookup("2001:db8::1"), "");
  EXPECT_EQ(t.Lookup("fd00::1"), "v6.test");
  EXPECT_EQ(t.size(), 3u);
  // Without a provider of used IPs every entry is exported, sorted.
  EXPECT_EQ(Exported(t, now), (std::vector<std::pair<std::string, std::string>>{
                                  {"10.0.0.7", "many.example"}, {"93.184.216.34", "one.example"}, {"fd00::1", "v6.test"}}));
  // A newer answer renames the address.
  t.Learn("other.example", {{"TypeA", "93.184.216.34"}}, now);
  EXPECT_EQ(t.Lookup("93.184.216.34"), "other.example");
}

TEST(IpToFqdnTest, ExportsUsedIpsAndForgetsStaleUnusedOnes) {
  std::set<std::string> used{"10.0.0.1"};
  IpToFqdn t(IpToFqdnOptions{.max_entries = 2, .ttl = std::chrono::seconds(600), .used_ips = [&] { return used; }});
  auto t0 = IpToFqdn::Clock::now();
  t.Learn("a.test", {{"TypeA", "10.0.0.1"}}, t0);
  t.Learn("b.test", {{"TypeA", "10.0.0.2"}}, t0 + std::chrono::seconds(1));
  EXPECT_EQ(Exported(t, t0), (std::vector<std::pair<std::string, std::string>>{{"10.0.0.1", "a.test"}}));
  // The bound: the oldest entry makes room (and is counted).
  t.Learn("c.test", {{"TypeA", "10.0.0.3"}}, t0 + std::chrono::seconds(2));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.evicted(), 1u);
  EXPECT_EQ(t.Lookup("10.0.0.1"), "");
  // After the ttl, unused entries go; used ones stay.
  used = {"10.0.0.3"};
  EXPECT_EQ(Exported(t, t0 + std::chrono::seconds(1000)),
            (std::vector<std::pair<std::string, std::string>>{{"10.0.0.3", "c.test"}}));
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace coroot::agent::tracer
