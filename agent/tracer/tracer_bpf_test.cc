// The tracer against the real kernel: real servers and clients on loopback, each in its own
// cgroup v2 (so the container label tells them apart from everything else on the machine), and
// exact counts: N connects made => N counted, bytes equal to what was transferred.
// Needs root (CAP_BPF, CAP_PERFMON, cgroup writes); skipped otherwise. CTest label: bpf.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <cstring>
#include <sstream>
#include <thread>

#include "agent/tracer/bpf_test_util.h"
#include "agent/tracer/collector_test_util.h"
#include "agent/tracer/ebpf_collector.h"
#include "agent/tracer/netns_addrs.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using namespace bpf_test;

// Echo-like server: reads each connection to EOF, then writes `resp` bytes and closes.
const char* kServerPy = R"(
import os, socket, sys, threading
port, resp = int(sys.argv[1]), int(sys.argv[2])
host = os.environ.get("HOST", "127.0.0.1")
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port)); s.listen(256)
print("ready", flush=True)
def handle(c):
    with c:
        while c.recv(65536): pass
        c.sendall(b"r" * resp)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
)";

// Client: n connections, each sends q bytes, half-closes, reads to EOF, closes. With a release
// file: opens all n first, sends, and waits for the file before finishing them.
const char* kClientPy = R"(
import os, socket, sys, time
port, n, q = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
host = os.environ.get("HOST", "127.0.0.1")
release = sys.argv[4] if len(sys.argv) > 4 else None
socks = []
def finish(c):
    c.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        d = c.recv(65536)
        if not d: break
        got += len(d)
    c.close()
    return got
total = 0
for i in range(n):
    c = socket.create_connection((host, port), timeout=60); c.sendall(b"q" * q)
    if release: socks.append(c)
    else: total += finish(c)
if release:
    print("holding", flush=True)
    while not os.path.exists(release): time.sleep(0.02)
    for c in socks: total += finish(c)
print("received", total, flush=True)
)";

// Connects n times to a port where nothing listens.
const char* kRefusedPy = R"(
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
refused = 0
for i in range(n):
    try: socket.create_connection(("127.0.0.1", port)).close()
    except ConnectionRefusedError: refused += 1
print("refused", refused, flush=True)
)";

// Two network namespaces joined by a veth pair (a = <net>1, b = <net>2), deleted at the end.
class NetnsPair {
 public:
  explicit NetnsPair(const std::string& what) {
    std::string tag = what + std::to_string(getpid() % 100000);
    a_ = "cra_" + tag;
    b_ = "crb_" + tag;
    net_ = "10.213." + std::to_string(getpid() % 250) + ".";
    std::string va = "cva" + tag, vb = "cvb" + tag;
    ok_ = Sh("ip netns add " + a_ + " && ip netns add " + b_ + " && ip link add " + va + " type veth peer name " +
             vb + " && ip link set " + va + " netns " + a_ + " && ip link set " + vb + " netns " + b_ + " && ip -n " +
             a_ + " addr add " + net_ + "1/30 dev " + va + " && ip -n " + b_ + " addr add " + net_ + "2/30 dev " +
             vb + " && ip -n " + a_ + " link set " + va + " up && ip -n " + b_ + " link set " + vb +
             " up && ip -n " + a_ + " link set lo up && ip -n " + b_ + " link set lo up") == 0;
  }
  ~NetnsPair() {
    Sh("ip netns del " + a_ + " 2>/dev/null");
    Sh("ip netns del " + b_ + " 2>/dev/null");
  }
  static int Sh(const std::string& cmd) { return system(cmd.c_str()); }
  bool ok() const { return ok_; }
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }
  std::string ip_a() const { return net_ + "1"; }
  std::string ip_b() const { return net_ + "2"; }

 private:
  std::string a_, b_, net_;
  bool ok_ = false;
};

class TracerBpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!SkipReason().empty()) return;
    EbpfOptions o;
    o.reconcile = false;
    auto c = EbpfCollector::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collector_ = *c;
  }
  static void TearDownTestSuite() { collector_.reset(); }
  void SetUp() override {
    if (std::string why = SkipReason(); !why.empty()) GTEST_SKIP() << why;
    dir_ = testing::MakeTempDir("tracer_bpf_test_");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Name(const std::string& what) {
    return "coroot_bpf_test_" + std::to_string(getpid()) + "_" + what;
  }

  // Value of the series of `family` whose labels include all of `want`; -1 when absent.
  static double Value(const std::string& family, const prom::Labels& want) {
    std::vector<prom::MetricFamily> out;
    collector_->Collect(&out);
    return Find(out, family, want);
  }
  static double Find(const std::vector<prom::MetricFamily>& out, const std::string& family, const prom::Labels& want) {
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
  static double ConnValue(const std::string& family, const TestCgroup& cg, const std::string& dest) {
    return Value(family, {{"container_id", cg.key()}, {"destination", dest}});
  }
  // Polls until the series has the value (events arrive within the tracer's poll interval).
  // Generous limits: the machine may be loaded (other builds); they only matter when a test fails.
  static bool Eventually(const std::function<double()>& get, double want, std::chrono::milliseconds limit = 15s) {
    return testing::WaitFor([&] { return get() == want; }, limit);
  }

  static std::shared_ptr<EbpfCollector> collector_;
  std::string dir_;
};
std::shared_ptr<EbpfCollector> TracerBpfTest::collector_;

TEST_F(TracerBpfTest, HooksAttachAndNothingIsLost) {
  std::vector<prom::MetricFamily> out;
  collector_->Collect(&out);
  EXPECT_EQ(Find(out, "coroot_node_agent_ebpf_hook_attached", {{"program", "coroot_inet_sock_set_state"}}), 1);
  EXPECT_EQ(Find(out, "coroot_node_agent_ebpf_hook_attached", {{"program", "coroot_tcp_retransmit_skb"}}), 1);
  EXPECT_EQ(Find(out, "coroot_node_agent_ebpf_hook_attached", {{"program", "coroot_sys_enter_connect"}}), 1);
  EXPECT_EQ(Find(out, "coroot_node_agent_ebpf_hook_attached", {{"program", "coroot_conn_bytes_iter"}}), 1);
  EXPECT_EQ(Find(out, "coroot_node_agent_ebpf_events_lost_total", {}), 0);
}

// Feature probing: a tracepoint this kernel lacks is reported and left out; without the one
// required hook the tracer refuses to start, with the reason. (A fake tracefs stands in for an
// older kernel.)
TEST_F(TracerBpfTest, MissingHooksAreReportedAndTheRequiredOneIsEnforced) {
  std::string fake = dir_ + "/tracefs";
  fs::create_directories(fake + "/events/sock/inet_sock_set_state");
  fs::create_directories(fake + "/events/syscalls/sys_enter_connect");
  fs::create_directories(fake + "/events/syscalls/sys_exit_connect");
  for (const char* tp : {"sys_enter_write", "sys_enter_writev", "sys_enter_sendto", "sys_enter_sendmsg",
                         "sys_enter_sendmmsg", "sys_enter_read",
                         "sys_exit_read", "sys_enter_readv", "sys_exit_readv", "sys_enter_recvfrom", "sys_exit_recvfrom",
                         "sys_enter_recvmsg", "sys_exit_recvmsg", "sys_exit_accept", "sys_exit_accept4",
                         "sys_enter_bind", "sys_exit_bind", "sys_enter_close"})
    fs::create_directories(fake + "/events/syscalls/" + tp);
  std::vector<HookState> hooks;
  auto t = Tracer::Start(TracerOptions{.tracefs = fake}, [](const coroot_tcp_event&) {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (const auto& h : (*t)->hooks()) {
    if (h.program == "coroot_tcp_retransmit_skb") {
      EXPECT_FALSE(h.attached);
      EXPECT_NE(h.error.find("tcp/tcp_retransmit_skb does not exist"), std::string::npos) << h.error;
    } else {
      EXPECT_TRUE(h.attached) << h.program << ": " << h.error;
    }
  }
  (*t)->Stop();

  fs::remove_all(fake + "/events/sock");
  auto none = Tracer::Start(TracerOptions{.tracefs = fake}, [](const coroot_tcp_event&) {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("required eBPF hook tracepoint/sock/inet_sock_set_state"), std::string::npos)
      << none.status().ToString();
}

// A ring buffer that is not drained overflows; the loss is counted, never silent.
TEST_F(TracerBpfTest, LostEventsAreCounted) {
  EbpfOptions o;
  o.reconcile = false;
  o.tracer.ring_buffer_bytes = 4096;           // room for ~34 events
  o.tracer.wakeup_bytes = 1 << 30;             // never wake the reader
  o.tracer.poll_interval = std::chrono::hours(1);  // and it never drains on its own
  auto small = EbpfCollector::Start(o);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  TestCgroup server_cg(Name("lostsrv")), client_cg(Name("lostcli"));
  int port = FreeStablePort();
  const int kConns = 100;
  Proc server(server_cg, {"python3", "-c", kServerPy, std::to_string(port), "1"}, dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  Proc client(client_cg, {"python3", "-c", kClientPy, std::to_string(port), std::to_string(kConns), "1"},
              dir_ + "/cli.log");
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  std::vector<prom::MetricFamily> out;
  (*small)->Collect(&out);  // drains what fitted
  double lost = Find(out, "coroot_node_agent_ebpf_events_lost_total", {});
  double read = Find(out, "coroot_node_agent_ebpf_events_total", {});
  double counted = Find(out, "container_net_tcp_successful_connects_total",
                        {{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + std::to_string(port)}});
  EXPECT_GT(lost, 0);
  EXPECT_LE(read, 4096 / 120 + 1);
  EXPECT_GE(lost + read, 2 * kConns);  // every connection makes CONNECT_OK + CLOSE (other traffic adds more)
  EXPECT_LT(counted, kConns);
  EXPECT_EQ(Find(out, "coroot_node_agent_ebpf_dropped_total", {{"reason", "ring_buffer_full"}}), lost);
  (*small)->Stop();
}

// With L7 tracing disabled no syscall tracepoint is attached, and connections are still counted.
TEST_F(TracerBpfTest, WorksWithoutTheSyscallHooks) {
  EbpfOptions o;
  o.reconcile = false;
  o.tracer.connect_fd_hooks = false;
  auto lean = EbpfCollector::Start(o);
  ASSERT_TRUE(lean.ok()) << lean.status().ToString();
  auto value = [&](const std::string& family, const prom::Labels& want) {
    std::vector<prom::MetricFamily> out;
    (*lean)->Collect(&out);
    return Find(out, family, want);
  };
  EXPECT_EQ(value("coroot_node_agent_ebpf_hook_attached", {{"program", "coroot_sys_enter_connect"}}), 0);
  EXPECT_EQ(value("coroot_node_agent_ebpf_hook_attached", {{"program", "coroot_inet_sock_set_state"}}), 1);
  TestCgroup server_cg(Name("leansrv")), client_cg(Name("leancli"));
  int port = FreeStablePort();
  Proc server(server_cg, {"python3", "-c", kServerPy, std::to_string(port), "50"}, dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  Proc client(client_cg, {"python3", "-c", kClientPy, std::to_string(port), "3", "20"}, dir_ + "/cli.log");
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  prom::Labels conn{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + std::to_string(port)}};
  EXPECT_TRUE(testing::WaitFor([&] { return value("container_net_tcp_successful_connects_total", conn) == 3; }, 15s));
  EXPECT_TRUE(testing::WaitFor([&] { return value("container_net_tcp_bytes_received_total", conn) == 150; }, 15s));
  (*lean)->Stop();
}

TEST_F(TracerBpfTest, CountsEveryConnectAndEveryByte) {
  TestCgroup server_cg(Name("srv")), client_cg(Name("cli"));
  int port = FreeStablePort();
  const int kConns = 25, kSend = 3000, kResp = 70000;
  Proc server(server_cg, {"python3", "-c", kServerPy, std::to_string(port), std::to_string(kResp)}, dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  std::string dest = "127.0.0.1:" + std::to_string(port);

  EXPECT_TRUE(Eventually([&] {
    return Value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", dest}});
  }, 1));

  Proc client(client_cg, {"python3", "-c", kClientPy, std::to_string(port), std::to_string(kConns),
                          std::to_string(kSend)}, dir_ + "/cli.log");
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  ASSERT_NE(client.Log().find("received " + std::to_string(kConns * kResp)), std::string::npos) << client.Log();

  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_active_connections", client_cg, dest); }, 0));
  EXPECT_EQ(ConnValue("container_net_tcp_successful_connects_total", client_cg, dest), kConns);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_sent_total", client_cg, dest), kConns * kSend);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_received_total", client_cg, dest), kConns * kResp);
  double t = ConnValue("container_net_tcp_connection_time_seconds_total", client_cg, dest);
  EXPECT_GT(t, 0);
  EXPECT_LT(t, kConns * 1.0);  // loopback connects take microseconds
  EXPECT_EQ(ConnValue("container_net_tcp_failed_connects_total", client_cg, dest), -1);
  // The server's accepted sockets are inbound: nothing is counted as outbound for it.
  EXPECT_EQ(Value("container_net_tcp_successful_connects_total", {{"container_id", server_cg.key()}}), -1);

  server.Kill();
  EXPECT_TRUE(Eventually([&] {
    return Value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", dest}});
  }, 0));
}

TEST_F(TracerBpfTest, CountsFailedConnectsToAClosedPort) {
  TestCgroup client_cg(Name("refused"));
  int port = FreeStablePort();
  const int kAttempts = 17;
  Proc client(client_cg, {"python3", "-c", kRefusedPy, std::to_string(port), std::to_string(kAttempts)},
              dir_ + "/cli.log");
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  ASSERT_NE(client.Log().find("refused " + std::to_string(kAttempts)), std::string::npos) << client.Log();
  std::string dest = "127.0.0.1:" + std::to_string(port);
  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_failed_connects_total", client_cg, dest); },
                         kAttempts));
  EXPECT_EQ(ConnValue("container_net_tcp_successful_connects_total", client_cg, dest), -1);
}

TEST_F(TracerBpfTest, ActiveConnectionsAndLiveBytes) {
  TestCgroup server_cg(Name("srv2")), client_cg(Name("holder"));
  int port = FreeStablePort();
  const int kConns = 6, kSend = 12345, kResp = 777;
  Proc server(server_cg, {"python3", "-c", kServerPy, std::to_string(port), std::to_string(kResp)}, dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  std::string release = dir_ + "/release";
  Proc client(client_cg, {"python3", "-c", kClientPy, std::to_string(port), std::to_string(kConns),
                          std::to_string(kSend), release}, dir_ + "/cli.log");
  ASSERT_TRUE(client.WaitForLog("holding")) << client.Log();
  std::string dest = "127.0.0.1:" + std::to_string(port);

  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_active_connections", client_cg, dest); }, kConns));
  EXPECT_EQ(ConnValue("container_net_tcp_successful_connects_total", client_cg, dest), kConns);
  // Open connections: the byte counters come from the socket iterator.
  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_bytes_sent_total", client_cg, dest); },
                         kConns * kSend));
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_received_total", client_cg, dest), 0);

  std::ofstream(release) << "go";
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_active_connections", client_cg, dest); }, 0));
  // The totals at close add only what the iterator had not seen: no double counting.
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_sent_total", client_cg, dest), kConns * kSend);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_received_total", client_cg, dest), kConns * kResp);
}

