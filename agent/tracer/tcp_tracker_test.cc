#include "agent/tracer/tcp_tracker.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

namespace coroot::agent::tracer {
namespace {

constexpr uint32_t kHostNs = 4026531840u;

// pid -> "/app<pid>"; pid 0 and 13 are unknown.
class FakeResolver : public IContainerResolver {
 public:
  std::string ContainerKey(uint32_t pid, uint64_t) override {
    return pid == 0 || pid == 13 ? "" : "/app" + std::to_string(pid);
  }
};

coroot_tcp_event Ev(uint32_t type, uint64_t sk, uint32_t pid, Ip dst, uint16_t dport, uint16_t sport = 40001,
                    uint32_t netns = kHostNs) {
  coroot_tcp_event e{};
  e.type = type;
  e.sk = sk;
  e.pid = pid;
  e.netns = netns;
  e.family = 2;
  e.sport = sport;
  e.dport = dport;
  Ip src = IpV4(127, 0, 0, 1);
  std::memcpy(e.saddr, src.data(), 16);
  std::memcpy(e.daddr, dst.data(), 16);
  e.fd = 3;
  return e;
}

class TcpTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override { Make({}); }
  void Make(TcpTrackerOptions o) {
    tracker_ = std::make_unique<TcpTracker>(*DestinationFilter::Create("32768-60999", "0.0.0.0/0", kHostNs),
                                            std::make_shared<FakeResolver>(), o);
  }
  // The value of a series, or -1 when absent.
  double Value(const std::string& family, const prom::Labels& want) {
    std::vector<prom::MetricFamily> out;
    tracker_->Collect(&out);
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
  double Conn(const std::string& family, const std::string& container, const std::string& dest) {
    return Value(family, {{"container_id", container}, {"destination", dest}});
  }
  std::unique_ptr<TcpTracker> tracker_;
};

TEST_F(TcpTrackerTest, CountsConnectsConnectionTimeActiveAndBytes) {
  Ip db = IpV4(10, 0, 0, 5);
  for (uint64_t sk = 1; sk <= 3; sk++) {
    auto e = Ev(COROOT_TCP_CONNECT_OK, sk, 7, db, 5432);
    e.duration_ns = 250'000'000;  // 0.25 s each
    tracker_->OnEvent(e);
  }
  EXPECT_EQ(Conn("container_net_tcp_successful_connects_total", "/app7", "10.0.0.5:5432"), 3);
  EXPECT_DOUBLE_EQ(Conn("container_net_tcp_connection_time_seconds_total", "/app7", "10.0.0.5:5432"), 0.75);
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:5432"), 3);
  EXPECT_EQ(Value("container_net_tcp_active_connections", {{"actual_destination", ""}}), 3);

  // Live byte totals, then the final ones at close: only the difference is added.
  tracker_->OnConnBytes({1, 100, 1000});
  EXPECT_EQ(Conn("container_net_tcp_bytes_sent_total", "/app7", "10.0.0.5:5432"), 100);
  tracker_->OnConnBytes({1, 90, 900});  // a smaller value is ignored
  EXPECT_EQ(Conn("container_net_tcp_bytes_received_total", "/app7", "10.0.0.5:5432"), 1000);
  auto close = Ev(COROOT_TCP_CLOSE, 1, 7, db, 5432);
  close.bytes_sent = 150;
  close.bytes_received = 1500;
  tracker_->OnEvent(close);
  auto close2 = Ev(COROOT_TCP_CLOSE, 2, 7, db, 5432);
  close2.bytes_sent = 10;
  close2.bytes_received = 20;
  tracker_->OnEvent(close2);
  EXPECT_EQ(Conn("container_net_tcp_bytes_sent_total", "/app7", "10.0.0.5:5432"), 160);
  EXPECT_EQ(Conn("container_net_tcp_bytes_received_total", "/app7", "10.0.0.5:5432"), 1520);
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:5432"), 1);
  EXPECT_EQ(tracker_->open_connections(), 1u);
  // Bytes for a connection that is gone are ignored.
  tracker_->OnConnBytes({1, 10000, 10000});
  EXPECT_EQ(Conn("container_net_tcp_bytes_sent_total", "/app7", "10.0.0.5:5432"), 160);
}

TEST_F(TcpTrackerTest, FailedConnectsHaveOnlyADestination) {
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_FAILED, 9, 8, IpV4(10, 0, 0, 6), 6379));
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_FAILED, 9, 8, IpV4(10, 0, 0, 6), 6379));
  EXPECT_EQ(Conn("container_net_tcp_failed_connects_total", "/app8", "10.0.0.6:6379"), 2);
  EXPECT_EQ(Value("container_net_tcp_failed_connects_total", {{"actual_destination", ""}}), -1);
  EXPECT_EQ(Conn("container_net_tcp_successful_connects_total", "/app8", "10.0.0.6:6379"), -1);
}

