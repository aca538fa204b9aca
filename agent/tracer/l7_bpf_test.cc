// L7 tracing against the real kernel: real servers (python http.server, PostgreSQL, Redis,
// memcached, MariaDB) and real clients (curl, psql, redis-cli, a raw-socket client, mariadb) on
// loopback, each in its own cgroup v2 so that the container_id label singles out the test's
// processes among everything else on the machine. Exact counts: N requests made => N counted, with
// the right status and destination. Needs root; servers that are not installed skip their test.
// CTest label: bpf.
#include <gtest/gtest.h>
#include <pwd.h>

#include <fstream>

#include "agent/tracer/bpf_test_util.h"
#include "agent/tracer/collector_test_util.h"
#include "agent/tracer/ebpf_collector.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer {
namespace {

using namespace bpf_test;

bool Installed(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// Runs a shell command in the test's own cgroup (servers' setup, not traced work).
int Sh(const std::string& cmd) { return system(cmd.c_str()); }

class L7BpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { StartSharedCollector(&collector_); }
  static void TearDownTestSuite() { collector_.reset(); }
  void SetUp() override {
    if (std::string why = SkipReason(); !why.empty()) GTEST_SKIP() << why;
    dir_ = testing::MakeTempDir("l7_bpf_test_");
    chmod(dir_.c_str(), 0755);  // servers that run as their own user (postgres, mysql) work in it
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Name(const std::string& what) { return "coroot_l7_test_" + std::to_string(getpid()) + "_" + what; }

  static double Value(const std::string& family, const prom::Labels& want) {
    return SeriesValue(*collector_, family, want);
  }
  static void ExpectCount(const std::string& family, const prom::Labels& want, double n) {
    ExpectSeriesValue(*collector_, family, want, n);
  }
  static bool WaitPort(int port, std::chrono::milliseconds limit = 30s) { return WaitTcpPort(port, limit); }
  // Runs a client in cg to completion; returns its exit code.
  int Run(const TestCgroup& cg, std::vector<std::string> argv, std::vector<std::string> env = {}) {
    Proc p(cg, std::move(argv), dir_ + "/client.log", std::move(env));
    return p.Wait();
  }

  static std::shared_ptr<EbpfCollector> collector_;
  std::string dir_;
};
std::shared_ptr<EbpfCollector> L7BpfTest::collector_;

TEST_F(L7BpfTest, HooksAttach) {
  for (const char* p : {"coroot_l7_enter_write", "coroot_l7_enter_sendto", "coroot_l7_enter_sendmsg",
                        "coroot_l7_enter_writev", "coroot_l7_exit_read", "coroot_l7_exit_recvfrom",
                        "coroot_l7_exit_recvmsg", "coroot_l7_exit_readv", "coroot_l7_exit_accept4",
                        "coroot_l7_enter_close"})
    EXPECT_EQ(Value("coroot_node_agent_ebpf_hook_attached", {{"program", p}}), 1) << p;
}

// --disable-l7-tracing: no L7 hook is attached and no L7 series appears; TCP tracking goes on.
TEST_F(L7BpfTest, DisabledL7TracingAttachesNothing) {
  EbpfOptions o;
  o.reconcile = false;
  o.l7 = false;
  auto c = EbpfCollector::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->l7(), nullptr);
  for (const auto& h : (*c)->tracer().hooks()) {
    if (h.program.rfind("coroot_l7_", 0) != 0) continue;
    EXPECT_FALSE(h.attached) << h.program;
  }
  TestCgroup server_cg(Name("offsrv")), client_cg(Name("offcli"));
  int port = FreeStablePort();
  fs::create_directories(dir_ + "/www");
  Proc server(server_cg, {"python3", "-u", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                          "--directory", dir_ + "/www"},
              dir_ + "/srv.log");
  ASSERT_TRUE(WaitPort(port)) << server.Log();
  ASSERT_EQ(Run(client_cg, {"curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + std::to_string(port) + "/"}), 0);
  prom::Labels conn{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + std::to_string(port)}};
  auto value = [&](const std::string& family) { return SeriesValue(**c, family, conn); };
  EXPECT_TRUE(testing::WaitFor([&] { return value("container_net_tcp_successful_connects_total") == 1; }, 15s));
  EXPECT_EQ(value("container_http_requests_total"), -1);
  (*c)->Stop();
}

// A ring buffer that is not drained overflows: lost L7 events are counted, never silent.
TEST_F(L7BpfTest, LostL7EventsAreCounted) {
  EbpfOptions o;
  o.reconcile = false;
  o.tracer.ring_buffer_bytes = 64 << 10;          // room for ~60 L7 events
  o.tracer.wakeup_bytes = 1 << 30;                // never wake the reader
  o.tracer.poll_interval = std::chrono::hours(1);  // and it never drains on its own
  auto c = EbpfCollector::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  TestCgroup server_cg(Name("lostsrv")), client_cg(Name("lostcli"));
  int port = FreeStablePort();
  const int kRequests = 300;
  // One connection, kRequests RESP PINGs answered by +PONG: 2 events each (client and server side).
  const char* py = R"(
import socket, sys
role, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if role == "server":
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port)); ls.listen(1); print("ready", flush=True)
    c, _ = ls.accept()
    for i in range(n):
        buf = b""
        while len(buf) < 14: buf += c.recv(14 - len(buf))
        c.sendall(b"+PONG\r\n")
else:
    s = socket.create_connection(("127.0.0.1", port))
    for i in range(n):
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        buf = b""
        while len(buf) < 7: buf += s.recv(7 - len(buf))
)";
  Proc server(server_cg, {"python3", "-c", py, "server", std::to_string(port), std::to_string(kRequests)},
              dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
  Proc client(client_cg, {"python3", "-c", py, "client", std::to_string(port), std::to_string(kRequests)},
              dir_ + "/cli.log");
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  ASSERT_EQ(server.Wait(), 0) << server.Log();
  std::vector<prom::MetricFamily> out;
  (*c)->Collect(&out);  // drains what fitted
  auto find = [&](const std::string& family, const prom::Labels& want) {
    for (const auto& f : out)
      if (f.name == family)
        for (const auto& s : f.samples)
          if (LabelsInclude(s.labels, want)) return s.value;
    return -1.0;
  };
  double lost = find("coroot_node_agent_ebpf_events_lost_total", {});
  double counted = find("container_redis_queries_total",
                        {{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + std::to_string(port)}});
  auto counters = (*c)->tracer().ReadCounters();
  EXPECT_GT(lost, 0);
  EXPECT_LE(counters.l7_events, (64u << 10) / sizeof(coroot_l7_event));
  EXPECT_GE(lost + static_cast<double>(counters.l7_events), 2 * kRequests);  // other traffic only adds
  EXPECT_LT(counted, kRequests);
  EXPECT_EQ(find("coroot_node_agent_ebpf_dropped_total", {{"reason", "ring_buffer_full"}}), lost);
  (*c)->Stop();
}

// curl (send/recv) against python's http.server (recv_into/sendall, a thread per request).
TEST_F(L7BpfTest, HttpCurlAgainstPythonHttpServer) {
  TestCgroup server_cg(Name("httpsrv")), client_cg(Name("httpcli"));
  int port = FreeStablePort();
  fs::create_directories(dir_ + "/www");
  std::ofstream(dir_ + "/www/index.html") << "hello\n";
  Proc server(server_cg, {"python3", "-u", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                          "--directory", dir_ + "/www"},
              dir_ + "/srv.log");
  ASSERT_TRUE(WaitPort(port)) << server.Log();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  for (int i = 0; i < 5; i++) ASSERT_EQ(Run(client_cg, {"curl", "-sf", "-o", "/dev/null", base + "/index.html"}), 0);
  for (int i = 0; i < 3; i++) ASSERT_EQ(Run(client_cg, {"curl", "-s", "-o", "/dev/null", base + "/missing"}), 0);

  std::string dest = "127.0.0.1:" + std::to_string(port);
  prom::Labels out{{"container_id", client_cg.key()}, {"destination", dest}};
  auto with = [](prom::Labels l, const std::string& status) {
    l.push_back({"status", status});
    return l;
  };
  ExpectCount("container_http_requests_total", with(out, "2xx"), 5);
  ExpectCount("container_http_requests_total", with(out, "4xx"), 3);
  ExpectCount("container_http_requests_duration_seconds_total", out, 8);
  prom::Labels in{{"container_id", server_cg.key()}};
  ExpectCount("container_http_inbound_requests_total", with(in, "2xx"), 5);
  ExpectCount("container_http_inbound_requests_total", with(in, "4xx"), 3);
  ExpectCount("container_http_inbound_requests_duration_seconds_total", in, 8);
}

// redis-cli (one command per process) against redis-server; an unknown command is an error reply.
TEST_F(L7BpfTest, RedisCli) {
  if (!Installed("/usr/bin/redis-server") || !Installed("/usr/bin/redis-cli")) GTEST_SKIP() << "no redis";
  TestCgroup server_cg(Name("redissrv")), client_cg(Name("rediscli"));
  int port = FreeStablePort();
  Proc server(server_cg, {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", dir_},
              dir_ + "/srv.log");
  ASSERT_TRUE(WaitPort(port)) << server.Log();
  std::string p = std::to_string(port);
  for (auto cmd : std::vector<std::vector<std::string>>{{"SET", "k", "v"}, {"GET", "k"}, {"INCR", "n"}, {"DEL", "k"}}) {
    std::vector<std::string> argv{"redis-cli", "-p", p};
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    ASSERT_EQ(Run(client_cg, argv), 0);
  }
  for (int i = 0; i < 2; i++) ASSERT_EQ(Run(client_cg, {"redis-cli", "-p", p, "NOSUCHCMD", "x"}), 0);

  prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
  auto with = [](prom::Labels l, const std::string& status) {
    l.push_back({"status", status});
    return l;
  };
  ExpectCount("container_redis_queries_total", with(out, "ok"), 4);
  ExpectCount("container_redis_queries_total", with(out, "failed"), 2);
  ExpectCount("container_redis_inbound_queries_total", with({{"container_id", server_cg.key()}}, "ok"), 4);
  ExpectCount("container_redis_inbound_queries_total", with({{"container_id", server_cg.key()}}, "failed"), 2);
}

// A raw text-protocol client (python, send/recv) against memcached (read/sendmsg).
TEST_F(L7BpfTest, Memcached) {
  if (!Installed("/usr/bin/memcached")) GTEST_SKIP() << "no memcached";
  TestCgroup server_cg(Name("mcsrv")), client_cg(Name("mccli"));
  int port = FreeStablePort();
  Proc server(server_cg, {"memcached", "-l", "127.0.0.1", "-p", std::to_string(port), "-U", "0", "-u", "nobody"},
              dir_ + "/srv.log");
  ASSERT_TRUE(WaitPort(port)) << server.Log();
  // set, get, get of a missing key, touch: ok; incr of a non-number: CLIENT_ERROR; "bogus" is no request.
  const char* client = R"(
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for cmd in [b"set greeting 0 60 5\r\nhello\r\n", b"get greeting\r\n", b"get missing\r\n",
            b"touch greeting 10\r\n", b"incr greeting 1\r\n", b"bogus\r\n"]:
    s.sendall(cmd)
    buf = b""
    while not buf.endswith(b"\r\n"):
        buf += s.recv(4096)
    if cmd.startswith(b"get greeting") and not buf.endswith(b"END\r\n"):
        buf += s.recv(4096)
s.close()
)";
  ASSERT_EQ(Run(client_cg, {"python3", "-c", client, std::to_string(port)}), 0);
  prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + std::to_string(port)}};
  auto with = [](prom::Labels l, const std::string& status) {
    l.push_back({"status", status});
    return l;
  };
  ExpectCount("container_memcached_queries_total", with(out, "ok"), 4);
  ExpectCount("container_memcached_queries_total", with(out, "failed"), 1);
  ExpectCount("container_memcached_inbound_queries_total", with({{"container_id", server_cg.key()}}, "ok"), 4);
  ExpectCount("container_memcached_inbound_queries_total", with({{"container_id", server_cg.key()}}, "failed"), 1);
}

