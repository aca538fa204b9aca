// L7 tracing of TLS and HTTP/2 against the real kernel, each peer in its own cgroup v2; exact
// counts on both sides (N requests made => N outbound for the client's container and N inbound
// for the server's, with their status). Needs root. CTest label: bpf.
//
// TLS: a Python HTTPS server (OpenSSL 3 through the ssl module: SSL_read_ex/SSL_write_ex)
// answering a stripped Go crypto/tls client and a Python client. (`openssl s_server` is no use
// here: its BIO-based I/O calls OpenSSL's internal functions, never the exported SSL_read*/
// SSL_write*, so no uprobe sees it.)
// HTTP/2: Go's standard library client and server, cleartext (h2c: frames from the syscalls) and
// over TLS (frames from the crypto/tls probes).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fstream>
#include <functional>

#include "agent/tracer/bpf_test_util.h"
#include "agent/tracer/collector_test_util.h"
#include "agent/tracer/ebpf_collector.h"
#include "lib/testing/go_build.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer {
namespace {

using namespace bpf_test;

class TlsBpfTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    EbpfOptions o = SharedCollectorOptions();
    o.instrumentation_delay = std::chrono::seconds(0);  // test processes are young
    StartSharedCollector(&collector_, o);
  }
  static void TearDownTestSuite() { collector_.reset(); }
  void SetUp() override {
    if (std::string why = SkipReason(); !why.empty()) GTEST_SKIP() << why;
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

  static void ExpectCount(const std::string& family, const prom::Labels& want, double n) {
    ExpectSeriesValue(*collector_, family, want, n);
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
  ASSERT_TRUE(WaitTcpPort(port)) << server->Log();
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
  ASSERT_TRUE(WaitTcpPort(port)) << server->Log();
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

// HTTP/2 from Go's standard library: cleartext (h2c, frames from the syscalls) and over TLS (frames
// from the crypto/tls probes). The client sends N_OK GET /ok (200) and N_MISSING GET /missing (404)
// over one connection; each request is counted once on each side with its status.
void RunGoHttp2(const std::string& dir, bool tls, const std::string& name,
                const std::function<std::string(const std::string&)>& cg_name) {
  Status built = testing::BuildGoProgram(testing::SourcePath("agent/tracer/testdata/go_h2.go"), dir + "/go_h2");
  ASSERT_TRUE(built.ok()) << built.message();
  TestCgroup server_cg(cg_name(name + "srv")), client_cg(cg_name(name + "cli"));
  const int port = FreeStablePort();
  std::vector<std::string> server_argv{dir + "/go_h2", "server", "127.0.0.1:" + std::to_string(port)};
  if (tls) {
    server_argv.push_back(dir + "/cert.pem");
    server_argv.push_back(dir + "/key.pem");
  }
  Proc server(server_cg, server_argv, dir + "/server.log");
  ASSERT_TRUE(WaitTcpPort(port)) << server.Log();
  const int n_ok = 9, n_missing = 4;
  const std::string base = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
  Proc client(client_cg, {dir + "/go_h2", "client", base, std::to_string(n_ok), std::to_string(n_missing), tls ? "4" : "0.5"},
              dir + "/client.log");
  ASSERT_EQ(client.Wait(60s), 0) << client.Log();
  ASSERT_NE(client.Log().find("done " + std::to_string(n_ok) + " " + std::to_string(n_missing) + " HTTP/2.0"),
            std::string::npos)
      << client.Log();
  const std::string dest = "127.0.0.1:" + std::to_string(port);
  prom::Labels out{{"container_id", client_cg.key()}, {"destination", dest}};
  prom::Labels in{{"container_id", server_cg.key()}};
  TlsBpfTest::ExpectCount("container_http_requests_total", With(out, "status", "2xx"), n_ok);
  TlsBpfTest::ExpectCount("container_http_requests_total", With(out, "status", "4xx"), n_missing);
  TlsBpfTest::ExpectCount("container_http_requests_duration_seconds_total", out, n_ok + n_missing);
  TlsBpfTest::ExpectCount("container_http_inbound_requests_total", With(in, "status", "2xx"), n_ok);
  TlsBpfTest::ExpectCount("container_http_inbound_requests_total", With(in, "status", "4xx"), n_missing);
}

TEST_F(TlsBpfTest, Http2CleartextGo) {
  RunGoHttp2(dir_, false, "h2c", [this](const std::string& s) { return Name(s); });
}

TEST_F(TlsBpfTest, Http2OverTlsGo) {
  RunGoHttp2(dir_, true, "h2tls", [this](const std::string& s) { return Name(s); });
}

}  // namespace
}  // namespace coroot::agent::tracer
