// L7 tracing of message brokers and ZooKeeper against the real kernel and real servers: nats-server
// 2.9, rabbitmq-server 3.10 (Erlang) and ZooKeeper 3.8 (Java, ZooKeeperServerMain) from Debian, on
// free loopback ports, each server and each client in a cgroup v2 of its own so that the
// container_id label singles out the test's processes. Clients: a raw-socket NATS client (the
// text protocol), pika (AMQP 0-9-1) and kazoo (ZooKeeper) from Debian's python3. Exact counts: N
// messages or requests made => N counted, with the extra traffic each client library makes
// accounted for in the comments. A server or client library that is not installed skips its test.
// Needs root. CTest label: bpf.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/tracer/bpf_test_util.h"
#include "agent/tracer/collector_test_util.h"
#include "agent/tracer/ebpf_collector.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer {
namespace {

using namespace bpf_test;

bool Installed(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// pika and kazoo are Debian packages: Debian's interpreter, not whatever python3 comes first in PATH.
const char* kDebianPython = "/usr/bin/python3";
bool DebianPythonHas(const std::string& module) {
  if (!Installed(kDebianPython)) return false;
  return system((std::string(kDebianPython) + " -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0;
}

prom::Labels With(prom::Labels l, const std::string& name, const std::string& value) {
  l.push_back({name, value});
  return l;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

class L7BrokersBpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { StartSharedCollector(&collector_); }
  static void TearDownTestSuite() { collector_.reset(); }
  void SetUp() override {
    if (std::string why = SkipReason(); !why.empty()) GTEST_SKIP() << why;
    dir_ = testing::MakeTempDir("l7_brokers_bpf_test_");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Name(const std::string& what) { return "coroot_l7b_test_" + std::to_string(getpid()) + "_" + what; }
  std::string Script(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  static double Value(const std::string& family, const prom::Labels& want) {
    return SeriesValue(*collector_, family, want);
  }
  static void ExpectCount(const std::string& family, const prom::Labels& want, double n) {
    ExpectSeriesValue(*collector_, family, want, n);
  }

  static std::shared_ptr<EbpfCollector> collector_;
  std::string dir_;
};
std::shared_ptr<EbpfCollector> L7BrokersBpfTest::collector_;

// ---- NATS ----

// A NATS client on raw sockets (docs.nats.io "Client Protocol"): a subscriber connection and a
// publisher connection in one process. Each delivered message is read before the next one is
// published, so every PUB/HPUB is a write of its own and every MSG/HMSG a read of its own (the
// kernel classifies the head of each syscall). INFO, CONNECT, PING/PONG, SUB and +OK are no
// messages. argv[2] "connect": the subscriber starts with CONNECT, as every NATS client library
// does; "bare": it does not (nats-server accepts that, in verbose mode: +OK after each command);
// "burst": bare, and every message is published in one write and read at the end (batches).
const char* kNatsClientPy = R"(
import socket, sys
port, sub_mode = int(sys.argv[1]), sys.argv[2]
n_plain, n_headers, n_unsubscribed = (int(a) for a in sys.argv[3:6])
def line(f):
    while True:
        l = f.readline()
        if l != b"+OK\r\n": return l
def conn(connect):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    assert f.readline().startswith(b"INFO "), "no INFO"
    if connect:
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"name":"t"}\r\nPING\r\n')
        assert line(f) == b"PONG\r\n"
    return s, f
sub, subf = conn(sub_mode == "connect")  # "burst": bare too
sub.sendall(b"SUB orders.> 1\r\nPING\r\n")
assert line(subf) == b"PONG\r\n"
pub, pubf = conn(True)
if sub_mode == "burst":
    # Everything published in one write; the server delivers while nobody reads, so deliveries
    # arrive coalesced (the agent counts every message in the head of a read or write).
    batch = b"".join(b"PUB orders.new 7\r\norder-%d\r\n" % i for i in range(n_plain))
    batch += b"".join(b"HPUB orders.paid 12 16\r\nNATS/1.0\r\n\r\npaid\r\n" for i in range(n_headers))
    batch += b"PUB audit.log 2\r\nhi\r\n" * n_unsubscribed + b"PING\r\n"
    pub.sendall(batch)
    assert line(pubf) == b"PONG\r\n"
    got = 0
    while got < n_plain + n_headers:
        l = line(subf)
        assert l.startswith(b"MSG orders."), l
        subf.read(int(l.split()[-1]) + 2)
        got += 1
    print("ok", flush=True)
    sys.exit(0)
def delivered(verb):
    l = line(subf)
    assert l.startswith(verb + b" orders."), l
    subf.read(int(l.split()[-1]) + 2)
for i in range(n_plain):
    body = b"order-%d" % i
    pub.sendall(b"PUB orders.new %d\r\n%s\r\n" % (len(body), body))
    delivered(b"MSG")
for i in range(n_headers):
    hdr, body = b"NATS/1.0\r\nOrder-Id: %d\r\n\r\n" % i, b"paid"
    pub.sendall(b"HPUB orders.paid %d %d\r\n%s%s\r\n" % (len(hdr), len(hdr) + len(body), hdr, body))
    delivered(b"HMSG" if sub_mode == "connect" else b"MSG")  # no "headers":true: the server drops them
for i in range(n_unsubscribed):
    pub.sendall(b"PUB audit.log 2\r\nhi\r\n")
pub.sendall(b"PING\r\n")  # the server has handled every PUB once PONG comes back
assert line(pubf) == b"PONG\r\n"
print("ok", flush=True)
)";

TEST_F(L7BrokersBpfTest, NatsServerRawClient) {
  if (!Installed("/usr/sbin/nats-server") && !Installed("/usr/bin/nats-server"))
    GTEST_SKIP() << "nats-server is not installed (Debian package nats-server)";
  TestCgroup server_cg(Name("natssrv"));
  int port = FreeStablePort();
  std::string p = std::to_string(port);
  auto t0 = std::chrono::steady_clock::now();
  Proc server(server_cg, {"nats-server", "-a", "127.0.0.1", "-p", p}, dir_ + "/nats.log");
  ASSERT_TRUE(WaitTcpPort(port)) << server.Log();
  std::cerr << "nats-server accepted connections after " << Seconds(t0) << " s\n";

  const int kPlain = 5, kHeaders = 2, kUnsubscribed = 3;
  std::string script = Script("nats_client.py", kNatsClientPy);
  for (const std::string mode : {"bare", "connect", "burst"}) {
    SCOPED_TRACE(mode);
    TestCgroup client_cg(Name("natscli_" + mode));
    Proc client(client_cg, {"python3", script, p, mode, std::to_string(kPlain), std::to_string(kHeaders),
                            std::to_string(kUnsubscribed)},
                dir_ + "/client_" + mode + ".log");
    ASSERT_EQ(client.Wait(), 0) << client.Log();
    prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}, {"status", "ok"}};
    // produce: every PUB and HPUB sent, delivered or not (the publisher always sends CONNECT).
    ExpectCount("container_nats_messages_total", With(out, "method", "produce"), kPlain + kHeaders + kUnsubscribed);
    // consume: every MSG and HMSG received.
    // (NATS's "CONNECT {...}" is not an HTTP CONNECT: is_http_request checks the '{'.)
    ExpectCount("container_nats_messages_total", With(out, "method", "consume"), kPlain + kHeaders);
  }
  // Counted on the client side only: the server's reads of PUB and writes of MSG count nothing.
  EXPECT_EQ(Value("container_nats_messages_total", {{"container_id", server_cg.key()}}), -1);
  EXPECT_EQ(Value("container_http_inbound_requests_total", {{"container_id", server_cg.key()}}), -1);
}

// ---- RabbitMQ ----

// pika (BlockingConnection, AMQP 0-9-1). The consumer subscribes to "orders" before anything is
// published, with a prefetch of one and an ack per message, so RabbitMQ writes each Basic.Deliver
// (with its content header and body frames) alone and the consumer reads it alone. The producer
// waits for each publish's confirm (Basic.Ack from the broker). Heartbeats are off (heartbeat=0),
// though heartbeat frames would count nothing anyway. The rest of what pika sends and receives
// (Connection.Start/Tune/Open, Channel.Open, Queue.Declare, Basic.Qos, Confirm.Select,
// Basic.Consume/ConsumeOk, Basic.Ack, Basic.Cancel, Connection.Close) is no Basic.Publish or
// Basic.Deliver, so it counts nothing.
const char* kAmqpClientPy = R"(
import sys, pika
port, role = int(sys.argv[1]), sys.argv[2]
conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=port, heartbeat=0))
ch = conn.channel()
ch.queue_declare(queue="orders")
if role in ("consumer", "burst_consumer"):
    n = int(sys.argv[3])
    if role == "consumer": ch.basic_qos(prefetch_count=1)
    got = 0
    def on_message(ch, method, props, body):
        global got
        ch.basic_ack(method.delivery_tag)
        got += 1
        if got == n: ch.stop_consuming()
    ch.basic_consume(queue="orders", on_message_callback=on_message)
    print("ready", flush=True)
    conn.call_later(30, ch.stop_consuming)
    ch.start_consuming()
    assert got == n, got