TEST_F(TcpTrackerTest, AppliesTheDestinationRules) {
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 1, 7, IpV4(10, 0, 0, 5), 40000));  // ephemeral
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 2, 7, IpV4(127, 0, 0, 1), 6379, 40001, 99));  // loopback, other netns
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 3, 7, IpV4(127, 0, 0, 1), 6379));  // loopback, host netns
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 4, 7, IpV4(169, 254, 169, 254), 80));
  EXPECT_EQ(Conn("container_net_tcp_successful_connects_total", "/app7", "10.0.0.5:40000"), -1);
  EXPECT_EQ(Conn("container_net_tcp_successful_connects_total", "/app7", "127.0.0.1:6379"), 1);
  EXPECT_EQ(Value("coroot_node_agent_tcp_skipped_total", {{"reason", "ephemeral_port"}}), 1);
  EXPECT_EQ(Value("coroot_node_agent_tcp_skipped_total", {{"reason", "loopback_in_container"}}), 1);
  EXPECT_EQ(Value("coroot_node_agent_tcp_skipped_total", {{"reason", "link_local"}}), 1);
  // A close of a skipped connection changes nothing.
  tracker_->OnEvent(Ev(COROOT_TCP_CLOSE, 1, 7, IpV4(10, 0, 0, 5), 40000));
  EXPECT_EQ(tracker_->open_connections(), 1u);
}

TEST_F(TcpTrackerTest, RetransmitsAreAttributedToTheConnection) {
  Ip dst = IpV4(10, 0, 0, 5);
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 1, 7, dst, 80));
  for (int i = 0; i < 4; i++) tracker_->OnEvent(Ev(COROOT_TCP_RETRANSMIT, 1, 0, dst, 80));
  auto gso = Ev(COROOT_TCP_RETRANSMIT, 1, 0, dst, 80);
  gso.segments = 3;  // one GSO skb of three segments
  tracker_->OnEvent(gso);
  tracker_->OnEvent(Ev(COROOT_TCP_RETRANSMIT, 55, 0, dst, 81));  // unknown socket
  EXPECT_EQ(Conn("container_net_tcp_retransmits_total", "/app7", "10.0.0.5:80"), 7);
  EXPECT_EQ(Value("coroot_node_agent_tcp_skipped_total", {{"reason", "retransmit_of_untracked_connection"}}), 1);
}

TEST_F(TcpTrackerTest, ListenInfo) {
  auto l = Ev(COROOT_TCP_LISTEN_OPEN, 100, 9, IpV4(0, 0, 0, 0), 0, 8080);
  std::memset(l.saddr, 0, 16);
  l.saddr[10] = l.saddr[11] = 0xff;
  tracker_->OnEvent(l);
  tracker_->OnEvent(Ev(COROOT_TCP_LISTEN_OPEN, 101, 9, IpV4(0, 0, 0, 0), 0, 45000));  // ephemeral: skipped
  EXPECT_EQ(Value("container_net_tcp_listen_info", {{"container_id", "/app9"}, {"listen_addr", "0.0.0.0:8080"}, {"proxy", ""}}), 1);
  EXPECT_EQ(Value("container_net_tcp_listen_info", {{"listen_addr", "127.0.0.1:45000"}}), -1);
  tracker_->OnEvent(Ev(COROOT_TCP_LISTEN_CLOSE, 100, 9, IpV4(0, 0, 0, 0), 0, 8080));
  EXPECT_EQ(Value("container_net_tcp_listen_info", {{"container_id", "/app9"}, {"listen_addr", "0.0.0.0:8080"}}), 0);
}

