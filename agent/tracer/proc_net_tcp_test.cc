#include "agent/tracer/proc_net_tcp.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "lib/base/file.h"

namespace coroot::agent::tracer {
namespace {

std::string Fixture(const std::string& name) { return *ReadFile(std::string(TRACER_TESTDATA_DIR) + "/" + name); }

TEST(ProcNetTcp, ParsesIPv4) {
  size_t bad = 0;
  auto s = ParseProcNetTcp(Fixture("proc_net_tcp.txt"), false, &bad);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(FormatIpPort(s[0].local, s[0].local_port), "127.0.0.1:8080");
  EXPECT_EQ(s[0].state, kTcpListen);
  EXPECT_EQ(s[0].inode, 31337u);
  EXPECT_EQ(FormatIpPort(s[1].local, s[1].local_port), "127.0.0.1:45764");
  EXPECT_EQ(FormatIpPort(s[1].remote, s[1].remote_port), "127.0.0.1:8080");
  EXPECT_EQ(s[1].state, kTcpEstablished);
  EXPECT_EQ(FormatIpPort(s[3].local, s[3].local_port), "15.2.0.10:22");
  EXPECT_EQ(FormatIpPort(s[3].remote, s[3].remote_port), "1.0.168.192:54321");
  EXPECT_EQ(s[3].state, 6);  // TIME_WAIT
}

TEST(ProcNetTcp, ParsesIPv6) {
  auto s = ParseProcNetTcp(Fixture("proc_net_tcp6.txt"), true);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(FormatIpPort(s[0].local, s[0].local_port), "[::1]:8081");
  EXPECT_EQ(FormatIpPort(s[1].local, s[1].local_port), "127.0.0.1:49152");  // v4-mapped
  EXPECT_EQ(FormatIpPort(s[1].remote, s[1].remote_port), "127.0.0.1:8081");
}

TEST(ProcNetTcp, SkipsMalformedLines) {
  size_t bad = 0;
  auto s = ParseProcNetTcp(Fixture("proc_net_tcp_malformed.txt"), false, &bad);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].inode, 77u);
  EXPECT_EQ(bad, 5u);
  EXPECT_TRUE(ParseProcNetTcp("", false).empty());
  EXPECT_TRUE(ParseProcNetTcp("header only", true).empty());
  // A v4 table read as v6 parses nothing rather than garbage.
  EXPECT_TRUE(ParseProcNetTcp(Fixture("proc_net_tcp.txt"), true).empty());
}

TEST(ProcNetTcp, ScansAFakeProcTree) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("proc_scan_test_" + std::to_string(getpid()));
  fs::remove_all(root);
  // pid 100: the client (socket 31338); pid 200: the server (listen 31337, accepted 31339).
  for (const char* pid : {"100", "200"}) {
    fs::create_directories(root / pid / "fd");
    fs::create_directories(root / pid / "ns");
    fs::create_directories(root / pid / "net");
    fs::create_symlink("net:[4026531840]", root / pid / "ns" / "net");
    std::ofstream(root / pid / "net" / "tcp") << Fixture("proc_net_tcp.txt");
  }
  fs::create_symlink("socket:[31338]", root / "100" / "fd" / "3");
  fs::create_symlink("/dev/null", root / "100" / "fd" / "0");
  fs::create_symlink("socket:[31337]", root / "200" / "fd" / "3");
  fs::create_symlink("socket:[31339]", root / "200" / "fd" / "4");
  fs::create_directories(root / "self");  // not a pid: ignored

  auto r = ScanExistingSockets(root.string());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  int listens = 0, outbound = 0, inbound = 0;
  for (const auto& s : *r) {
    EXPECT_EQ(s.netns, 4026531840u);
    if (s.socket.state == kTcpListen) {
      listens++;
      EXPECT_EQ(s.pid, 200u);
      EXPECT_EQ(s.socket.local_port, 8080);
    } else if (s.outbound) {
      outbound++;
      EXPECT_EQ(s.pid, 100u);
      EXPECT_EQ(s.socket.remote_port, 8080);
    } else {
      inbound++;
      EXPECT_EQ(s.pid, 200u);
    }
  }
  EXPECT_EQ(listens, 1);
  EXPECT_EQ(outbound, 1);
  EXPECT_EQ(inbound, 1);
  fs::remove_all(root);
  EXPECT_FALSE(ScanExistingSockets(root.string()).ok());
}

// DNS servers bound before the agent: the UDP sockets on port 53 (IPv4 and IPv6) and their fds.
TEST(ProcNetTcp, FindsDnsServerSockets) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("proc_dns_scan_test_" + std::to_string(getpid()));
  fs::remove_all(root);
  const char* udp =
      "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "  100: 01351A7F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51001 2 0000000000000000 0\n"
      "  101: 0100007F:E3A1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51002 2 0000000000000000 0\n";
  const char* udp6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "   10: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51003 2 0000000000000000 0\n";
  for (const char* pid : {"300", "400"}) {
    fs::create_directories(root / pid / "fd");
    fs::create_directories(root / pid / "ns");
    fs::create_directories(root / pid / "net");
    fs::create_symlink("net:[4026531840]", root / pid / "ns" / "net");
    std::ofstream(root / pid / "net" / "udp") << udp;
    std::ofstream(root / pid / "net" / "udp6") << udp6;
  }
  fs::create_symlink("socket:[51001]", root / "300" / "fd" / "4");
  fs::create_symlink("socket:[51003]", root / "300" / "fd" / "5");
  fs::create_symlink("/dev/null", root / "300" / "fd" / "0");
  fs::create_symlink("socket:[51002]", root / "400" / "fd" / "3");  // a client's ephemeral port
  auto r = ScanDnsServerSockets(root.string());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<std::pair<uint32_t, int>> got;
  for (const auto& s : *r) got.insert({s.pid, s.fd});
  EXPECT_EQ(got, (std::set<std::pair<uint32_t, int>>{{300, 4}, {300, 5}}));
  fs::remove_all(root);
}

}  // namespace
}  // namespace coroot::agent::tracer
