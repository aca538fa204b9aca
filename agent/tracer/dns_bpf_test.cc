// DNS tracing against the real kernel: a real dnsmasq on 127.53.x.1:53 with local records, and real
// resolvers, each in its own cgroup v2 (its container_id):
//   glibc (getent ahosts, Python's socket.getaddrinfo): connect + sendmmsg of A and AAAA +
//     recvfrom, in a private mount namespace whose /etc/resolv.conf names the dnsmasq (glibc only
//     asks servers on port 53 from resolv.conf);
//   dig: connect + sendmmsg (one message) + recvmsg; dig +tcp: writev [length][message] + read;
//   a raw Python client on an unconnected socket: sendto / sendmsg with the address, recvfrom.
// Exact counts per request_type, domain and status; durations observed; ip_to_fqdn entries; the
// --max-fqdns-per-container cap. The server side: dnsmasq's UDP socket (bound to port 53) answers
// every query once: container_dns_inbound_requests_total{status} of dnsmasq's own cgroup (one per
// test) counts them; its TCP answers (given by a forked child) are not traced. Needs root and dnsmasq + dig (skipped without them). CTest label: bpf.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "agent/tracer/bpf_test_util.h"
#include "agent/tracer/collector_test_util.h"
#include "agent/tracer/ebpf_collector.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer {
namespace {

using namespace bpf_test;

bool Installed(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// Whether port 53 of addr is free for both UDP and TCP (nothing else answers there).
bool Port53Free(const std::string& addr) {
  for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
    int fd = socket(AF_INET, type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
    a.sin_port = htons(53);
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (!ok) return false;
  }
  return true;
}

bool WaitTcp(const std::string& addr, int port, std::chrono::milliseconds limit = 30s) {
  return testing::WaitFor(
      [&] {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
        a.sin_port = htons(static_cast<uint16_t>(port));
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
        close(fd);
        return ok;
      },
      limit);
}

// A raw DNS client on one unconnected UDP socket: argv = server, then "sendto|sendmsg:TYPE:name"...
// (TYPE 1 = A, 28 = AAAA); exits 1 if a response is missing or has another id.
const char* kRawClient = R"(
import socket, struct, sys
server = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for i, spec in enumerate(sys.argv[2:]):
    how, qtype, name = spec.split(":", 2)
    qid = 0x4000 + i
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", int(qtype), 1)
    if how == "sendto":
        s.sendto(q, (server, 53))
    else:
        s.sendmsg([q], [], 0, (server, 53))
    r, _ = s.recvfrom(4096)
    if struct.unpack(">H", r[:2])[0] != qid:
        sys.exit(1)
)";

class DnsBpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { StartSharedCollector(&collector_); }
  static void TearDownTestSuite() { collector_.reset(); }