TEST_F(TcpTrackerTest, WildcardListensAreExpandedToTheNamespaceAddresses) {
  TcpTrackerOptions o;
  o.netns_addresses = [](uint32_t pid, uint32_t netns) {
    EXPECT_EQ(pid, 9u);
    EXPECT_EQ(netns, kHostNs);
    return std::vector<Ip>{IpV4(127, 0, 0, 1), IpV4(10, 1, 1, 1), *ParseIp("fd00::2")};
  };
  Make(o);
  auto v4 = Ev(COROOT_TCP_LISTEN_OPEN, 100, 9, IpV4(0, 0, 0, 0), 0, 8080);
  std::memcpy(v4.saddr, IpV4(0, 0, 0, 0).data(), 16);
  tracker_->OnEvent(v4);
  auto v6 = Ev(COROOT_TCP_LISTEN_OPEN, 101, 9, IpV4(0, 0, 0, 0), 0, 8081);
  std::memset(v6.saddr, 0, 16);  // ::
  tracker_->OnEvent(v6);
  auto info = [&](const std::string& addr) {
    return Value("container_net_tcp_listen_info", {{"container_id", "/app9"}, {"listen_addr", addr}});
  };
  EXPECT_EQ(info("127.0.0.1:8080"), 1);
  EXPECT_EQ(info("10.1.1.1:8080"), 1);
  EXPECT_EQ(info("[fd00::2]:8080"), -1);  // 0.0.0.0 is IPv4 only
  EXPECT_EQ(info("0.0.0.0:8080"), -1);
  EXPECT_EQ(info("127.0.0.1:8081"), 1);
  EXPECT_EQ(info("[fd00::2]:8081"), 1);
  auto close = v4;
  close.type = COROOT_TCP_LISTEN_CLOSE;
  tracker_->OnEvent(close);
  EXPECT_EQ(info("127.0.0.1:8080"), 0);
  EXPECT_EQ(info("10.1.1.1:8080"), 0);
  EXPECT_EQ(info("127.0.0.1:8081"), 1);
  // A specific address is reported as is.
  tracker_->OnEvent(Ev(COROOT_TCP_LISTEN_OPEN, 102, 9, IpV4(0, 0, 0, 0), 0, 8082));  // saddr 127.0.0.1
  EXPECT_EQ(info("127.0.0.1:8082"), 1);
  EXPECT_EQ(info("10.1.1.1:8082"), -1);
}

TEST_F(TcpTrackerTest, IdleSeriesAreForgotten) {
  TcpTrackerOptions o;
  o.idle_series_ttl = std::chrono::seconds(0);
  Make(o);
  Ip dst = IpV4(10, 0, 0, 5);
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 1, 7, dst, 80));
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 2, 7, IpV4(10, 0, 0, 6), 80));
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_FAILED, 3, 7, IpV4(10, 0, 0, 7), 80));
  tracker_->OnEvent(Ev(COROOT_TCP_CLOSE, 2, 7, IpV4(10, 0, 0, 6), 80));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:80"), 1);  // still open: kept
  EXPECT_EQ(Conn("container_net_tcp_successful_connects_total", "/app7", "10.0.0.6:80"), -1);
  EXPECT_EQ(Conn("container_net_tcp_failed_connects_total", "/app7", "10.0.0.7:80"), -1);
  tracker_->OnEvent(Ev(COROOT_TCP_CLOSE, 1, 7, dst, 80));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:80"), -1);
  EXPECT_EQ(tracker_->open_connections(), 0u);
}