else:
    n_orders, n_audit = int(sys.argv[3]), int(sys.argv[4])
    if role == "producer": ch.confirm_delivery()  # "burst_producer": no confirms, publishes back to back
    for i in range(n_orders):
        ch.basic_publish(exchange="", routing_key="orders", body=b"order-%d" % i)
    for i in range(n_audit):
        ch.basic_publish(exchange="amq.direct", routing_key="audit", body=b"x" * 2000)  # no binding: dropped
conn.close()
print("ok", flush=True)
)";

TEST_F(L7BrokersBpfTest, RabbitmqServerPika) {
  if (!Installed("/usr/lib/rabbitmq/bin/rabbitmq-server") || !Installed("/usr/bin/epmd"))
    GTEST_SKIP() << "rabbitmq-server is not installed (Debian package rabbitmq-server)";
  if (!DebianPythonHas("pika")) GTEST_SKIP() << "no pika for /usr/bin/python3 (Debian package python3-pika)";
  TestCgroup server_cg(Name("amqpsrv")), consumer_cg(Name("amqpcons")), producer_cg(Name("amqpprod"));
  int port = FreeStablePort(), dist_port = FreeStablePort(), epmd_port = FreeStablePort();
  std::string p = std::to_string(port);
  std::string base = dir_ + "/rabbitmq";
  for (const char* d : {"/mnesia", "/log", "/home"}) fs::create_directories(base + d);
  // Our own epmd (Erlang's name server) on a free port, killed with the test: otherwise the broker
  // starts one with -daemon that outlives it.
  Proc epmd(server_cg, {"epmd", "-port", std::to_string(epmd_port), "-address", "127.0.0.1"}, dir_ + "/epmd.log");
  ASSERT_TRUE(WaitTcpPort(epmd_port)) << epmd.Log();
  auto t0 = std::chrono::steady_clock::now();
  Proc server(server_cg, {"/usr/lib/rabbitmq/bin/rabbitmq-server"}, dir_ + "/rabbitmq.log",
              {"HOME=" + base + "/home",  // the Erlang cookie
               "ERL_EPMD_PORT=" + std::to_string(epmd_port), "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
               "RABBITMQ_NODE_PORT=" + p, "RABBITMQ_DIST_PORT=" + std::to_string(dist_port),
               "RABBITMQ_NODENAME=coroot_test_" + std::to_string(getpid()) + "@localhost",
               "RABBITMQ_MNESIA_BASE=" + base + "/mnesia", "RABBITMQ_LOG_BASE=" + base + "/log",
               "RABBITMQ_ENABLED_PLUGINS_FILE=" + base + "/enabled_plugins",
               "RABBITMQ_CONFIG_FILE=" + base + "/rabbitmq", "RABBITMQ_ADVANCED_CONFIG_FILE=" + base + "/advanced.config",
               "RABBITMQ_PID_FILE=" + base + "/pid"});
  ASSERT_TRUE(WaitTcpPort(port, 90s)) << server.Log();
  std::cerr << "rabbitmq-server accepted connections after " << Seconds(t0) << " s\n";

  const int kOrders = 6, kAudit = 3;
  std::string script = Script("amqp_client.py", kAmqpClientPy);
  Proc consumer(consumer_cg, {kDebianPython, script, p, "consumer", std::to_string(kOrders)}, dir_ + "/consumer.log");
  ASSERT_TRUE(consumer.WaitForLog("ready")) << consumer.Log() << server.Log();
  Proc producer(producer_cg, {kDebianPython, script, p, "producer", std::to_string(kOrders), std::to_string(kAudit)},
                dir_ + "/producer.log");
  ASSERT_EQ(producer.Wait(), 0) << producer.Log();
  ASSERT_EQ(consumer.Wait(), 0) << consumer.Log();

  prom::Labels prod{{"container_id", producer_cg.key()}, {"destination", "127.0.0.1:" + p}, {"status", "ok"}};
  prom::Labels cons{{"container_id", consumer_cg.key()}, {"destination", "127.0.0.1:" + p}, {"status", "ok"}};
  // Every Basic.Publish, routed or not (pika writes the method, header and body frames one by one).
  ExpectCount("container_rabbitmq_messages_total", With(prod, "method", "produce"), kOrders + kAudit);
  ExpectCount("container_rabbitmq_messages_total", With(cons, "method", "consume"), kOrders);
  EXPECT_EQ(Value("container_rabbitmq_messages_total", With(prod, "method", "consume")), -1);
  EXPECT_EQ(Value("container_rabbitmq_messages_total", With(cons, "method", "produce")), -1);

  // Burst: no prefetch limit and no confirms, so RabbitMQ writes deliveries back to back and the
  // consumer reads several in one read (each ~100 bytes: all within the 1 KiB head the kernel
  // copies); every Basic.Deliver in the head is counted. (Not tested: a consumer that subscribes
  // to a queue that already holds messages often reads Basic.ConsumeOk and the first deliveries
  // in one read; the kernel classifies only a read that starts with a Basic.Deliver frame, so
  // those are missed: a kernel limit, see the report of this test's commit.)
  {
    TestCgroup burst_cons_cg(Name("amqpbcons")), burst_prod_cg(Name("amqpbprod"));
    Proc bc(burst_cons_cg, {kDebianPython, script, p, "burst_consumer", std::to_string(kOrders)},
            dir_ + "/burst_consumer.log");
    ASSERT_TRUE(bc.WaitForLog("ready")) << bc.Log();
    Proc bp(burst_prod_cg, {kDebianPython, script, p, "burst_producer", std::to_string(kOrders), "0"},
            dir_ + "/burst_producer.log");
    ASSERT_EQ(bp.Wait(), 0) << bp.Log();
    ASSERT_EQ(bc.Wait(), 0) << bc.Log();
    ExpectCount("container_rabbitmq_messages_total",
                {{"container_id", burst_prod_cg.key()}, {"status", "ok"}, {"method", "produce"}}, kOrders);
    ExpectCount("container_rabbitmq_messages_total",
                {{"container_id", burst_cons_cg.key()}, {"status", "ok"}, {"method", "consume"}}, kOrders);
  }
  // Client side only: nothing for the broker's container.
  EXPECT_EQ(Value("container_rabbitmq_messages_total", {{"container_id", server_cg.key()}}), -1);
}

