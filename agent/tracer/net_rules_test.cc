#include "agent/tracer/net_rules.h"

#include <gtest/gtest.h>

namespace coroot::agent::tracer {
namespace {

Ip P(const char* s) { return *ParseIp(s); }

TEST(NetRules, FormatsLikeCoroot) {
  EXPECT_EQ(FormatIpPort(IpV4(10, 1, 2, 3), 5432), "10.1.2.3:5432");
  EXPECT_EQ(FormatIpPort(P("::1"), 80), "[::1]:80");
  EXPECT_EQ(FormatIpPort(P("2001:db8::5"), 443), "[2001:db8::5]:443");
  EXPECT_EQ(FormatIp(P("::ffff:127.0.0.1")), "127.0.0.1");  // v4-mapped prints as IPv4
  EXPECT_FALSE(ParseIp("300.1.1.1").ok());
  EXPECT_FALSE(ParseIp("").ok());
}

TEST(NetRules, Classifies) {
  EXPECT_TRUE(IsLoopback(IpV4(127, 0, 0, 53)));
  EXPECT_TRUE(IsLoopback(P("::1")));
  EXPECT_FALSE(IsLoopback(P("::2")));
  EXPECT_TRUE(IsLinkLocal(IpV4(169, 254, 169, 254)));
  EXPECT_TRUE(IsLinkLocal(P("fe80::1")));
  EXPECT_TRUE(IsPrivate(IpV4(10, 0, 0, 1)));
  EXPECT_TRUE(IsPrivate(IpV4(172, 31, 0, 1)));
  EXPECT_FALSE(IsPrivate(IpV4(172, 32, 0, 1)));
  EXPECT_TRUE(IsPrivate(IpV4(192, 168, 1, 1)));
  EXPECT_TRUE(IsPrivate(IpV4(100, 64, 0, 1)));
  EXPECT_FALSE(IsPrivate(IpV4(100, 128, 0, 1)));
  EXPECT_TRUE(IsPrivate(P("fd00::1")));
  EXPECT_FALSE(IsPrivate(IpV4(8, 8, 8, 8)));
  EXPECT_TRUE(IsUnspecified(IpV4(0, 0, 0, 0)));
  EXPECT_TRUE(IsUnspecified(P("::")));
}

TEST(NetRules, Cidr) {
  auto c = ParseCidr("203.0.113.0/24");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(IpV4(203, 0, 113, 77)));
  EXPECT_FALSE(c->Contains(IpV4(203, 0, 114, 1)));
  auto c6 = ParseCidr("2001:db8::/33");
  ASSERT_TRUE(c6.ok());
  EXPECT_TRUE(c6->Contains(P("2001:db8:7fff::1")));
  EXPECT_FALSE(c6->Contains(P("2001:db8:8000::1")));
  EXPECT_FALSE(ParseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseCidr("10.0.0.0/x").ok());
  EXPECT_TRUE(ParseCidr("10.0.0.1").ok());  // a host
}

TEST(NetRules, PortRange) {
  auto r = ParsePortRange("32768-60999");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lo, 32768);
  EXPECT_EQ(r->hi, 60999);
  EXPECT_FALSE(ParsePortRange("60999-32768").ok());
  EXPECT_FALSE(ParsePortRange("1-70000").ok());
  EXPECT_FALSE(ParsePortRange("1000").ok());
}

TEST(NetRules, EphemeralPortsAreSkippedExcept50051) {
  auto f = DestinationFilter::Create("32768-60999", "0.0.0.0/0", 1);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->IsEphemeralPort(32768));
  EXPECT_TRUE(f->IsEphemeralPort(60999));
  EXPECT_FALSE(f->IsEphemeralPort(32767));
  EXPECT_FALSE(f->IsEphemeralPort(61000));
  EXPECT_FALSE(f->IsEphemeralPort(50051));
  EXPECT_EQ(f->CheckConnection(IpV4(10, 0, 0, 1), 40000, 1), Verdict::kEphemeralPort);
  EXPECT_EQ(f->CheckConnection(IpV4(10, 0, 0, 1), 50051, 1), Verdict::kTrack);
  EXPECT_EQ(f->CheckListen(IpV4(0, 0, 0, 0), 40000, 1), Verdict::kEphemeralPort);
  EXPECT_EQ(f->CheckListen(IpV4(0, 0, 0, 0), 8080, 1), Verdict::kTrack);
}

TEST(NetRules, LoopbackCountsOnlyInTheHostNetns) {
  auto f = DestinationFilter::Create("32768-60999", "0.0.0.0/0", 4026531840u);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->CheckConnection(IpV4(127, 0, 0, 1), 6379, 4026531840u), Verdict::kTrack);
  EXPECT_EQ(f->CheckConnection(IpV4(127, 0, 0, 1), 6379, 4026532000u), Verdict::kLoopbackInContainer);
  EXPECT_EQ(f->CheckConnection(P("::1"), 6379, 4026532000u), Verdict::kLoopbackInContainer);
  EXPECT_EQ(f->CheckConnection(IpV4(10, 0, 0, 1), 6379, 4026532000u), Verdict::kTrack);
}

TEST(NetRules, PublicNetworks) {
  auto all = DestinationFilter::Create("32768-60999", "0.0.0.0/0", 1);
  EXPECT_EQ(all->CheckConnection(IpV4(8, 8, 8, 8), 53, 1), Verdict::kTrack);
  EXPECT_EQ(all->CheckConnection(P("2606:4700::1111"), 443, 1), Verdict::kTrack);
  EXPECT_EQ(all->CheckConnection(IpV4(169, 254, 169, 254), 80, 1), Verdict::kLinkLocal);

  auto some = DestinationFilter::Create("32768-60999", "203.0.113.0/24, 198.51.100.0/24", 1);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->CheckConnection(IpV4(203, 0, 113, 9), 443, 1), Verdict::kTrack);
  EXPECT_EQ(some->CheckConnection(IpV4(198, 51, 100, 9), 443, 1), Verdict::kTrack);
  EXPECT_EQ(some->CheckConnection(IpV4(8, 8, 8, 8), 443, 1), Verdict::kPublicNotTracked);
  EXPECT_EQ(some->CheckConnection(IpV4(10, 2, 3, 4), 443, 1), Verdict::kTrack);  // private: always

  auto none = DestinationFilter::Create("32768-60999", "", 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->CheckConnection(IpV4(8, 8, 8, 8), 443, 1), Verdict::kPublicNotTracked);
  EXPECT_FALSE(DestinationFilter::Create("32768-60999", "bogus", 1).ok());
  EXPECT_FALSE(DestinationFilter::Create("x", "", 1).ok());
}

}  // namespace
}  // namespace coroot::agent::tracer