const char* kPgBin = "/usr/lib/postgresql/15/bin";

// psql (libpq, simple query protocol) against PostgreSQL 15; a query of a missing table fails.
TEST_F(L7BpfTest, PostgresPsql) {
  if (!Installed(std::string(kPgBin) + "/postgres") || !Installed("/usr/bin/psql") || !getpwnam("postgres"))
    GTEST_SKIP() << "no postgresql-15";
  TestCgroup server_cg(Name("pgsrv")), client_cg(Name("pgcli"));
  int port = FreeStablePort();
  std::string data = dir_ + "/pg";
  fs::create_directories(data + "/run");
  ASSERT_EQ(Sh("chown -R postgres:postgres " + data + " && runuser -u postgres -- " + kPgBin + "/initdb -D " + data +
               "/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 > " + dir_ + "/initdb.log 2>&1"),
            0);
  Proc server(server_cg, {"runuser", "-u", "postgres", "--", std::string(kPgBin) + "/postgres", "-D", data + "/data",
                          "-c", "listen_addresses=127.0.0.1", "-c", "port=" + std::to_string(port), "-c",
                          "unix_socket_directories=" + data + "/run", "-c", "fsync=off"},
              dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready to accept connections")) << server.Log();
  std::vector<std::string> env{"PGSSLMODE=disable", "PGGSSENCMODE=disable"};
  std::string p = std::to_string(port);
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(Run(client_cg, {"psql", "-h", "127.0.0.1", "-p", p, "-U", "postgres", "-qAt", "-c", "SELECT 1"}, env), 0);
  for (int i = 0; i < 2; i++)
    EXPECT_NE(Run(client_cg, {"psql", "-h", "127.0.0.1", "-p", p, "-U", "postgres", "-qAt", "-c",
                              "SELECT * FROM no_such_table"},
                  env),
              0);
  prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
  auto with = [](prom::Labels l, const std::string& status) {
    l.push_back({"status", status});
    return l;
  };
  ExpectCount("container_postgres_queries_total", with(out, "ok"), 3);
  ExpectCount("container_postgres_queries_total", with(out, "failed"), 2);
  ExpectCount("container_postgres_queries_duration_seconds_total", out, 5);
}

// The mariadb client (COM_QUERY) against MariaDB; a query of a missing table fails.
TEST_F(L7BpfTest, MariadbClient) {
  if (!Installed("/usr/sbin/mariadbd") || !Installed("/usr/bin/mariadb") || !getpwnam("mysql"))
    GTEST_SKIP() << "no mariadb";
  TestCgroup server_cg(Name("mysqlsrv")), client_cg(Name("mysqlcli"));
  int port = FreeStablePort();
  std::string data = dir_ + "/my";
  fs::create_directories(data + "/run");
  ASSERT_EQ(Sh("chown -R mysql:mysql " + data + " && mariadb-install-db --no-defaults --user=mysql --datadir=" +
               data + "/data --auth-root-authentication-method=normal --skip-test-db > " + dir_ +
               "/install.log 2>&1"),
            0);
  Proc server(server_cg, {"/usr/sbin/mariadbd", "--no-defaults", "--user=mysql", "--datadir=" + data + "/data",
                          "--socket=" + data + "/run/m.sock", "--pid-file=" + data + "/run/m.pid",
                          "--bind-address=127.0.0.1", "--port=" + std::to_string(port)},
              dir_ + "/srv.log");
  ASSERT_TRUE(server.WaitForLog("ready for connections", 60s)) << server.Log();
  std::string p = std::to_string(port);
  auto client = [&](const std::string& sql) {
    return Run(client_cg, {"mariadb", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", p, "-u", "root",
                           "--skip-ssl", "-e", sql});
  };
  for (int i = 0; i < 3; i++) ASSERT_EQ(client("SELECT 1"), 0);
  for (int i = 0; i < 2; i++) EXPECT_NE(client("SELECT * FROM mysql.no_such_table"), 0);
  prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
  auto with = [](prom::Labels l, const std::string& status) {
    l.push_back({"status", status});
    return l;
  };
  ExpectCount("container_mysql_queries_total", with(out, "ok"), 3);
  ExpectCount("container_mysql_queries_total", with(out, "failed"), 2);
  ExpectCount("container_mysql_inbound_queries_total", with({{"container_id", server_cg.key()}}, "ok"), 3);
  ExpectCount("container_mysql_inbound_queries_total", with({{"container_id", server_cg.key()}}, "failed"), 2);
}

// clickhouse-client (Hello, Ping, then the Query and an empty Data block in one write) against
// Debian's clickhouse-server 18.16 (revision 54412), which answers with many packets over several
// reads: one event per query, Exception (an unknown table) = failed.
TEST_F(L7BpfTest, ClickhouseNative) {
  if (!Installed("/usr/sbin/clickhouse-server") || !Installed("/usr/bin/clickhouse-client"))
    GTEST_SKIP() << "no clickhouse";
  TestCgroup server_cg(Name("chsrv")), client_cg(Name("chcli"));
  int port = FreeStablePort(), http_port = FreeStablePort();
  std::string ch = dir_ + "/ch";
  for (const char* d : {"/data", "/tmp", "/user_files", "/log"}) fs::create_directories(ch + d);
  std::ofstream(ch + "/config.xml") << "<?xml version=\"1.0\"?>\n<yandex>\n"
                                    << "  <logger><level>warning</level><log>" << ch << "/log/server.log</log><errorlog>"
                                    << ch << "/log/server.err.log</errorlog></logger>\n"
                                    << "  <listen_host>127.0.0.1</listen_host>\n"
                                    << "  <http_port>" << http_port << "</http_port>\n"
                                    << "  <tcp_port>" << port << "</tcp_port>\n"
                                    << "  <path>" << ch << "/data/</path>\n  <tmp_path>" << ch << "/tmp/</tmp_path>\n"
                                    << "  <user_files_path>" << ch << "/user_files/</user_files_path>\n"
                                    << "  <users_config>" << ch << "/users.xml</users_config>\n"
                                    << "  <default_profile>default</default_profile>\n"
                                    << "  <default_database>default</default_database>\n"
                                    << "  <mark_cache_size>268435456</mark_cache_size>\n"
                                    << "  <timezone>UTC</timezone>\n</yandex>\n";
  std::ofstream(ch + "/users.xml")
      << "<?xml version=\"1.0\"?>\n<yandex>\n  <profiles><default></default></profiles>\n"
      << "  <users><default><password></password><networks><ip>::/0</ip></networks><profile>default</profile>"
      << "<quota>default</quota></default></users>\n  <quotas><default></default></quotas>\n</yandex>\n";
  Proc server(server_cg, {"/usr/sbin/clickhouse-server", "--config-file=" + ch + "/config.xml"}, dir_ + "/srv.log");
  ASSERT_TRUE(WaitPort(port)) << server.Log();
  std::string p = std::to_string(port);
  const int kOk = 4, kFailed = 2;
  for (int i = 0; i < kOk; i++)
    ASSERT_EQ(Run(client_cg, {"clickhouse-client", "--host", "127.0.0.1", "--port", p, "--query",
                              i % 2 ? "SELECT 1" : "SELECT number FROM system.numbers LIMIT 1000"}),
              0);
  for (int i = 0; i < kFailed; i++)
    EXPECT_NE(Run(client_cg, {"clickhouse-client", "--host", "127.0.0.1", "--port", p, "--query",
                              "SELECT * FROM no_such_table"}),
              0);
  prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
  auto with = [](prom::Labels l, const std::string& status) {
    l.push_back({"status", status});
    return l;
  };
  ExpectCount("container_clickhouse_queries_total", with(out, "ok"), kOk);
  ExpectCount("container_clickhouse_queries_total", with(out, "failed"), kFailed);
  ExpectCount("container_clickhouse_queries_duration_seconds_total", out, kOk + kFailed);
  prom::Labels in{{"container_id", server_cg.key()}};
  ExpectCount("container_clickhouse_inbound_queries_total", with(in, "ok"), kOk);
  ExpectCount("container_clickhouse_inbound_queries_total", with(in, "failed"), kFailed);
  ExpectCount("container_clickhouse_inbound_queries_duration_seconds_total", in, kOk + kFailed);
}

// Vectored I/O: requests and responses split over iovecs (sendmsg/recvmsg with a header iovec and
// a body iovec; the first iovec alone is no message) are classified as a whole.
const char* kVectoredPy = R"(
import socket, sys
role, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if role == "server":
    # Reads each request into a 3-byte + a big buffer, answers with the status line split.
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port)); ls.listen(8); print("ready", flush=True)
    for i in range(n):
        c, _ = ls.accept()
        a, b = bytearray(3), bytearray(4096)
        got = c.recvmsg_into([a, b])[0]
        while not (bytes(a) + bytes(b[:got - 3])).endswith(b"\r\n\r\n"):
            got += c.recv_into(memoryview(b)[got - 3:])
        status = b"200 OK" if b"/ok" in bytes(b) else b"503 Unavailable"
        c.sendmsg([b"HTTP/1.1 ", status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"])
        c.close()
else:
    path = sys.argv[4]
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode()
        s.sendmsg([req[:3], req[3:]])
        a, b = bytearray(5), bytearray(65536)
        s.recvmsg_into([a, b])
        while s.recv(65536): pass
        s.close()
)";

TEST_F(L7BpfTest, VectoredIoSplitAcrossIovecs) {
  auto with = [](prom::Labels l, const std::string& status) {
    l.push_back({"status", status});
    return l;
  };
  // A python client (sendmsg of "GET" + the rest; recvmsg_into of 5 bytes + the rest) against
  // python's http.server.
  {
    TestCgroup server_cg(Name("iovhttpsrv")), client_cg(Name("iovhttpcli"));
    int port = FreeStablePort();
    std::string p = std::to_string(port);
    fs::create_directories(dir_ + "/www");
    std::ofstream(dir_ + "/www/index.html") << "hello\n";
    Proc server(server_cg, {"python3", "-u", "-m", "http.server", p, "--bind", "127.0.0.1", "--directory",
                            dir_ + "/www"},
                dir_ + "/srv.log");
    ASSERT_TRUE(WaitPort(port)) << server.Log();
    ASSERT_EQ(Run(client_cg, {"python3", "-c", kVectoredPy, "client", p, "3", "/index.html"}), 0);
    ASSERT_EQ(Run(client_cg, {"python3", "-c", kVectoredPy, "client", p, "2", "/missing"}), 0);
    prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
    ExpectCount("container_http_requests_total", with(out, "2xx"), 3);
    ExpectCount("container_http_requests_total", with(out, "4xx"), 2);
    prom::Labels in{{"container_id", server_cg.key()}};
    ExpectCount("container_http_inbound_requests_total", with(in, "2xx"), 3);
    ExpectCount("container_http_inbound_requests_total", with(in, "4xx"), 2);
  }
  // The server side split too: recvmsg_into of 3 bytes + the rest, sendmsg of "HTTP/1.1 " + the rest.
  {
    TestCgroup server_cg(Name("iovsrv")), client_cg(Name("iovcli"));
    int port = FreeStablePort();
    std::string p = std::to_string(port);
    Proc server(server_cg, {"python3", "-c", kVectoredPy, "server", p, "5"}, dir_ + "/iovsrv.log");
    ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
    ASSERT_EQ(Run(client_cg, {"python3", "-c", kVectoredPy, "client", p, "4", "/ok"}), 0);
    ASSERT_EQ(Run(client_cg, {"python3", "-c", kVectoredPy, "client", p, "1", "/down"}), 0);
    ASSERT_EQ(server.Wait(), 0) << server.Log();
    prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
    ExpectCount("container_http_requests_total", with(out, "2xx"), 4);
    ExpectCount("container_http_requests_total", with(out, "5xx"), 1);
    prom::Labels in{{"container_id", server_cg.key()}};
    ExpectCount("container_http_inbound_requests_total", with(in, "2xx"), 4);
    ExpectCount("container_http_inbound_requests_total", with(in, "5xx"), 1);
  }
}

// Protocols whose servers are not installed here: a python server and client (each in its own
// cgroup, real sockets and syscalls) exchange well-formed messages of each protocol, so that the
// kernel's classification and pairing (by correlation id, stream, request id, xid; length prefix
// read on its own) is checked on real traffic. Message bytes are built from the protocols' specs.
const char* kPeersPy = R"(
import socket, struct, sys, os, time
role, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def kafka_req(corr): return struct.pack(">ihh", 17, 3, 1) + struct.pack(">i", corr) + b"\0\x03cli\xff\xff\xff\xff"
def kafka_resp(corr): return struct.pack(">ii", 8, corr) + b"\0\0\0\0"
def bson_ok(): return struct.pack("<i", 17) + b"\x01ok\0" + struct.pack("<d", 1.0) + b"\0"
def mongo_req(rid):
    doc = struct.pack("<i", 15) + b"\x10ping\0" + struct.pack("<i", 1) + b"\0"
    body = struct.pack("<I", 0) + b"\0" + doc
    return struct.pack("<iiii", 16 + len(body), rid, 0, 2013) + body
def mongo_resp(rid):
    body = struct.pack("<I", 0) + b"\0" + bson_ok()
    return struct.pack("<iiii", 16 + len(body), 1000 + rid, rid, 2013) + body
def cql(version, stream, op, body): return struct.pack(">BBhBi", version, 0, stream, op, len(body)) + body
def dubbo(flags, status, rid, body): return bytes([0xda, 0xbb, flags, status]) + struct.pack(">qi", rid, len(body)) + body
def zk_req(xid): body = struct.pack(">ii", xid, 4) + struct.pack(">i", 11) + b"/app/config" + b"\0"; return struct.pack(">i", len(body)) + body
def zk_resp(xid, err): return struct.pack(">iiqi", 16, xid, 42, err)
# FoundationDB FlowTransport (layout: agent/protocols/testdata/foundationdb/make_fixtures.py): a
# ConnectPacket (version 0x1FDB00B072000000), packets of u32 length + 8-byte checksum + 16-byte
# token + message (root offset, file_identifier, tables); replies ErrorOr: (2 << 24) | id, union
# type 1 = Error (code 1007), 2 = value.
def fdb_connect(): return struct.pack("<I", 40) + struct.pack("<QHQIH", 0x1FDB00B072000000, 4500, 1, 0x7F000001, 0) + bytes(16)
def fdb_packet(msg): return struct.pack("<I", 16 + len(msg)) + b"\xc5" * 8 + bytes(range(16, 32)) + msg
def fdb_req(fid, key):
    vec = struct.pack("<I", len(key)) + key
    return fdb_packet(struct.pack("<II", 16, fid) + struct.pack("<HHH", 6, 8, 4) + b"\0\0" + struct.pack("<iI", 8, 4) + vec + b"\0" * (-len(vec) % 4))
def fdb_reply(fid, err=None):
    head = struct.pack("<II", 16, (2 << 24) | fid) + struct.pack("<HHHH", 8, 12, 8, 4)
    if err is None: inner, at, tag = struct.pack("<HHi", 4, 4, 4), 32, 2
    else: inner, at, tag = struct.pack("<HHH", 6, 8, 4) + b"\0\0" + struct.pack("<iH", 8, err) + b"\0\0", 36, 1
    return fdb_packet(head + struct.pack("<iIB", 8, at - 20, tag) + b"\0\0\0" + inner)
amqp_publish = b"\x01\x00\x01" + struct.pack(">i", 22) + struct.pack(">HHH", 60, 40, 0) + b"\x06orders\x07created\x00\xce"
amqp_deliver = b"\x01\x00\x01" + struct.pack(">i", 33) + struct.pack(">HH", 60, 60) + b"\x04ctag" + struct.pack(">q", 1) + b"\x00\x06orders\x07created\xce"
# A read or write where control lines / frames come before the message (a reply to another
# command, a heartbeat, a consumer's ack): the kernel looks past up to 3 of them.
def amqp_frame(t, payload): return struct.pack(">BHI", t, 1, len(payload)) + payload + b"\xce"
amqp_consume_ok = amqp_frame(1, struct.pack(">HH", 60, 21) + b"\x04ctag")
amqp_heartbeat = b"\x08\x00\x00\x00\x00\x00\x00\xce"
amqp_ack = amqp_frame(1, struct.pack(">HHQB", 60, 80, 1, 0))
amqp_content = amqp_frame(2, struct.pack(">HHQH", 60, 0, 5, 0)) + amqp_frame(3, b"hello")
nats_msg = b"MSG orders.new 9 5\r\nhello\r\n"
# ClickHouse native, as a revision-54460 client speaks it (36-char query id, an 8-byte start time
# before the interface, no compression); the empty Data block that ends the query goes in a write
# of its own, and the server's packets each in their own write (the client reads them in several).
def chs(b): return bytes([len(b)]) + b
def ch_query(sql):
    return (b"\x01" + chs(b"0123456789abcdef0123456789abcdef0123") + b"\x01\x00\x00" + chs(b"127.0.0.1:45678") +
            bytes(range(1, 9)) + b"\x01" + chs(b"root") + chs(b"host") + chs(b"ClickHouse client") +
            b"\x17\x08\xbc\xa9\x03" + b"\x00\x00\x05\x00\x00\x00\x00" + b"\x00\x00\x02\x00" + chs(sql))
ch_block_info = b"\x01\x00\x02\xff\xff\xff\xff\x00"
ch_empty_data = b"\x02\x00" + ch_block_info + b"\x00\x00"
ch_header = b"\x01\x00" + ch_block_info + b"\x01\x00" + chs(b"number") + chs(b"UInt64")
ch_rows = b"\x01\x00" + ch_block_info + b"\x01\x02" + chs(b"number") + chs(b"UInt64") + struct.pack("<QQ", 0, 1)
ch_ok = [ch_header, b"\x03\x02\x10\x00", ch_rows, b"\x06\x01\x02\x09\x00\x00\x01", b"\x05"]
ch_exception = b"\x02" + struct.pack("<i", 60) + chs(b"DB::Exception") + chs(b"Table default.t doesn't exist.") + chs(b"") + b"\x00"
# (request sent by the client or b"", response sent by the server or b""; a list: one write per piece)
X = {
  "kafka": [(kafka_req(7), kafka_resp(7)), (kafka_req(8), kafka_resp(8))],
  "mongo": [(mongo_req(5), mongo_resp(5)), (mongo_req(6), mongo_resp(6))],
  "cassandra": [(cql(4, 5, 0x07, struct.pack(">i", 15) + b"SELECT * FROM t\0\x01\0"), cql(0x84, 5, 0x08, struct.pack(">i", 1))),
                (cql(4, 6, 0x07, struct.pack(">i", 15) + b"SELECT * FROM x\0\x01\0"), cql(0x84, 6, 0x00, struct.pack(">i", 0x2200) + b"\0\0"))],
  "dubbo": [(dubbo(0xc2, 0, 7, b"\x052.0.2"), dubbo(0x02, 20, 7, b"\x91")), (dubbo(0xc2, 0, 8, b"\x052.0.2"), dubbo(0x02, 70, 8, b""))],
  "zookeeper": [(zk_req(5), zk_resp(5, 0)), (zk_req(6), zk_resp(6, -4))],
  # GetValue (after the client's ConnectPacket, in the same write; the server's own ConnectPacket
  # is read before the reply), GetValue answered with an Error, GetReadVersion.
  "foundationdb": [(fdb_connect() + fdb_req(8454530, b"hello"), [fdb_connect(), fdb_reply(1378929)]),
                   (fdb_req(8454530, b"hello"), fdb_reply(1378929, 1007)), (fdb_req(838566, b""), fdb_reply(15709388))],
  "nats": [(b"PUB orders.new 5\r\nhello\r\n", b""), (b"PUB orders.new 5\r\nhello\r\n", b""), (b"", b"MSG orders.new 9 5\r\nhello\r\n")],
  "rabbitmq": [(amqp_publish, b""), (b"", amqp_deliver)],
  "nats_behind_control": [(b"PONG\r\nPUB orders.new 5\r\nhello\r\n", b""), (b"", b"+OK\r\nPING\r\n" + nats_msg + nats_msg),
                          (b"", b"+OK\r\n+OK\r\nPONG\r\n" + nats_msg), (b"", b"+OK\r\n+OK\r\n+OK\r\n+OK\r\n" + nats_msg)],
  "rabbitmq_behind_control": [(amqp_ack + amqp_publish + amqp_content, b""),
                              (b"", amqp_consume_ok + amqp_heartbeat + amqp_deliver + amqp_content),
                              (b"", amqp_heartbeat + amqp_content + amqp_deliver + amqp_content + amqp_deliver + amqp_content)],
  "clickhouse": [([ch_query(b"SELECT number FROM system.numbers LIMIT 2"), ch_empty_data], ch_ok),
                 ([ch_query(b"SELECT * FROM t"), ch_empty_data], [ch_exception])],
  # Pipelined: every request is sent before any response is read (Cassandra answers out of order).
  "kafka_pipelined": [(kafka_req(11), kafka_resp(11)), (kafka_req(12), kafka_resp(12)), (kafka_req(13), kafka_resp(13))],
  "cassandra_pipelined": [(cql(4, 7, 0x07, struct.pack(">i", 15) + b"SELECT * FROM t\0\x01\0"), cql(0x84, 8, 0x08, struct.pack(">i", 1))),
                          (cql(4, 8, 0x07, struct.pack(">i", 15) + b"SELECT * FROM u\0\x01\0"), cql(0x84, 7, 0x00, struct.pack(">i", 0x2200) + b"\0\0"))],
}[proto]
pipelined = proto.endswith("_pipelined")
def pieces(x): return x if isinstance(x, list) else [x]
def size(x): return sum(len(p) for p in pieces(x))
def send(sock, x):
    for p in pieces(x):
        sock.sendall(p)
        if isinstance(x, list): time.sleep(0.02)  # each piece in a read of its own
def recv_exact(s, n, first=0):
    buf = b""
    if first: buf = s.recv(first, socket.MSG_WAITALL)  # a length prefix on its own, as Kafka/ZK clients read it
    while len(buf) < n: buf += s.recv(n - len(buf))
    return buf
if role == "server":
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port)); ls.listen(1); print("ready", flush=True)
    c, _ = ls.accept()
    if pipelined:
        for req, _ in X: recv_exact(c, len(req))
        for _, resp in X: c.sendall(resp)
        X = []
    for req, resp in X:
        # Servers of length-prefixed protocols read the 4-byte header on its own.
        if req: recv_exact(c, size(req), 4 if proto in ("kafka", "zookeeper", "mongo") else 0)
        if resp: send(c, resp)
        if not req: recv_exact(c, 2)  # the client's ack: the message was read on its own
    c.close()