TEST_F(TcpTrackerTest, ClosedListensExpire) {
  TcpTrackerOptions o;
  o.closed_listen_ttl = std::chrono::seconds(0);
  Make(o);
  tracker_->OnEvent(Ev(COROOT_TCP_LISTEN_OPEN, 100, 9, IpV4(127, 0, 0, 1), 0, 8080));
  tracker_->OnEvent(Ev(COROOT_TCP_LISTEN_CLOSE, 100, 9, IpV4(127, 0, 0, 1), 0, 8080));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(Value("container_net_tcp_listen_info", {{"container_id", "/app9"}}), -1);
}

TEST_F(TcpTrackerTest, BoundsAreEnforcedAndCounted) {
  TcpTrackerOptions o;
  o.max_connections = 2;
  o.max_series = 2;
  o.max_listens = 1;
  Make(o);
  Ip dst = IpV4(10, 0, 0, 5);
  for (uint64_t sk = 1; sk <= 3; sk++) tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, sk, 7, dst, 80));
  EXPECT_EQ(tracker_->open_connections(), 2u);
  EXPECT_EQ(Conn("container_net_tcp_successful_connects_total", "/app7", "10.0.0.5:80"), 3);
  EXPECT_EQ(Value("coroot_node_agent_tcp_dropped_total", {{"reason", "connection_table_full"}}), 1);
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 4, 7, IpV4(10, 0, 0, 6), 80));
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 5, 7, IpV4(10, 0, 0, 7), 80));  // third series
  EXPECT_EQ(Value("coroot_node_agent_tcp_dropped_total", {{"reason", "series_table_full"}}), 1);
  tracker_->OnEvent(Ev(COROOT_TCP_LISTEN_OPEN, 100, 9, IpV4(127, 0, 0, 1), 0, 8080));
  tracker_->OnEvent(Ev(COROOT_TCP_LISTEN_OPEN, 101, 9, IpV4(127, 0, 0, 1), 0, 8081));
  EXPECT_EQ(Value("coroot_node_agent_tcp_dropped_total", {{"reason", "listen_table_full"}}), 1);
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 6, 13, dst, 80));  // unknown container
  EXPECT_EQ(Value("coroot_node_agent_tcp_dropped_total", {{"reason", "unknown_container"}}), 1);
  auto bad = Ev(77, 1, 7, dst, 80);
  tracker_->OnEvent(bad);
  EXPECT_EQ(Value("coroot_node_agent_tcp_dropped_total", {{"reason", "unknown_event_type"}}), 1);
}

TEST_F(TcpTrackerTest, SocketReuseWithoutACloseDoesNotLeakActiveConnections) {
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 1, 7, IpV4(10, 0, 0, 5), 80));
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 1, 7, IpV4(10, 0, 0, 6), 80));  // same socket address
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:80"), 0);
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.6:80"), 1);
  EXPECT_EQ(Value("coroot_node_agent_tcp_dropped_total", {{"reason", "close_event_missed"}}), 1);
}