TEST_F(TracerBpfTest, CurlAgainstPythonHttpServer) {
  TestCgroup server_cg(Name("http")), client_cg(Name("curl"));
  int port = FreeStablePort();
  Proc server(server_cg, {"python3", "-u", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                          "--directory", dir_}, dir_ + "/http.log");
  std::string dest = "127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(Eventually([&] {
    return Value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", dest}});
  }, 1, 10s)) << server.Log();
  const int kRequests = 12;
  uint64_t sent = 0, received = 0;
  for (int i = 0; i < kRequests; i++) {
    std::string out = dir_ + "/curl" + std::to_string(i) + ".out";
    Proc curl(client_cg, {"curl", "-s", "-o", "/dev/null", "-w", "%{size_request} %{size_header} %{size_download}\n",
                          "http://" + dest + "/"}, out);
    ASSERT_EQ(curl.Wait(), 0) << curl.Log();
    std::istringstream in(curl.Log());
    uint64_t req = 0, hdr = 0, body = 0;
    in >> req >> hdr >> body;
    ASSERT_GT(req, 0u) << curl.Log();
    sent += req;
    received += hdr + body;
  }
  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_active_connections", client_cg, dest); }, 0));
  EXPECT_EQ(ConnValue("container_net_tcp_successful_connects_total", client_cg, dest), kRequests);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_sent_total", client_cg, dest), static_cast<double>(sent));
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_received_total", client_cg, dest), static_cast<double>(received));
}

