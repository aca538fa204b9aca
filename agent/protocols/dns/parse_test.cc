#include "agent/protocols/dns/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::dns {
namespace {

using std::string_view_literals::operator""sv;

// RFC 1035 §4.1: id 0x1234, RD, one question: example.com A IN.
constexpr auto kQuery =
    "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    "\x07" "example" "\x03" "com" "\x00" "\x00\x01\x00\x01"sv;
// The response: QR RD RA, rcode 0, two A answers whose names point at offset 12.
constexpr auto kResponse =
    "\x12\x34\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00"
    "\x07" "example" "\x03" "com" "\x00" "\x00\x01\x00\x01"
    "\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x5d\xb8\xd8\x22"
    "\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x0a\x00\x00\x01"sv;
// AAAA response for ipv6.example.com with 2001:db8::1.
constexpr auto kAaaaResponse =
    "\xab\xcd\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
    "\x04" "ipv6" "\x07" "example" "\x03" "com" "\x00" "\x00\x1c\x00\x01"
    "\xc0\x0c\x00\x1c\x00\x01\x00\x00\x00\x3c\x00\x10"
    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"sv;
// NXDOMAIN for nope.example.com.
constexpr auto kNxdomain =
    "\x00\x07\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00"
    "\x04" "nope" "\x07" "example" "\x03" "com" "\x00" "\x00\x01\x00\x01"sv;

TEST(DnsParseTest, Query) {
  EXPECT_TRUE(DetectRequest(kQuery));
  EXPECT_FALSE(DetectResponse(kQuery));
  Message m;
  ASSERT_EQ(ParseMessage(kQuery, &m), ParseResult::kSuccess);
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_FALSE(m.is_response);
  EXPECT_EQ(m.qname, "example.com");
  EXPECT_EQ(m.qtype, 1);
  EXPECT_EQ(m.qclass, 1);
  EXPECT_TRUE(m.answers.empty());
}

TEST(DnsParseTest, ResponseWithCompressedAnswers) {
  EXPECT_TRUE(DetectResponse(kResponse));
  L7Request r;
  ASSERT_EQ(ParseRequest(kResponse, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kDns);
  EXPECT_EQ(r.method, "TypeA");
  EXPECT_EQ(r.path, "example.com");
  EXPECT_EQ(r.status, "ok");
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0], (DnsAnswer{"TypeA", "93.184.216.34"}));
  EXPECT_EQ(r.answers[1], (DnsAnswer{"TypeA", "10.0.0.1"}));
  EXPECT_FALSE(r.truncated);
}

TEST(DnsParseTest, AaaaAndNxdomain) {
  L7Request r;
  ASSERT_EQ(ParseRequest(kAaaaResponse, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.method, "TypeAAAA");
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].ip, "2001:db8::1");
  L7Request n;
  ASSERT_EQ(ParseRequest(kNxdomain, &n), ParseResult::kSuccess);
  EXPECT_EQ(n.status, "nxdomain");
  EXPECT_EQ(n.path, "nope.example.com");
  EXPECT_TRUE(n.answers.empty());
}

TEST(DnsParseTest, TcpFraming) {
  std::string tcp = std::string("\x00", 1) + static_cast<char>(kResponse.size()) + std::string(kResponse);
  Message m;
  ASSERT_EQ(ParseTcpMessage(tcp, &m), ParseResult::kSuccess);
  EXPECT_EQ(m.answers.size(), 2u);
  L7Request r;
  ASSERT_EQ(ParseRequest(tcp, &r), ParseResult::kSuccess);  // falls back to the TCP form
  EXPECT_EQ(r.path, "example.com");
}

TEST(DnsParseTest, CutAnswerSectionKeepsQuestion) {
  Message m;
  ASSERT_EQ(ParseMessage(kResponse.substr(0, kResponse.size() - 3), &m), ParseResult::kSuccess);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(ParseMessage(kQuery.substr(0, 20), &m), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseMessage(kQuery.substr(0, 5), &m), ParseResult::kNeedMoreData);
}

