#include "agent/node/net_interfaces.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "agent/node/host_ns.h"
#include "agent/node/test_fixture.h"

namespace coroot::agent::node {
namespace {

TEST(NetDevTest, ParsesCapturedFile) {
  NetDev d = ParseNetDev(Fixture("proc_net_dev.txt"));
  EXPECT_EQ(d.skipped_lines, 0);
  ASSERT_EQ(d.interfaces.size(), 4u);
  EXPECT_EQ(d.interfaces[0].name, "lo");
  const NetDevStat& eth0 = d.interfaces[3];
  EXPECT_EQ(eth0.name, "eth0");
  EXPECT_EQ(eth0.rx_bytes, 331813262u);
  EXPECT_EQ(eth0.rx_packets, 6867u);
  EXPECT_EQ(eth0.tx_bytes, 292808u);
  EXPECT_EQ(eth0.tx_packets, 3914u);
}

TEST(NetDevTest, SkipsMalformedLines) {
  NetDev d = ParseNetDev(Fixture("proc_net_dev_k8s.txt"));
  // eth1 truncated, eth2 non-number, eth3 2^64, a line without a name, a line without ':'.
  EXPECT_EQ(d.skipped_lines, 5);
  EXPECT_EQ(d.interfaces.size(), 13u);
  EXPECT_EQ(d.interfaces[2].name, "bond0");  // old "name:value" layout without a space
  EXPECT_EQ(d.interfaces[2].tx_bytes, 2000u);
  EXPECT_EQ(d.interfaces[2].tx_packets, 20u);
}

TEST(NetInterfacesTest, IgnoresLoopbackAndContainerPlumbing) {
  for (const char* name : {"lo", "veth1234", "cali0a1b", "flannel.1", "cni0", "docker0", "br-1a2b3c", "kube-ipvs0",
                           "cilium_host", "lxc12ab", "vxlan.calico", "tunl0", "weave"})
    EXPECT_TRUE(IsIgnoredInterface(name)) << name;
  for (const char* name : {"eth0", "ens5", "enp3s0", "eno1", "bond0", "br0", "wlan0", "lowpan0"})
    EXPECT_FALSE(IsIgnoredInterface(name)) << name;
}

TEST(NetInterfacesTest, MergeKeepsNodeInterfacesWithState) {
  NetDev d = ParseNetDev(Fixture("proc_net_dev_k8s.txt"));
  InterfaceStates states;
  states["ens5"] = {true, {"10.0.1.15", "2600:1f18::15"}};
  states["docker0"] = {true, {"172.17.0.1"}};
  std::vector<NetInterface> got = MergeInterfaces(d.interfaces, states);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].stat.name, "ens5");
  EXPECT_TRUE(got[0].up);
  EXPECT_EQ(got[0].ips, (std::vector<std::string>{"10.0.1.15", "2600:1f18::15"}));
  EXPECT_EQ(got[0].stat.rx_bytes, 9876543210u);
  EXPECT_EQ(got[0].stat.tx_packets, 2345678u);
  EXPECT_EQ(got[1].stat.name, "bond0");  // not seen by getifaddrs: down, no IPs
  EXPECT_FALSE(got[1].up);
  EXPECT_TRUE(got[1].ips.empty());
}

std::optional<std::string> V4(const char* s) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, s, &a.sin_addr), 1);
  return ReportedAddress(reinterpret_cast<const sockaddr*>(&a));
}

std::optional<std::string> V6(const char* s) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, s, &a.sin6_addr), 1);
  return ReportedAddress(reinterpret_cast<const sockaddr*>(&a));
}

TEST(NetInterfacesTest, ReportedAddresses) {
  EXPECT_EQ(V4("192.0.2.2"), "192.0.2.2");
  EXPECT_EQ(V4("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(V4("169.254.169.254"), std::nullopt);
  EXPECT_EQ(V4("224.0.0.1"), std::nullopt);
  EXPECT_EQ(V6("fd00::2"), "fd00::2");
  EXPECT_EQ(V6("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(V6("fe80::fc:ff:fe00:1"), std::nullopt);
  EXPECT_EQ(V6("ff02::1"), std::nullopt);
  sockaddr other{};
  other.sa_family = AF_UNIX;
  EXPECT_EQ(ReportedAddress(&other), std::nullopt);
  EXPECT_EQ(ReportedAddress(nullptr), std::nullopt);
}

TEST(NetInterfacesTest, LiveStatesAgreeWithProcNetDev) {
  auto states = ReadInterfaceStates();
  ASSERT_TRUE(states.ok()) << states.status().ToString();
  ASSERT_TRUE(states->count("lo"));
  EXPECT_TRUE(states->at("lo").up);
  int skipped = -1;
  auto ifs = ReadNetInterfaces("", &skipped);
  ASSERT_TRUE(ifs.ok()) << ifs.status().ToString();
  EXPECT_EQ(skipped, 0);
  for (const auto& i : *ifs) {
    EXPECT_FALSE(IsIgnoredInterface(i.stat.name));
    EXPECT_TRUE(states->count(i.stat.name)) << i.stat.name;
    for (const auto& ip : i.ips) EXPECT_NE(ip.substr(0, 4), "fe80") << ip;
  }
}

TEST(NetInterfacesTest, ReadsAnotherNetworkNamespace) {
  NamespacedChild child;
  if (!child.ok()) GTEST_SKIP() << "unshare() is not permitted here";
  // A fresh network namespace has only a down loopback, which is not reported.
  auto theirs = ReadNetInterfaces(child.ns("net"));
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_TRUE(theirs->empty());
  StatusOr<InterfaceStates> states = Internal("not run");
  ASSERT_TRUE(RunInNamespace(child.ns("net"), [&] { states = ReadInterfaceStates(); }).ok());
  ASSERT_TRUE(states.ok());
  ASSERT_EQ(states->size(), 1u);
  EXPECT_FALSE(states->at("lo").up);
  EXPECT_TRUE(states->at("lo").ips.empty());
  // Our own namespace is untouched.
  EXPECT_TRUE(ReadInterfaceStates()->at("lo").up);
}

}  // namespace
}  // namespace coroot::agent::node