TEST_F(TracerBpfTest, RedisCli) {
  if (system("command -v redis-server >/dev/null && command -v redis-cli >/dev/null") != 0)
    GTEST_SKIP() << "redis-server/redis-cli not installed";
  TestCgroup server_cg(Name("redis")), client_cg(Name("rcli"));
  int port = FreeStablePort();
  Proc server(server_cg, {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", dir_}, dir_ + "/redis.log");
  std::string dest = "127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(Eventually([&] {
    return Value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", dest}});
  }, 1, 10s)) << server.Log();
  const int kRuns = 8;
  for (int i = 0; i < kRuns; i++) {
    Proc cli(client_cg, {"redis-cli", "-p", std::to_string(port), "SET", "k" + std::to_string(i), "v"},
             dir_ + "/rcli.log");
    ASSERT_EQ(cli.Wait(), 0) << cli.Log();
  }
  // redis-cli makes one connection per run; "+OK\r\n" (5 bytes) per reply.
  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_active_connections", client_cg, dest); }, 0));
  EXPECT_EQ(ConnValue("container_net_tcp_successful_connects_total", client_cg, dest), kRuns);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_received_total", client_cg, dest), kRuns * 5);
}

// A listen on 0.0.0.0 is reported once per IPv4 address of the namespace, as Coroot does.
TEST_F(TracerBpfTest, WildcardListenIsExpanded) {
  TestCgroup server_cg(Name("wild"));
  int port = FreeStablePort();
  Proc server(server_cg, {"python3", "-c", kServerPy, std::to_string(port), "1"}, dir_ + "/srv.log",
              {"HOST=0.0.0.0"});
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  auto info = [&](const std::string& addr) {
    return Value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", addr}});
  };
  std::string p = ":" + std::to_string(port);
  EXPECT_TRUE(Eventually([&] { return info("127.0.0.1" + p); }, 1));
  int v4 = 0;
  for (const auto& ip : NetnsAddresses("/proc", static_cast<uint32_t>(getpid()))) {
    if (!IsV4Mapped(ip)) continue;
    v4++;
    EXPECT_EQ(info(FormatIp(ip) + p), 1) << FormatIp(ip);
  }
  EXPECT_GE(v4, 1);
  EXPECT_EQ(info("0.0.0.0" + p), -1);
  server.Kill();
  EXPECT_TRUE(Eventually([&] { return info("127.0.0.1" + p); }, 0));
}