TEST(DnsParseTest, CompressionLoopsAreRejected) {
  Message m;
  // The question name is a pointer to itself (offset 12).
  EXPECT_EQ(ParseMessage("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"sv, &m),
            ParseResult::kInvalid);
  // A forward pointer.
  EXPECT_EQ(ParseMessage("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x20\x00\x01\x00\x01"sv, &m),
            ParseResult::kInvalid);
  // "a" then a pointer back to "a": a backward loop, ended by the name-length / jump caps.
  EXPECT_EQ(ParseMessage("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01" "a" "\xc0\x0c\x00\x01\x00\x01"sv, &m),
            ParseResult::kInvalid);
  // Label types 0x40 / 0x80 are not allowed.
  EXPECT_EQ(ParseMessage("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x41" "a\x00\x00\x01\x00\x01"sv, &m),
            ParseResult::kInvalid);
}

TEST(DnsParseTest, NameLengthIsBounded) {
  std::string q("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  for (int i = 0; i < 5; i++) q += std::string(1, 63) + std::string(63, 'x');  // 5 × 64 = 320 > 255
  q += std::string("\x00\x00\x01\x00\x01", 5);
  Message m;
  EXPECT_EQ(ParseMessage(q, &m), ParseResult::kInvalid);
}

TEST(DnsParseTest, DetectorRules) {
  // opcode 1 (IQUERY) and qdcount 2 are not classified.
  EXPECT_FALSE(DetectRequest("\x00\x01\x08\x00\x00\x01\x00\x00\x00\x00\x00\x00"sv));
  EXPECT_FALSE(DetectRequest("\x00\x01\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00"sv));
  EXPECT_FALSE(DetectRequest("\x00\x01\x01\x00\x00\x01"sv));
}

TEST(DnsParseTest, Names) {
  EXPECT_EQ(TypeName(1), "TypeA");
  EXPECT_EQ(TypeName(28), "TypeAAAA");
  EXPECT_EQ(TypeName(12), "TypePTR");
  EXPECT_EQ(TypeName(33), "TypeSRV");
  EXPECT_EQ(TypeName(65), "TypeHTTPS");
  EXPECT_EQ(TypeName(999), "999");
  EXPECT_EQ(RcodeName(0), "ok");
  EXPECT_EQ(RcodeName(1), "format_error");
  EXPECT_EQ(RcodeName(2), "servfail");
  EXPECT_EQ(RcodeName(3), "nxdomain");
  EXPECT_EQ(RcodeName(4), "not_implemented");
  EXPECT_EQ(RcodeName(5), "refused");
  EXPECT_EQ(RcodeName(9), "unknown");
}

TEST(DnsParseTest, NormalizeDomain) {
  EXPECT_EQ(NormalizeDomain("4.3.2.10.in-addr.arpa"), "IP.in-addr.arpa");
  EXPECT_EQ(NormalizeDomain("1.0.0.0.ip6.arpa."), "IP.ip6.arpa");
  EXPECT_EQ(NormalizeDomain("ip-10-0-1-17.ec2.internal"), "IP.ec2.internal");
  EXPECT_EQ(NormalizeDomain("api.github.com.default.svc.cluster.local"), "api.github.com.search_path_suffix");
  EXPECT_EQ(NormalizeDomain("sqs.amazonaws.com.svc"), "sqs.amazonaws.com.search_path_suffix");
  EXPECT_EQ(NormalizeDomain("example.com"), "example.com");
  EXPECT_EQ(NormalizeDomain("example.com."), "example.com");
  EXPECT_EQ(NormalizeDomain("redis.default.svc.cluster.local"), "redis.default.svc.cluster.local");
  EXPECT_EQ(NormalizeDomain("ip-10-0-1-17.us-west-2.compute.internal"), "ip-10-0-1-17.us-west-2.compute.internal");
  EXPECT_EQ(NormalizeDomain(""), "");
}

}  // namespace
}  // namespace coroot::agent::protocols::dns
