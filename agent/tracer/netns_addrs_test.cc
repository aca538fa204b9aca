#include "agent/tracer/netns_addrs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "lib/base/file.h"

namespace coroot::agent::tracer {
namespace {

std::string Fixture(const std::string& name) { return *ReadFile(std::string(TRACER_TESTDATA_DIR) + "/" + name); }

std::vector<std::string> Strings(const std::vector<Ip>& ips) {
  std::vector<std::string> out;
  for (const auto& ip : ips) out.push_back(FormatIp(ip));
  return out;
}

TEST(NetnsAddrs, FibTrieLocalAddresses) {
  // 127.0.0.0 is a "/8 host LOCAL" route, not an address; broadcast leaves are not addresses.
  EXPECT_EQ(Strings(ParseFibTrieLocal(Fixture("fib_trie.txt"))), (std::vector<std::string>{"127.0.0.1", "192.0.2.2"}));
  EXPECT_TRUE(ParseFibTrieLocal("").empty());
  EXPECT_TRUE(ParseFibTrieLocal("|-- not-an-ip\n   /32 host LOCAL\n").empty());
}

TEST(NetnsAddrs, IfInet6) {
  EXPECT_EQ(Strings(ParseIfInet6(Fixture("if_inet6.txt"))),
            (std::vector<std::string>{"::1", "fd00::2", "fe80::fc:ff:fe00:1"}));
  EXPECT_TRUE(ParseIfInet6("zz000000000000000000000000000001 01 80 10 80 lo\nshort\n").empty());
}

TEST(NetnsAddrs, OfALiveProcessWithoutLinkLocal) {
  auto ips = NetnsAddresses("/proc", static_cast<uint32_t>(getpid()));
  bool loopback = false;
  for (const auto& ip : ips) {
    EXPECT_FALSE(IsLinkLocal(ip)) << FormatIp(ip);
    loopback |= FormatIp(ip) == "127.0.0.1";
  }
  EXPECT_TRUE(loopback);
  EXPECT_TRUE(NetnsAddresses("/nonexistent", 1).empty());
}

}  // namespace
}  // namespace coroot::agent::tracer