TEST_F(TcpTrackerTest, ReconciledConnectionsCloseByTuple) {
  Ip src = IpV4(127, 0, 0, 1), dst = IpV4(10, 0, 0, 5);
  tracker_->AddExistingConnection(7, kHostNs, src, 40001, dst, 5432);
  tracker_->AddExistingConnection(7, kHostNs, src, 40001, dst, 5432);  // duplicate: ignored
  tracker_->AddExistingConnection(7, kHostNs, src, 40002, dst, 40000);  // ephemeral: skipped
  tracker_->AddExistingListen(7, kHostNs, IpV4(0, 0, 0, 0), 9000);
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:5432"), 1);
  EXPECT_EQ(Conn("container_net_tcp_successful_connects_total", "/app7", "10.0.0.5:5432"), 0);
  EXPECT_EQ(Value("container_net_tcp_listen_info", {{"container_id", "/app7"}, {"listen_addr", "0.0.0.0:9000"}}), 1);
  tracker_->OnEvent(Ev(COROOT_TCP_RETRANSMIT, 0xffff0001, 0, dst, 5432));
  EXPECT_EQ(Conn("container_net_tcp_retransmits_total", "/app7", "10.0.0.5:5432"), 1);
  // The kernel reports its close with pid 0 and the totals since it opened: no bytes are added
  // (there is no baseline).
  auto close = Ev(COROOT_TCP_CLOSE, 0xffff0001, 0, dst, 5432);
  close.bytes_sent = 1 << 20;
  tracker_->OnEvent(close);
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:5432"), 0);
  EXPECT_EQ(Conn("container_net_tcp_bytes_sent_total", "/app7", "10.0.0.5:5432"), 0);
  EXPECT_EQ(tracker_->open_connections(), 0u);

  // The listen seeded from /proc closes by tuple too (pid 0, peer 0.0.0.0:0).
  auto lclose = Ev(COROOT_TCP_LISTEN_CLOSE, 0xffff0002, 0, IpV4(0, 0, 0, 0), 0, 9000);
  std::memcpy(lclose.saddr, IpV4(0, 0, 0, 0).data(), 16);
  tracker_->OnEvent(lclose);
  EXPECT_EQ(Value("container_net_tcp_listen_info", {{"container_id", "/app7"}, {"listen_addr", "0.0.0.0:9000"}}), 0);
}

TEST_F(TcpTrackerTest, AConnectionSeenByTheTracerIsNotReconciledTwice) {
  Ip src = IpV4(127, 0, 0, 1), dst = IpV4(10, 0, 0, 5);
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 1, 7, dst, 5432, 40001));
  tracker_->AddExistingConnection(7, kHostNs, src, 40001, dst, 5432);
  EXPECT_EQ(Conn("container_net_tcp_active_connections", "/app7", "10.0.0.5:5432"), 1);
}

TEST_F(TcpTrackerTest, OpenDestinationsForNetworkLatency) {
  constexpr uint32_t kOtherNs = 4026532000u;
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 1, 7, IpV4(10, 0, 0, 5), 5432));
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 2, 7, IpV4(10, 0, 0, 5), 5432, 40002));  // same IP twice
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 3, 7, IpV4(10, 0, 0, 6), 6379));
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 4, 7, IpV4(127, 0, 0, 1), 8080));      // loopback: skipped
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 5, 7, *ParseIp("2001:db8::1"), 443));  // IPv6: skipped
  tracker_->OnEvent(Ev(COROOT_TCP_CONNECT_OK, 6, 9, IpV4(10, 0, 0, 5), 5432, 40003, kOtherNs));
  tracker_->AddExistingConnection(8, kOtherNs, IpV4(10, 1, 0, 2), 40100, IpV4(10, 0, 0, 7), 9000);
  auto d = tracker_->OpenDestinationsByNamespace();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[kHostNs].pid, 7u);
  EXPECT_EQ(d[kHostNs].containers.size(), 1u);
  EXPECT_EQ(d[kHostNs].containers["/app7"], (std::set<Ip>{IpV4(10, 0, 0, 5), IpV4(10, 0, 0, 6)}));
  EXPECT_EQ(d[kOtherNs].containers["/app9"], (std::set<Ip>{IpV4(10, 0, 0, 5)}));
  EXPECT_EQ(d[kOtherNs].containers["/app8"], (std::set<Ip>{IpV4(10, 0, 0, 7)}));
  // Closed: gone.
  tracker_->OnEvent(Ev(COROOT_TCP_CLOSE, 3, 7, IpV4(10, 0, 0, 6), 6379));
  d = tracker_->OpenDestinationsByNamespace();
  EXPECT_EQ(d[kHostNs].containers["/app7"], (std::set<Ip>{IpV4(10, 0, 0, 5)}));
}

}  // namespace
}  // namespace coroot::agent::tracer
