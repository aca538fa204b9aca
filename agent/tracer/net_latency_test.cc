#include "agent/tracer/net_latency.h"

#include <gtest/gtest.h>

#include <string>

namespace coroot::agent::tracer {
namespace {

std::string Unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

// Captured on this machine from a raw ICMP socket (2026-12-01): an echo request to 127.0.0.1
// (id 0x1234, seq 7, payload "coroot-netlat") as looped back, then the kernel's reply.
const char* kCapturedRequest = "450000297a1840004001c2b97f0000017f00000108002d2d12340007636f726f6f742d6e65746c6174";
const char* kCapturedReply = "450000297a190000400102b97f0000017f0000010000352d12340007636f726f6f742d6e65746c6174";

TEST(IcmpParse, CapturedReplyWithIpHeader) {
  IcmpEchoReply r;
  ASSERT_EQ(ParseIcmpEchoReply(Unhex(kCapturedReply), true, &r), IcmpParse::kEchoReply);
  EXPECT_EQ(r.id, 0x1234);
  EXPECT_EQ(r.seq, 7);
  const uint8_t* src = reinterpret_cast<const uint8_t*>(&r.src);
  EXPECT_EQ(src[0], 127);
  EXPECT_EQ(src[3], 1);
  // The request that a raw socket also receives on loopback is not a reply.
  EXPECT_EQ(ParseIcmpEchoReply(Unhex(kCapturedRequest), true, &r), IcmpParse::kOther);
}

TEST(IcmpParse, PingSocketReplyHasNoIpHeader) {
  IcmpEchoReply r;
  ASSERT_EQ(ParseIcmpEchoReply(Unhex(kCapturedReply).substr(20), false, &r), IcmpParse::kEchoReply);
  EXPECT_EQ(r.id, 0x1234);
  EXPECT_EQ(r.seq, 7);
  EXPECT_EQ(r.src, 0u);
}

TEST(IcmpParse, IpOptionsAreSkippedByHeaderLength) {
  std::string p = Unhex(kCapturedReply);
  p[0] = 0x46;  // IHL 6: four option bytes before the ICMP message
  p.insert(20, std::string("\x01\x01\x01\x00", 4));
  IcmpEchoReply r;
  ASSERT_EQ(ParseIcmpEchoReply(p, true, &r), IcmpParse::kEchoReply);
  EXPECT_EQ(r.seq, 7);
}

TEST(IcmpParse, TruncatedAndMalformed) {
  std::string p = Unhex(kCapturedReply);
  IcmpEchoReply r;
  for (size_t n = 0; n < 28; n++) EXPECT_EQ(ParseIcmpEchoReply(p.substr(0, n), true, &r), IcmpParse::kMalformed) << n;
  EXPECT_EQ(ParseIcmpEchoReply(p.substr(0, 28), true, &r), IcmpParse::kEchoReply);  // header only, no payload
  for (size_t n = 0; n < 8; n++) EXPECT_EQ(ParseIcmpEchoReply(p.substr(20, n), false, &r), IcmpParse::kMalformed) << n;

  std::string bad = p;
  bad[0] = 0x44;  // IHL 4 < 20 bytes
  EXPECT_EQ(ParseIcmpEchoReply(bad, true, &r), IcmpParse::kMalformed);
  bad[0] = 0x4f;  // IHL 15 = 60 bytes > 41
  EXPECT_EQ(ParseIcmpEchoReply(bad, true, &r), IcmpParse::kMalformed);
  bad[0] = 0x65;  // version 6
  EXPECT_EQ(ParseIcmpEchoReply(bad, true, &r), IcmpParse::kMalformed);
  bad = p;
  bad[9] = 6;  // TCP
  EXPECT_EQ(ParseIcmpEchoReply(bad, true, &r), IcmpParse::kOther);
  bad = p;
  bad[20] = 3;  // destination unreachable
  EXPECT_EQ(ParseIcmpEchoReply(bad, true, &r), IcmpParse::kOther);
  bad = p;
  bad[21] = 1;  // echo reply with a non-zero code
  EXPECT_EQ(ParseIcmpEchoReply(bad, true, &r), IcmpParse::kOther);
  EXPECT_EQ(ParseIcmpEchoReply(std::string(2000, '\xff'), true, &r), IcmpParse::kMalformed);
}

TEST(IcmpBuild, MatchesTheCapturedRequestAndItsChecksum) {
  EXPECT_EQ(BuildIcmpEchoRequest(0x1234, 7, "coroot-netlat"), Unhex(kCapturedRequest).substr(20));
  // Odd and even lengths: the one's-complement sum over the whole message is 0xffff.
  for (std::string payload : {"", "a", "ab", "abc"}) {
    std::string m = BuildIcmpEchoRequest(0xfffe, 0xffff, payload);
    uint32_t sum = 0;
    for (size_t i = 0; i < m.size(); i += 2)
      sum += static_cast<uint32_t>(static_cast<uint8_t>(m[i]) << 8 | (i + 1 < m.size() ? static_cast<uint8_t>(m[i + 1]) : 0));
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    EXPECT_EQ(sum, 0xffffu) << payload;
  }
}

TEST(ProbeIcmp, NamespaceThatCannotBeEntered) {
  auto r = ProbeIcmp("/nonexistent/ns/net", 0, {IpV4(127, 0, 0, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("/nonexistent/ns/net"), std::string::npos) << r.status().ToString();
  // The right file but another namespace than expected (a reused pid).
  auto other = ProbeIcmp("/proc/self/ns/net", 1, {IpV4(127, 0, 0, 1)});
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().ToString().find("net:[1]"), std::string::npos) << other.status().ToString();
}

}  // namespace
}  // namespace coroot::agent::tracer
