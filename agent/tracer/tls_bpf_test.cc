// TLS plaintext through uprobes against the real kernel: a Python HTTPS server (OpenSSL 3 through
// the ssl module: SSL_read_ex/SSL_write_ex) answering a Go crypto/tls client and a Python client,
// each in its own cgroup v2. (`openssl s_server` is no use here: its BIO-based I/O calls OpenSSL's
// internal read/write functions, not the exported SSL_read*/SSL_write*, so no uprobe sees it.) Exact counts on both sides: N HTTPS requests made => N
// outbound requests for the client's container and N inbound for the server's, with status 2xx.
// Needs root. CTest label: bpf.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fstream>

#include "agent/tracer/bpf_test_util.h"
#include "agent/tracer/ebpf_collector.h"
#include "lib/testing/go_build.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer {
namespace {

using namespace bpf_test;

class TlsBpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0 || Cgroup2Root().empty()) return;
    EbpfOptions o;
    o.reconcile = false;
    o.tracer.ring_buffer_bytes = 8 << 20;
    o.instrumentation_delay = std::chrono::seconds(0);  // test processes are young
    auto c = EbpfCollector::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collector_ = *c;
  }
  static void TearDownTestSuite() { collector_.reset(); }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (eBPF, cgroups)";
    if (Cgroup2Root().empty()) GTEST_SKIP() << "no cgroup v2 mount";
    ASSERT_NE(collector_, nullptr);
    ASSERT_NE(collector_->tls(), nullptr);
    dir_ = testing::MakeTempDir("tls_bpf_test_");
    ASSERT_EQ(system(("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout " + dir_ +
                      "/key.pem -out " + dir_ + "/cert.pem >/dev/null 2>&1")
                         .c_str()),
              0);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Name(const std::string& what) { return "coroot_tls_test_" + std::to_string(getpid()) + "_" + what; }

  // HTTP/1.0 over TLS (one request per connection), 200 for every GET.
  std::unique_ptr<Proc> StartServer(const TestCgroup& cg, int port) {
    const std::string script = R"(
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello over tls\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
)";
    std::ofstream(dir_ + "/server.py") << script;
    return std::make_unique<Proc>(
        cg, std::vector<std::string>{"python3", dir_ + "/server.py", std::to_string(port), dir_ + "/cert.pem", dir_ + "/key.pem"},
        dir_ + "/server.log");
  }

  static double Value(const std::string& family, const prom::Labels& want) {
    std::vector<prom::MetricFamily> out;
    collector_->Collect(&out);
    for (const auto& f : out) {
      if (f.name != family) continue;
      for (const auto& s : f.samples)
        if (Matches(s.labels, want)) return s.value;
      for (const auto& h : f.histograms)
        if (Matches(h.labels, want)) return static_cast<double>(h.count);
    }
    return -1;
  }
  static bool Matches(const prom::Labels& have, const prom::Labels& want) {
    for (const auto& l : want) {
      bool found = false;
      for (const auto& h : have) found |= h == l;
      if (!found) return false;
    }
    return true;
  }
  static void ExpectCount(const std::string& family, const prom::Labels& want, double n) {
    bool reached = testing::WaitFor([&] { return Value(family, want) == n; }, 15s);
    if (reached) std::this_thread::sleep_for(300ms);
    EXPECT_EQ(Value(family, want), n) << family << " " << Describe(want) << "\nseries of the family:\n" << Dump(family);
  }
  static std::string Describe(const prom::Labels& labels) {
    std::string s;
    for (const auto& l : labels) s += l.name + "=" + l.value + " ";
    return s;
  }
  static std::string Dump(const std::string& family) {
    std::vector<prom::MetricFamily> out;
    collector_->Collect(&out);
    std::string s;
    for (const auto& f : out) {
      if (f.name != family) continue;
      for (const auto& x : f.samples) s += "  " + Describe(x.labels) + "→ " + std::to_string(x.value) + "\n";
    }
    return s;
  }
  // A plain TCP connect: an HTTPS probe would itself be counted once libssl carries probes.
  static bool WaitPort(int port) {
    return testing::WaitFor(
        [&] {
          int fd = socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in a{};
          a.sin_family = AF_INET;
          a.sin_port = htons(port);
          a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
          close(fd);
          return ok;
        },
        20s);
  }

  static std::shared_ptr<EbpfCollector> collector_;
  std::string dir_;
};
std::shared_ptr<EbpfCollector> TlsBpfTest::collector_;

prom::Labels With(prom::Labels l, const std::string& k, const std::string& v) {
  l.push_back({k, v});
  return l;
}

TEST_F(TlsBpfTest, GoClientAgainstPythonServer) {
  // Stripped (-s -w), as release builds often are: the probes are found through .gopclntab.
  Status built = testing::BuildGoProgram(testing::SourcePath("agent/tracer/tls/testdata/go_https_client.go"),
                                         dir_ + "/go_client", {"-ldflags=-s -w"});
  ASSERT_TRUE(built.ok()) << built.message();
  TestCgroup server_cg(Name("gosrv")), client_cg(Name("gocli"));
  const int port = FreeStablePort();
  auto server = StartServer(server_cg, port);
  ASSERT_TRUE(WaitPort(port)) << server->Log();
  const int n = 7;
  Proc client(client_cg, {dir_ + "/go_client", "https://127.0.0.1:" + std::to_string(port) + "/", std::to_string(n), "4", "0"},
              dir_ + "/client.log");
  ASSERT_EQ(client.Wait(60s), 0) << client.Log();
  ASSERT_NE(client.Log().find("responses: " + std::to_string(n)), std::string::npos) << client.Log();

  const std::string dest = "127.0.0.1:" + std::to_string(port);
  ExpectCount("container_http_requests_total",
              With({{"container_id", client_cg.key()}, {"destination", dest}}, "status", "2xx"), n);
  ExpectCount("container_http_inbound_requests_total", With({{"container_id", server_cg.key()}}, "status", "2xx"), n);
  auto st = collector_->tls()->stats();
  EXPECT_GE(st.files_attached, 2u);  // libssl.so.3 and the Go binary
  EXPECT_EQ(st.attach_errors, 0u);
}

TEST_F(TlsBpfTest, PythonClientAgainstPythonServer) {
  TestCgroup server_cg(Name("pysrv")), client_cg(Name("pycli"));
  const int port = FreeStablePort();
  auto server = StartServer(server_cg, port);
  ASSERT_TRUE(WaitPort(port)) << server->Log();
  const int n = 6;
  // A plain TCP connection first, so the tracer knows the process; then the HTTPS requests.
  const std::string script = R"(
import http.client, socket, ssl, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socket.create_connection(("127.0.0.1", port)).close()
time.sleep(4)
ctx = ssl._create_unverified_context()
ok = 0
for i in range(n):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    ok += r.status == 200
    c.close()
print("responses:", ok)
)";
  std::ofstream(dir_ + "/client.py") << script;
  Proc client(client_cg, {"python3", dir_ + "/client.py", std::to_string(port), std::to_string(n)}, dir_ + "/client.log");
  ASSERT_EQ(client.Wait(60s), 0) << client.Log();
  ASSERT_NE(client.Log().find("responses: " + std::to_string(n)), std::string::npos) << client.Log();

  const std::string dest = "127.0.0.1:" + std::to_string(port);
  ExpectCount("container_http_requests_total",
              With({{"container_id", client_cg.key()}, {"destination", dest}}, "status", "2xx"), n);
  ExpectCount("container_http_inbound_requests_total", With({{"container_id", server_cg.key()}}, "status", "2xx"), n);
}

}  // namespace
}  // namespace coroot::agent::tracer