// ---- ZooKeeper ----

// kazoo (Debian's python3-kazoo 2.8): one session, requests one at a time. What it sends besides
// the operations: the ConnectRequest (no xid/opcode header: not a request) and, from stop(),
// CloseSession (opcode -11: a request, answered with err 0). No ping: kazoo pings after a third
// of the negotiated session timeout (here 30 s) without traffic, far beyond this script. Status
// as Coroot: err 0 ok; the API errors -100..-199 (NoNode, NodeExists) are answers, ok; system
// errors -1..-9 and -123 (ReconfigDisabled, from reconfig on a server without reconfigEnabled)
// are failed. kazoo 2.8 does not know -123 (its reader would crash): the script names it.
const char* kZkClientPy = R"(
import sys
from kazoo import exceptions
from kazoo.client import KazooClient
class ReconfigDisabledError(exceptions.ZookeeperError): pass
exceptions.EXCEPTIONS[-123] = ReconfigDisabledError
port, n_reconfig = int(sys.argv[1]), int(sys.argv[2])
zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=30.0)
zk.start(timeout=15)
zk.create("/orders", b"v1")                                   # ok
assert zk.get("/orders")[0] == b"v1"                          # ok
zk.set("/orders", b"v2")                                      # ok
zk.get_children("/")                                          # ok
for path in ("/missing", "/missing/too"):
    try: zk.get(path); raise SystemExit("no NoNode")          # ok (NoNode -101)
    except exceptions.NoNodeError: pass
