#include "agent/tracer/l7_tracker.h"

#include <gtest/gtest.h>

#include <cstring>

namespace coroot::agent::tracer {
namespace {

constexpr uint32_t kHostNs = 4026531840u;

class Resolver : public IContainerResolver {
 public:
  std::string ContainerKey(uint32_t pid, uint64_t) override { return pid == 13 ? "" : "/app" + std::to_string(pid); }
};

coroot_tcp_event Conn(uint32_t type, uint64_t sk, uint32_t pid, int64_t fd, uint16_t dport) {
  coroot_tcp_event e{};
  e.type = type;
  e.sk = sk;
  e.pid = pid;
  e.fd = fd;
  e.netns = kHostNs;
  e.family = 2;
  e.sport = 40001;
  e.dport = dport;
  Ip a = IpV4(10, 0, 0, 5);
  std::memcpy(e.saddr, a.data(), 16);
  std::memcpy(e.daddr, a.data(), 16);
  return e;
}

coroot_l7_event Request(uint32_t pid, uint64_t fd, uint8_t proto, int32_t status, bool inbound, const std::string& p) {
  coroot_l7_event e{};
  e.pid = pid;
  e.fd = fd;
  e.protocol = proto;
  e.status = status;
  e.duration_ns = 2000000;
  e.is_inbound = inbound;
  e.payload_size = p.size();
  std::memcpy(e.payload, p.data(), p.size());
  return e;
}

double Value(L7Tracker& t, const std::string& family, const prom::Labels& want) {
  std::vector<prom::MetricFamily> out;
  t.Collect(&out);
  for (const auto& f : out) {
    if (f.name != family) continue;
    for (const auto& s : f.samples) {
      bool match = true;
      for (const auto& l : want) {
        bool found = false;
        for (const auto& h : s.labels) found |= h == l;
        match &= found;
      }
      if (match) return s.value;
    }
  }
  return -1;
}

TEST(L7TrackerTest, OutboundRequestsTakeTheLabelsOfTheirConnection) {
  auto tcp = std::make_shared<TcpTracker>(*DestinationFilter::Create("32768-60999", "0.0.0.0/0", kHostNs),
                                          std::make_shared<Resolver>());
  L7Tracker l7(tcp, std::make_shared<Resolver>());
  tcp->OnEvent(Conn(COROOT_TCP_CONNECT_OK, 0x1000, 7, 5, 5432));
  const std::string q("Q\0\0\0\015SELECT 1\0", 14);
  l7.OnEvent(Request(7, 5, COROOT_L7_POSTGRES, 200, false, q));
  l7.OnEvent(Request(7, 5, COROOT_L7_POSTGRES, 500, false, q));
  l7.OnEvent(Request(7, 5, COROOT_L7_POSTGRES, 200, false, q));
  prom::Labels labels{{"container_id", "/app7"}, {"destination", "10.0.0.5:5432"}};
  auto with = [&](const std::string& st) {
    auto l = labels;
    l.push_back({"status", st});
    return l;
  };
  EXPECT_EQ(Value(l7, "container_postgres_queries_total", with("ok")), 2);
  EXPECT_EQ(Value(l7, "container_postgres_queries_total", with("failed")), 1);

  // Another fd of the same process, never seen connecting: not attributable.
  l7.OnEvent(Request(7, 6, COROOT_L7_POSTGRES, 200, false, q));
  EXPECT_EQ(l7.dropped("untracked_connection"), 1u);
  // After the close, the fd no longer maps to the connection.
  auto close = Conn(COROOT_TCP_CLOSE, 0x1000, 7, 5, 5432);
  tcp->OnEvent(close);
  l7.OnEvent(Request(7, 5, COROOT_L7_POSTGRES, 200, false, q));
  EXPECT_EQ(l7.dropped("untracked_connection"), 2u);
  EXPECT_EQ(Value(l7, "container_postgres_queries_total", with("ok")), 2);
}

TEST(L7TrackerTest, InboundRequestsAreCountedUnderTheServersContainer) {
  auto tcp = std::make_shared<TcpTracker>(*DestinationFilter::Create("32768-60999", "0.0.0.0/0", kHostNs),
                                          std::make_shared<Resolver>());
  L7Tracker l7(tcp, std::make_shared<Resolver>());
  l7.OnEvent(Request(9, 4, COROOT_L7_HTTP, 404, true, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
  l7.OnEvent(Request(9, 4, COROOT_L7_HTTP, 200, true, "GET /y HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(Value(l7, "container_http_inbound_requests_total", {{"container_id", "/app9"}, {"status", "4xx"}}), 1);
  EXPECT_EQ(Value(l7, "container_http_inbound_requests_total", {{"container_id", "/app9"}, {"status", "2xx"}}), 1);
  l7.OnEvent(Request(13, 4, COROOT_L7_HTTP, 200, true, "GET /y HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(l7.dropped("unknown_container"), 1u);
  coroot_l7_event bad = Request(9, 4, 0, 200, true, "");
  l7.OnEvent(bad);
  EXPECT_EQ(l7.dropped("malformed"), 1u);
}

// DNS events carry the response (header, question, answers) as the kernel read it; status = rcode.
// Byte fixtures: dnsmasq 2.90's answers as strace printed them (the fd 3 recvfrom of `getent ahosts`).
const std::string kSvcA(  // svc.test A -> 10.1.2.3
    "\x12\x34\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00\x03svc\x04test\x00\x00\x01\x00\x01"
    "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x0a\x01\x02\x03",
    42);
const std::string kSvcAaaaNx(  // svc.test AAAA: NXDOMAIN
    "\x98\x95\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00\x03svc\x04test\x00\x00\x1c\x00\x01", 26);
const std::string kSixAaaaEmpty(  // six.test AAAA: no error, no answer (dropped, as Coroot does)
    "\x55\x66\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x03six\x04test\x00\x00\x1c\x00\x01", 26);
const std::string kDbA(  // db.test A -> 10.0.0.5 (the address Conn() connects to)
    "\x00\x07\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00\x02\x64\x62\x04test\x00\x00\x01\x00\x01"
    "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x0a\x00\x00\x05",
    41);

TEST(L7TrackerTest, DnsResponsesGoToTheProcesssContainerAndFeedIpToFqdn) {
  auto tcp = std::make_shared<TcpTracker>(*DestinationFilter::Create("32768-60999", "0.0.0.0/0", kHostNs),
                                          std::make_shared<Resolver>());
  L7Tracker l7(tcp, std::make_shared<Resolver>());
  // fd 3 is a UDP socket: not in the TCP table, still attributed (DNS has no destination labels).
  for (int i = 0; i < 3; i++) l7.OnEvent(Request(7, 3, COROOT_L7_DNS, 0, false, kSvcA));
  l7.OnEvent(Request(7, 3, COROOT_L7_DNS, 3, false, kSvcAaaaNx));
  l7.OnEvent(Request(7, 3, COROOT_L7_DNS, 0, false, kSixAaaaEmpty));
  // DNS over TCP: the same message behind its 2-byte length.
  l7.OnEvent(Request(7, 4, COROOT_L7_DNS, 0, false, std::string("\x00\x2a", 2) + kSvcA));
  auto dns = [](const char* type, const char* domain, const char* status) -> prom::Labels {
    return {{"container_id", "/app7"}, {"request_type", type}, {"domain", domain}, {"status", status}};
  };
  EXPECT_EQ(Value(l7, "container_dns_requests_total", dns("TypeA", "svc.test", "ok")), 4);
  EXPECT_EQ(Value(l7, "container_dns_requests_total", dns("TypeAAAA", "svc.test", "nxdomain")), 1);
  EXPECT_EQ(Value(l7, "container_dns_requests_total", dns("TypeAAAA", "six.test", "ok")), -1);
  EXPECT_EQ(l7.dropped("untracked_connection"), 0u);
  std::vector<prom::MetricFamily> out;
  l7.Collect(&out);
  for (const auto& f : out) {
    if (f.name != "container_dns_requests_duration_seconds_total") continue;
    ASSERT_EQ(f.histograms.size(), 1u);
    EXPECT_EQ(f.histograms[0].count, 5u);  // the empty AAAA is not observed
  }

  // Learned from the answers, exported only while a container connects to the address.
  EXPECT_EQ(l7.ip_to_fqdn().Lookup("10.1.2.3"), "svc.test");
  EXPECT_EQ(Value(l7, "ip_to_fqdn", {{"ip", "10.1.2.3"}}), -1);
  l7.OnEvent(Request(7, 3, COROOT_L7_DNS, 0, false, kDbA));
  EXPECT_EQ(Value(l7, "ip_to_fqdn", {{"ip", "10.0.0.5"}, {"fqdn", "db.test"}}), -1);
  tcp->OnEvent(Conn(COROOT_TCP_CONNECT_OK, 0x1000, 7, 5, 5432));
  EXPECT_EQ(Value(l7, "ip_to_fqdn", {{"ip", "10.0.0.5"}, {"fqdn", "db.test"}}), 1);
}

// A DNS server's events (is_inbound): counted under the server process's container by status only
// (no request_type, no domain), empty AAAA answers included; its answers teach no ip_to_fqdn.
TEST(L7TrackerTest, InboundDnsGoesToTheServersContainerByStatus) {
  auto tcp = std::make_shared<TcpTracker>(*DestinationFilter::Create("32768-60999", "0.0.0.0/0", kHostNs),
                                          std::make_shared<Resolver>());
  L7Tracker l7(tcp, std::make_shared<Resolver>());
  for (int i = 0; i < 2; i++) l7.OnEvent(Request(8, 4, COROOT_L7_DNS, 0, true, kSvcA));
  l7.OnEvent(Request(8, 4, COROOT_L7_DNS, 3, true, kSvcAaaaNx));
  l7.OnEvent(Request(8, 4, COROOT_L7_DNS, 0, true, kSixAaaaEmpty));
  EXPECT_EQ(Value(l7, "container_dns_inbound_requests_total", {{"container_id", "/app8"}, {"status", "ok"}}), 3);
  EXPECT_EQ(Value(l7, "container_dns_inbound_requests_total", {{"container_id", "/app8"}, {"status", "nxdomain"}}),
            1);
  EXPECT_EQ(Value(l7, "container_dns_requests_total", {{"container_id", "/app8"}}), -1);
  std::vector<prom::MetricFamily> out;
  l7.Collect(&out);
  bool seen = false;
  for (const auto& f : out) {
    if (f.name == "container_dns_inbound_requests_total") {
      for (const auto& s : f.samples)
        for (const auto& l : s.labels) EXPECT_TRUE(l.name != "request_type" && l.name != "domain") << l.name;
    }
    if (f.name != "container_dns_inbound_requests_duration_seconds_total") continue;
    ASSERT_EQ(f.histograms.size(), 1u);
    EXPECT_EQ(f.histograms[0].count, 4u);
    EXPECT_GT(f.histograms[0].sum, 0);
    seen = true;
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(l7.ip_to_fqdn().Lookup("10.1.2.3"), "");
}

}  // namespace
}  // namespace coroot::agent::tracer