TEST_F(TracerBpfTest, IPv6Loopback) {
  TestCgroup server_cg(Name("srv6")), client_cg(Name("cli6"));
  int port = FreeStablePort();
  const int kConns = 5, kSend = 1000, kResp = 2000;
  Proc server(server_cg, {"python3", "-c", kServerPy, std::to_string(port), std::to_string(kResp)}, dir_ + "/srv.log",
              {"HOST=::1"});
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  std::string dest = "[::1]:" + std::to_string(port);
  EXPECT_TRUE(Eventually([&] {
    return Value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", dest}});
  }, 1));
  Proc client(client_cg, {"python3", "-c", kClientPy, std::to_string(port), std::to_string(kConns),
                          std::to_string(kSend)}, dir_ + "/cli.log", {"HOST=::1"});
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_active_connections", client_cg, dest); }, 0));
  EXPECT_EQ(ConnValue("container_net_tcp_successful_connects_total", client_cg, dest), kConns);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_sent_total", client_cg, dest), kConns * kSend);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_received_total", client_cg, dest), kConns * kResp);
}

// Connections and listens that exist before the agent starts are found in /proc; their close is
// then reported by the kernel through the `reconciled` map.
TEST_F(TracerBpfTest, ReconcilesConnectionsThatExistedBeforeTheStart) {
  TestCgroup server_cg(Name("presrv")), client_cg(Name("precli"));
  int port = FreeStablePort();
  const int kConns = 4;
  Proc server(server_cg, {"python3", "-c", kServerPy, std::to_string(port), "10"}, dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  std::string release = dir_ + "/release";
  Proc client(client_cg, {"python3", "-c", kClientPy, std::to_string(port), std::to_string(kConns), "100", release},
              dir_ + "/cli.log");
  ASSERT_TRUE(client.WaitForLog("holding")) << client.Log();

  EbpfOptions o;
  o.reconcile = true;
  auto fresh = EbpfCollector::Start(o);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  auto value = [&](const std::string& family, const prom::Labels& want) {
    std::vector<prom::MetricFamily> out;
    (*fresh)->Collect(&out);
    return Find(out, family, want);
  };
  std::string dest = "127.0.0.1:" + std::to_string(port);
  prom::Labels conn{{"container_id", client_cg.key()}, {"destination", dest}};
  EXPECT_EQ(value("container_net_tcp_active_connections", conn), kConns);
  EXPECT_EQ(value("container_net_tcp_successful_connects_total", conn), 0);  // not seen connecting
  EXPECT_EQ(value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", dest}}), 1);
  // The server's accepted sockets are inbound and are not reported as connections.
  EXPECT_EQ(value("container_net_tcp_active_connections", {{"container_id", server_cg.key()}}), -1);

  std::ofstream(release) << "go";
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  EXPECT_TRUE(testing::WaitFor([&] { return value("container_net_tcp_active_connections", conn) == 0; }, 15s));
  server.Kill();
  EXPECT_TRUE(testing::WaitFor([&] {
    return value("container_net_tcp_listen_info", {{"container_id", server_cg.key()}, {"listen_addr", dest}}) == 0;
  }, 15s));
  (*fresh)->Stop();
}

// Segment loss between two network namespaces (veth, nftables drop on the server's input hook;
// there is no netem here): every retransmission of the client's socket is counted.
TEST_F(TracerBpfTest, CountsRetransmits) {
  if (system("command -v nft >/dev/null && command -v ip >/dev/null") != 0) GTEST_SKIP() << "needs nft and ip";
  NetnsPair ns("r");
  ASSERT_TRUE(ns.ok());
  std::string nsa = ns.a(), nsb = ns.b(), net = ns.ip_a().substr(0, ns.ip_a().size() - 1);
  int port = FreeStablePort();
  auto sh = NetnsPair::Sh;
  // Drop every 7th client->server packet on the server's input (output drops are not retransmits).
  ASSERT_EQ(sh("ip netns exec " + nsb + " nft add table inet lossy && ip netns exec " + nsb +
               " nft add chain inet lossy in '{ type filter hook input priority 0; policy accept; }' && ip netns exec " +
               nsb + " nft add rule inet lossy in tcp dport " + std::to_string(port) +
               " numgen inc mod 7 == 3 counter drop"),
            0);

  TestCgroup server_cg(Name("rtxsrv")), client_cg(Name("rtxcli"));
  Proc server(server_cg, {"ip", "netns", "exec", nsb, "python3", "-c", kServerPy, std::to_string(port), "10"},
              dir_ + "/srv.log", {"HOST=" + net + "2"});
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  const int kConns = 3, kSend = 100000;
  Proc client(client_cg, {"ip", "netns", "exec", nsa, "python3", "-c", kClientPy, std::to_string(port),
                          std::to_string(kConns), std::to_string(kSend)}, dir_ + "/cli.log", {"HOST=" + net + "2"});
  ASSERT_EQ(client.Wait(120s), 0) << client.Log();

  // The kernel's own counters in the client's namespace: "Tcp: ... RetransSegs" in /proc/net/snmp and
  // "TcpExt: ... TCPLossProbes" in /proc/net/netstat (header line, then value line).
  auto counter = [&](const std::string& file, const std::string& prefix, const std::string& name) {
    FILE* p = popen(("ip netns exec " + nsa + " cat " + file).c_str(), "r");
    std::string text;
    char buf[4096];
    size_t n = 0;
    while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
    if (p) pclose(p);
    std::vector<std::string> header, values;
    for (const auto& line : Split(text, '\n')) {
      if (!StartsWith(line, prefix)) continue;
      (header.empty() ? header : values) = SplitAny(line, " ");
    }
    for (size_t i = 0; i < header.size() && i < values.size(); i++)
      if (header[i] == name) return std::stod(values[i]);
    return -1.0;
  };
  double retrans_segs = counter("/proc/net/snmp", "Tcp: ", "RetransSegs");
  double loss_probes = counter("/proc/net/netstat", "TcpExt: ", "TCPLossProbes");
  double retrans_fail = counter("/proc/net/netstat", "TcpExt: ", "TCPRetransFail");
  ASSERT_GT(retrans_segs, 0);
  ASSERT_GE(loss_probes, 0);
  ASSERT_GE(retrans_fail, 0);

  std::string dest = net + "2:" + std::to_string(port);
  EXPECT_TRUE(Eventually([&] { return ConnValue("container_net_tcp_active_connections", client_cg, dest); }, 0));
  EXPECT_EQ(ConnValue("container_net_tcp_successful_connects_total", client_cg, dest), kConns);
  // Every retransmission passes tcp_retransmit_skb except a tail loss probe that resends the last
  // segment (tcp_send_loss_probe calls __tcp_retransmit_skb directly); RetransSegs also counts
  // retransmissions whose transmit failed (TCPRetransFail), which are not counted here (err != 0).
  double counted = ConnValue("container_net_tcp_retransmits_total", client_cg, dest);
  std::cout << "retransmits counted " << counted << ", RetransSegs " << retrans_segs << ", TCPLossProbes "
            << loss_probes << ", TCPRetransFail " << retrans_fail << "\n";
  // Observed over ~30 runs: equal, or one below with TCPLossProbes 1; once one below with
  // TCPLossProbes 0 (not explained yet), hence the one-segment allowance.
  EXPECT_LE(counted, retrans_segs);
  EXPECT_GE(counted, retrans_segs - loss_probes - retrans_fail - 1)
      << "RetransSegs " << retrans_segs << ", TCPLossProbes " << loss_probes << ", TCPRetransFail " << retrans_fail;
  EXPECT_GT(counted, 0);
  EXPECT_EQ(ConnValue("container_net_tcp_bytes_sent_total", client_cg, dest), kConns * kSend);
}

// actual_destination: a connection DNATed in the client's namespace is reported with the address
// it was sent to as destination and the one it really reached (from conntrack) as actual_destination.
TEST_F(TracerBpfTest, ActualDestinationThroughDnat) {
  if (system("command -v nft >/dev/null && command -v ip >/dev/null") != 0) GTEST_SKIP() << "needs nft and ip";
  NetnsPair ns("n");
  ASSERT_TRUE(ns.ok());
  int front = FreeStablePort(), real = FreeStablePort();
  ASSERT_EQ(NetnsPair::Sh("ip netns exec " + ns.a() + " nft add table ip natt && ip netns exec " + ns.a() +
                          " nft add chain ip natt out '{ type nat hook output priority -100; }' && ip netns exec " +
                          ns.a() + " nft add rule ip natt out tcp dport " + std::to_string(front) + " dnat to " +
                          ns.ip_b() + ":" + std::to_string(real)),
            0);
  TestCgroup server_cg(Name("natsrv")), client_cg(Name("natcli"));
  Proc server(server_cg, {"ip", "netns", "exec", ns.b(), "python3", "-c", kServerPy, std::to_string(real), "10"},
              dir_ + "/srv.log", {"HOST=" + ns.ip_b()});
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  std::string release = dir_ + "/release";
  const int kConns = 2;
  Proc client(client_cg, {"ip", "netns", "exec", ns.a(), "python3", "-c", kClientPy, std::to_string(front),
                          std::to_string(kConns), "5", release}, dir_ + "/cli.log", {"HOST=" + ns.ip_b()});
  ASSERT_TRUE(client.WaitForLog("holding")) << client.Log();
  std::string dest = ns.ip_b() + ":" + std::to_string(front), actual = ns.ip_b() + ":" + std::to_string(real);
  prom::Labels labels{{"container_id", client_cg.key()}, {"destination", dest}, {"actual_destination", actual}};
  EXPECT_TRUE(Eventually([&] { return Value("container_net_tcp_active_connections", labels); }, kConns))
      << "found lookups: " << Value("coroot_node_agent_conntrack_lookups_total", {{"result", "found"}})
      << ", errors: " << Value("coroot_node_agent_conntrack_lookups_total", {{"result", "error"}});
  EXPECT_EQ(Value("container_net_tcp_successful_connects_total", labels), kConns);
  // Open connections in another namespace: the socket iterator runs inside it.
  EXPECT_TRUE(Eventually([&] { return Value("container_net_tcp_bytes_sent_total", labels); }, kConns * 5));
  std::ofstream(release) << "go";
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  EXPECT_TRUE(Eventually([&] { return Value("container_net_tcp_active_connections", labels); }, 0));
  EXPECT_EQ(Value("container_net_tcp_bytes_received_total", labels), kConns * 10);
}

}  // namespace
}  // namespace coroot::agent::tracer