try: zk.create("/orders", b"again"); raise SystemExit("no NodeExists")
except exceptions.NodeExistsError: pass                       # ok (NodeExists -110)
for i in range(n_reconfig):
    try: zk.reconfig(joining=None, leaving="2", new_members=None); raise SystemExit("reconfig worked")
    except ReconfigDisabledError: pass                        # failed (-123)
zk.delete("/orders")                                          # ok
zk.stop()                                                     # CloseSession: ok
zk.close()
print("ok", flush=True)
)";

TEST_F(L7BrokersBpfTest, ZookeeperKazoo) {
  std::string jars = "/usr/share/java/zookeeper.jar";  // its manifest's Class-Path names the deps
  if (!Installed("/usr/bin/java") || access(jars.c_str(), R_OK) != 0)
    GTEST_SKIP() << "ZooKeeper is not installed (Debian package zookeeper)";
  if (!DebianPythonHas("kazoo")) GTEST_SKIP() << "no kazoo for /usr/bin/python3 (Debian package python3-kazoo)";
  TestCgroup server_cg(Name("zksrv")), client_cg(Name("zkcli"));
  int port = FreeStablePort();
  std::string p = std::to_string(port);
  fs::create_directories(dir_ + "/zk/data");
  std::ofstream(dir_ + "/zk/zoo.cfg") << "tickTime=2000\ndataDir=" << dir_ << "/zk/data\nclientPort=" << p
                                      << "\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
                                      << "maxSessionTimeout=120000\n4lw.commands.whitelist=\n";
  auto t0 = std::chrono::steady_clock::now();
  Proc server(server_cg, {"java", "-Xmx256m", "-cp", "/etc/zookeeper/conf:" + jars,
                          "org.apache.zookeeper.server.ZooKeeperServerMain", dir_ + "/zk/zoo.cfg"},
              dir_ + "/zk.log");
  ASSERT_TRUE(WaitTcpPort(port, 60s)) << server.Log();
  std::cerr << "ZooKeeper accepted connections after " << Seconds(t0) << " s\n";

  const int kReconfig = 2;
  Proc client(client_cg, {kDebianPython, Script("zk_client.py", kZkClientPy), p, std::to_string(kReconfig)},
              dir_ + "/client.log");
  ASSERT_EQ(client.Wait(), 0) << client.Log();
  // ok: create, get, set, get_children, 2 gets of missing nodes, a create of an existing one,
  // delete, CloseSession.
  const int kOk = 9;
  // kazoo's first request has xid 1 and here it is a create (opcode 1): it also passes for a Kafka
  // request (api key 0, version 1, correlation id 1) and its response for Kafka's. Its path tells
  // it apart (is_zookeeper_path_request in bpf/l7.bpf.c): no Kafka series on either side.
  prom::Labels out{{"container_id", client_cg.key()}, {"destination", "127.0.0.1:" + p}};
  ExpectCount("container_zookeeper_requests_total", With(out, "status", "ok"), kOk);
  ExpectCount("container_zookeeper_requests_total", With(out, "status", "failed"), kReconfig);
  ExpectCount("container_zookeeper_requests_duration_seconds_total", out, kOk + kReconfig);
  EXPECT_EQ(SeriesValue(*collector_, "container_kafka_requests_total", out), -1);
  prom::Labels in{{"container_id", server_cg.key()}};
  ExpectCount("container_zookeeper_inbound_requests_total", With(in, "status", "ok"), kOk);
  ExpectCount("container_zookeeper_inbound_requests_total", With(in, "status", "failed"), kReconfig);
  EXPECT_EQ(SeriesValue(*collector_, "container_kafka_inbound_requests_total", in), -1);
  ExpectCount("container_zookeeper_inbound_requests_duration_seconds_total", in, kOk + kReconfig);
}

}  // namespace
}  // namespace coroot::agent::tracer