else:
    s = socket.create_connection(("127.0.0.1", port))
    if pipelined:
        for req, _ in X: s.sendall(req)
        for _, resp in X: recv_exact(s, len(resp), 4 if proto.startswith("kafka") else 0)
        X = []
    for req, resp in X:
        if req: send(s, req)
        if resp:
            recv_exact(s, size(resp), 4 if proto in ("kafka", "zookeeper") else 0)
        if not req: s.sendall(b"ok")
    s.close()
)";

TEST_F(L7BpfTest, ProtocolsWithoutAServerHere) {
  struct Case {
    std::string proto, family;
    std::vector<std::pair<prom::Labels, double>> want;  // extra labels -> count
    std::string inbound_family = "";                    // the server side: same counts by status
  };
  std::vector<Case> cases = {
      {"kafka", "container_kafka_requests_total", {{{{"status", "ok"}}, 2}}, "container_kafka_inbound_requests_total"},
      {"kafka_pipelined", "container_kafka_requests_total", {{{{"status", "ok"}}, 3}},
       "container_kafka_inbound_requests_total"},
      {"cassandra_pipelined", "container_cassandra_queries_total", {{{{"status", "ok"}}, 1}, {{{"status", "failed"}}, 1}},
       "container_cassandra_inbound_queries_total"},
      {"mongo", "container_mongo_queries_total", {{{{"status", "ok"}}, 2}}, "container_mongo_inbound_queries_total"},
      {"cassandra", "container_cassandra_queries_total", {{{{"status", "ok"}}, 1}, {{{"status", "failed"}}, 1}},
       "container_cassandra_inbound_queries_total"},
      {"dubbo", "container_dubbo_requests_total", {{{{"status", "ok"}}, 1}, {{{"status", "failed"}}, 1}},
       "container_dubbo_inbound_requests_total"},
      {"zookeeper", "container_zookeeper_requests_total", {{{{"status", "ok"}}, 1}, {{{"status", "failed"}}, 1}},
       "container_zookeeper_inbound_requests_total"},
      {"foundationdb", "container_foundationdb_requests_total",
       {{{{"status", "ok"}}, 2}, {{{"status", "failed"}}, 1}}, "container_foundationdb_inbound_requests_total"},
      {"nats", "container_nats_messages_total", {{{{"method", "produce"}}, 2}, {{{"method", "consume"}}, 1}}},
      {"rabbitmq", "container_rabbitmq_messages_total", {{{{"method", "produce"}}, 1}, {{{"method", "consume"}}, 1}}},
      // Up to 3 control lines or frames before the message are looked past; the 4th read has 4
      // (+OK x4) and is not counted.
      {"nats_behind_control", "container_nats_messages_total",
       {{{{"method", "produce"}}, 1}, {{{"method", "consume"}}, 3}}},
      {"rabbitmq_behind_control", "container_rabbitmq_messages_total",
       {{{{"method", "produce"}}, 1}, {{{"method", "consume"}}, 3}}},
      {"clickhouse", "container_clickhouse_queries_total", {{{{"status", "ok"}}, 1}, {{{"status", "failed"}}, 1}},
       "container_clickhouse_inbound_queries_total"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.proto);
    TestCgroup server_cg(Name(c.proto + "srv")), client_cg(Name(c.proto + "cli"));
    int port = FreeStablePort();
    std::string p = std::to_string(port);
    Proc server(server_cg, {"python3", "-c", kPeersPy, "server", p, c.proto}, dir_ + "/" + c.proto + "_srv.log");
    ASSERT_TRUE(server.WaitForLog("ready")) << server.Log();
    Proc client(client_cg, {"python3", "-c", kPeersPy, "client", p, c.proto}, dir_ + "/" + c.proto + "_cli.log");
    ASSERT_EQ(client.Wait(), 0) << client.Log();
    ASSERT_EQ(server.Wait(), 0) << server.Log();
    for (const auto& [extra, n] : c.want) {
      prom::Labels want{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
      want.insert(want.end(), extra.begin(), extra.end());
      ExpectCount(c.family, want, n);
      if (c.inbound_family.empty()) continue;
      prom::Labels in{{"container_id", server_cg.key()}};
      in.insert(in.end(), extra.begin(), extra.end());
      ExpectCount(c.inbound_family, in, n);
    }
  }
}

}  // namespace
}  // namespace coroot::agent::tracer