  void SetUp() override {
    if (std::string why = SkipReason(); !why.empty()) GTEST_SKIP() << why;
    if (!Installed("/usr/sbin/dnsmasq") || !Installed("/usr/bin/dig")) GTEST_SKIP() << "no dnsmasq / dig";
    dir_ = testing::MakeTempDir("dns_bpf_test_");
    chmod(dir_.c_str(), 0777);  // dnsmasq drops to nobody
    for (int i = 0; i < 250 && server_.empty(); i++) {
      std::string a = "127.53." + std::to_string((getpid() + i) % 250 + 1) + ".1";
      if (Port53Free(a)) server_ = a;
    }
    ASSERT_FALSE(server_.empty()) << "no free 127.53.x.1:53";
    // A cgroup per test: each test's inbound counts start from zero.
    dns_cg_ = std::make_unique<TestCgroup>(Name(std::string("dnsmasq_") +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    // *.test is answered here (unknown names: NXDOMAIN); anything else is REFUSED (no upstream).
    dnsmasq_ = std::make_unique<Proc>(
        *dns_cg_,
        std::vector<std::string>{"dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                                 "--listen-address=" + server_, "--port=53", "--pid-file=" + dir_ + "/dnsmasq.pid",
                                 "--log-facility=" + dir_ + "/dnsmasq.log", "--local=/test/",
                                 "--address=/svc.test/10.1.2.3", "--host-record=six.test,fd00::1",
                                 "--host-record=local.test,127.0.0.5"},
        dir_ + "/dnsmasq.out");
    ASSERT_TRUE(WaitTcp(server_, 53)) << dnsmasq_->Log();
    std::ofstream(dir_ + "/resolv.conf") << "nameserver " << server_ << "\noptions timeout:2 attempts:2\n";
    std::ofstream(dir_ + "/resolv_tcp.conf") << "nameserver " << server_ << "\noptions use-vc timeout:2 attempts:2\n";
  }
  void TearDown() override {
    dnsmasq_.reset();
    dns_cg_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Name(const std::string& what) { return "coroot_dns_test_" + std::to_string(getpid()) + "_" + what; }

  // Runs a client in cg to completion; returns its exit code.
  int Run(const TestCgroup& cg, std::vector<std::string> argv) {
    Proc p(cg, std::move(argv), dir_ + "/client.log");
    int rc = p.Wait();
    if (rc != 0) ADD_FAILURE() << "client log:\n" << p.Log();
    return rc;
  }
  // A shell command with the test's resolv.conf in place of /etc/resolv.conf (private mounts).
  int RunWithResolvConf(const TestCgroup& cg, const std::string& cmd, const std::string& conf = "resolv.conf") {
    return Run(cg, {"unshare", "-m", "sh", "-c", "mount --bind " + dir_ + "/" + conf + " /etc/resolv.conf && " + cmd});
  }

  static prom::Labels Dns(const TestCgroup& cg, const std::string& type, const std::string& domain,
                          const std::string& status) {
    return {{"container_id", cg.key()}, {"request_type", type}, {"domain", domain}, {"status", status}};
  }
  static void ExpectCount(const prom::Labels& want, double n) {
    ExpectSeriesValue(*collector_, "container_dns_requests_total", want, n);
  }
  // The latency histogram of a container: its count must be n and its sum above 0.
  static void ExpectDurations(const TestCgroup& cg, uint64_t n,
                              const std::string& family = "container_dns_requests_duration_seconds_total") {
    prom::Labels want{{"container_id", cg.key()}};
    ExpectSeriesValue(*collector_, family, want, static_cast<double>(n));
    std::vector<prom::MetricFamily> out;
    collector_->Collect(&out);
    for (const auto& f : out)
      if (f.name == family)
        for (const auto& h : f.histograms)
          if (LabelsInclude(h.labels, want)) EXPECT_GT(h.sum, 0);
  }
  // dnsmasq's side: its answers by status (-1: none), and n answers in its latency histogram.
  void ExpectInbound(const std::string& status, double n) {
    ExpectSeriesValue(*collector_, "container_dns_inbound_requests_total",
                      {{"container_id", dns_cg_->key()}, {"status", status}}, n);
  }
  void ExpectInboundDurations(uint64_t n) {
    ExpectDurations(*dns_cg_, n, "container_dns_inbound_requests_duration_seconds_total");
    // The server's own counts carry no client-side labels, and it made no DNS requests itself.
    EXPECT_EQ(SeriesValue(*collector_, "container_dns_requests_total", {{"container_id", dns_cg_->key()}}), -1);
  }

  static std::shared_ptr<EbpfCollector> collector_;
  std::string dir_, server_;
  std::unique_ptr<TestCgroup> dns_cg_;
  std::unique_ptr<Proc> dnsmasq_;
};
std::shared_ptr<EbpfCollector> DnsBpfTest::collector_;

TEST_F(DnsBpfTest, HooksAttach) {
  for (const char* p : {"coroot_l7_enter_connect", "coroot_l7_enter_sendmmsg", "coroot_l7_enter_sendto",
                        "coroot_l7_enter_sendmsg", "coroot_l7_enter_writev", "coroot_l7_exit_recvfrom",
                        "coroot_l7_exit_recvmsg", "coroot_l7_enter_bind", "coroot_l7_exit_bind"})
    EXPECT_EQ(SeriesValue(*collector_, "coroot_node_agent_ebpf_hook_attached", {{"program", p}}), 1) << p;
}

// glibc: A and AAAA in one sendmmsg on a connected socket, two recvfrom.
TEST_F(DnsBpfTest, GlibcGetentAndPythonGetaddrinfo) {
  TestCgroup getent_cg(Name("getent")), py_cg(Name("pygai"));
  const int kN = 3;
  ASSERT_EQ(RunWithResolvConf(getent_cg, "for i in 1 2 3; do getent ahosts svc.test > /dev/null || exit 1; done"), 0);
  // svc.test: A -> 10.1.2.3; AAAA -> NXDOMAIN (dnsmasq's --address has no IPv6 address for it).
  ExpectCount(Dns(getent_cg, "TypeA", "svc.test", "ok"), kN);
  ExpectCount(Dns(getent_cg, "TypeAAAA", "svc.test", "nxdomain"), kN);
  ExpectDurations(getent_cg, 2 * kN);

  // six.test has only an AAAA record: A is an empty success (counted), AAAA an answer.
  ASSERT_EQ(RunWithResolvConf(py_cg, "python3 -c 'import socket\nfor i in range(2): socket.getaddrinfo(\"six.test\", 80)'"),
            0);
  ExpectCount(Dns(py_cg, "TypeA", "six.test", "ok"), 2);
  ExpectCount(Dns(py_cg, "TypeAAAA", "six.test", "ok"), 2);
  ExpectDurations(py_cg, 4);

  // dnsmasq answered 3 x (A ok + AAAA nxdomain) + 2 x (A ok + AAAA ok).
  ExpectInbound("ok", 3 + 4);
  ExpectInbound("nxdomain", 3);
  ExpectInboundDurations(10);
}

// glibc over TCP (options use-vc): one writev of [length][A][length][AAAA], then each response
// read as its 2-byte length and the message.
TEST_F(DnsBpfTest, GlibcOverTcp) {
  TestCgroup cg(Name("getenttcp"));
  ASSERT_EQ(RunWithResolvConf(cg, "for i in 1 2; do getent ahosts svc.test > /dev/null || exit 1; done",
                              "resolv_tcp.conf"),
            0);
  ExpectCount(Dns(cg, "TypeA", "svc.test", "ok"), 2);
  ExpectCount(Dns(cg, "TypeAAAA", "svc.test", "nxdomain"), 2);
  ExpectDurations(cg, 4);
  // dnsmasq answers TCP in a forked child, on a socket its parent accepted: not traced.
  EXPECT_EQ(SeriesValue(*collector_, "container_dns_inbound_requests_total", {{"container_id", dns_cg_->key()}}), -1);
}

// dig: connect + sendmmsg + recvmsg; over TCP: writev of the length and the message, one read.
TEST_F(DnsBpfTest, DigUdpAndTcp) {
  TestCgroup udp_cg(Name("digudp")), tcp_cg(Name("digtcp"));
  const std::string at = "@" + server_;
  for (int i = 0; i < 2; i++) ASSERT_EQ(Run(udp_cg, {"dig", at, "+tries=1", "+time=3", "nx.test"}), 0);
  ASSERT_EQ(Run(udp_cg, {"dig", at, "+tries=1", "+time=3", "x.example"}), 0);
  ASSERT_EQ(Run(udp_cg, {"dig", at, "+tries=1", "+time=3", "AAAA", "six.test"}), 0);
  ExpectCount(Dns(udp_cg, "TypeA", "nx.test", "nxdomain"), 2);
  ExpectCount(Dns(udp_cg, "TypeA", "x.example", "refused"), 1);
  ExpectCount(Dns(udp_cg, "TypeAAAA", "six.test", "ok"), 1);
  ExpectDurations(udp_cg, 4);

  for (int i = 0; i < 3; i++) ASSERT_EQ(Run(tcp_cg, {"dig", at, "+tcp", "+tries=1", "+time=3", "svc.test"}), 0);
  ExpectCount(Dns(tcp_cg, "TypeA", "svc.test", "ok"), 3);
  ExpectDurations(tcp_cg, 3);

  // dnsmasq: recvmsg + sendmsg with the client's address; the TCP queries are not counted.
  ExpectInbound("nxdomain", 2);
  ExpectInbound("refused", 1);
  ExpectInbound("ok", 1);
  ExpectInboundDurations(4);
}

// Unconnected socket: sendto / sendmsg with the server's address start tracing it. ip_to_fqdn is
// exported for an address a container connects to (local.test -> 127.0.0.5), not for the others.
TEST_F(DnsBpfTest, UnconnectedSocketAndIpToFqdn) {
  TestCgroup raw_cg(Name("raw")), srv_cg(Name("srv"));
  ASSERT_EQ(Run(raw_cg, {"python3", "-c", kRawClient, server_, "sendto:1:svc.test", "sendmsg:1:svc.test",
                         "sendto:1:svc.test", "sendmsg:28:nx.test", "sendto:1:local.test"}),
            0);
  ExpectCount(Dns(raw_cg, "TypeA", "svc.test", "ok"), 3);
  ExpectCount(Dns(raw_cg, "TypeAAAA", "nx.test", "nxdomain"), 1);
  ExpectCount(Dns(raw_cg, "TypeA", "local.test", "ok"), 1);
  ExpectDurations(raw_cg, 5);
  ExpectInbound("ok", 4);
  ExpectInbound("nxdomain", 1);
  ExpectInboundDurations(5);

  const IpToFqdn& names = collector_->l7()->ip_to_fqdn();
  EXPECT_EQ(names.Lookup("10.1.2.3"), "svc.test");
  EXPECT_EQ(names.Lookup("127.0.0.5"), "local.test");
  // Learned but not in use: not exported. Once a container connects to it, it is.
  EXPECT_EQ(SeriesValue(*collector_, "ip_to_fqdn", {{"ip", "10.1.2.3"}}), -1);
  int port = FreeStablePort();
  Proc server(srv_cg, {"python3", "-c",
                       "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.5'," + std::to_string(port) +
                           "))\ns.listen(1)\nprint('ready',flush=True)\nc,_=s.accept()\nc.recv(1)\n"},
              dir_ + "/srv.log");
  ASSERT_TRUE(testing::WaitFor([&] { return server.Log().find("ready") != std::string::npos; }, 30s)) << server.Log();
  ASSERT_EQ(Run(raw_cg, {"python3", "-c",
                         "import socket\ns=socket.create_connection(('127.0.0.5'," + std::to_string(port) +
                             "))\ns.close()\n"}),
            0);
  ExpectSeriesValue(*collector_, "ip_to_fqdn", {{"ip", "127.0.0.5"}, {"fqdn", "local.test"}}, 1);
  EXPECT_EQ(SeriesValue(*collector_, "ip_to_fqdn", {{"ip", "10.1.2.3"}}), -1);
}

// A DNS server bound before the agent started: the startup scan of /proc finds its port-53 UDP socket
// and traces it from then on. (A second collector, started after dnsmasq's bind.)
TEST_F(DnsBpfTest, ServerBoundBeforeTheAgent) {
  EbpfOptions o;
  o.reconcile = true;
  o.tracer.ring_buffer_bytes = 8 << 20;
  auto late = EbpfCollector::Start(o);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  TestCgroup cg(Name("late"));
  const std::string at = "@" + server_;
  for (int i = 0; i < 2; i++) ASSERT_EQ(Run(cg, {"dig", at, "+tries=1", "+time=3", "svc.test"}), 0);
  ASSERT_EQ(Run(cg, {"dig", at, "+tries=1", "+time=3", "nx.test"}), 0);
  prom::Labels want{{"container_id", dns_cg_->key()}};
  want.push_back({"status", "ok"});
  ExpectSeriesValue(**late, "container_dns_inbound_requests_total", want, 2);
  want.back() = {"status", "nxdomain"};
  ExpectSeriesValue(**late, "container_dns_inbound_requests_total", want, 1);
  // The collector that saw the bind counts the same answers.
  ExpectInbound("ok", 2);
  ExpectInbound("nxdomain", 1);
}

// --max-fqdns-per-container (50): the 51st and later distinct names of a container are "~other".
TEST_F(DnsBpfTest, DomainCapPerContainer) {
  TestCgroup cg(Name("many"));
  std::vector<std::string> argv{"python3", "-c", kRawClient, server_};
  const int kNames = 53;
  for (int i = 0; i < kNames; i++) argv.push_back("sendto:1:n" + std::to_string(i) + ".test");
  ASSERT_EQ(Run(cg, argv), 0);
  ExpectCount(Dns(cg, "TypeA", "~other", "nxdomain"), kNames - 50);
  ExpectCount(Dns(cg, "TypeA", "n0.test", "nxdomain"), 1);
  std::vector<prom::MetricFamily> out;
  collector_->Collect(&out);
  std::set<std::string> domains;
  for (const auto& f : out)
    if (f.name == "container_dns_requests_total")
      for (const auto& s : f.samples)
        if (LabelsInclude(s.labels, {{"container_id", cg.key()}}))
          for (const auto& l : s.labels)
            if (l.name == "domain") domains.insert(l.value);
  EXPECT_EQ(domains.size(), 51u);  // 50 names + ~other
  ExpectInbound("nxdomain", kNames);  // no domain label on the server side, so no cap
  ExpectInboundDurations(kNames);
}

}  // namespace
}  // namespace coroot::agent::tracer
