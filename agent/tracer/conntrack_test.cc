#include "agent/tracer/conntrack.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstring>

namespace coroot::agent::tracer {
namespace {

// The kernel's answer, built by hand: an IPCTNL_MSG_CT_NEW whose reply tuple goes
// 10.0.0.9:6380 -> 10.0.0.1:40001 (the original was 10.0.0.1:40001 -> 172.20.0.1:80, DNATed).
std::string Answer(bool v6 = false) {
  auto attr = [](uint16_t type, std::string payload) {
    nlattr a{};
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + payload.size());
    a.nla_type = type;
    std::string out(reinterpret_cast<const char*>(&a), sizeof(a));
    out += payload;
    out.append(NLA_ALIGN(payload.size()) - payload.size(), '\0');
    return out;
  };
  auto be16 = [](uint16_t v) {
    v = htons(v);
    return std::string(reinterpret_cast<const char*>(&v), 2);
  };
  std::string ip = v6 ? attr(CTA_IP_V6_SRC, std::string("\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x09", 16)) +
                            attr(CTA_IP_V6_DST, std::string(16, '\1'))
                      : attr(CTA_IP_V4_SRC, std::string("\x0a\x00\x00\x09", 4)) +
                            attr(CTA_IP_V4_DST, std::string("\x0a\x00\x00\x01", 4));
  std::string proto = attr(CTA_PROTO_NUM, std::string("\x06", 1)) + attr(CTA_PROTO_SRC_PORT, be16(6380)) +
                      attr(CTA_PROTO_DST_PORT, be16(40001));
  std::string orig = attr(CTA_TUPLE_ORIG | NLA_F_NESTED,
                          attr(CTA_TUPLE_IP | NLA_F_NESTED, attr(CTA_IP_V4_SRC, std::string(4, '\1'))) +
                              attr(CTA_TUPLE_PROTO | NLA_F_NESTED, attr(CTA_PROTO_SRC_PORT, be16(1))));
  std::string reply =
      attr(CTA_TUPLE_REPLY | NLA_F_NESTED, attr(CTA_TUPLE_IP | NLA_F_NESTED, ip) + attr(CTA_TUPLE_PROTO | NLA_F_NESTED, proto));
  nfgenmsg g{};
  std::string body(reinterpret_cast<const char*>(&g), sizeof(g));
  body += orig + reply;
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(sizeof(h) + body.size());
  h.nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
  return std::string(reinterpret_cast<const char*>(&h), sizeof(h)) + body;
}

TEST(Conntrack, ParsesTheReplyTuple) {
  auto r = ParseConntrackReply(Answer());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(FormatIpPort((*r)->ip, (*r)->port), "10.0.0.9:6380");
  auto r6 = ParseConntrackReply(Answer(true));
  ASSERT_TRUE(r6.ok() && r6->has_value());
  EXPECT_EQ(FormatIpPort((*r6)->ip, (*r6)->port), "[fd00::9]:6380");
}

TEST(Conntrack, NoEntryAndErrors) {
  nlmsghdr h{};
  h.nlmsg_type = NLMSG_ERROR;
  int err = -ENOENT;
  h.nlmsg_len = sizeof(h) + sizeof(nlmsgerr);
  std::string msg(reinterpret_cast<const char*>(&h), sizeof(h));
  nlmsgerr e{};
  e.error = err;
  msg.append(reinterpret_cast<const char*>(&e), sizeof(e));
  auto r = ParseConntrackReply(msg);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  e.error = -EPERM;
  std::memcpy(msg.data() + sizeof(h), &e, sizeof(e));
  EXPECT_FALSE(ParseConntrackReply(msg).ok());
  // Truncations of a good answer never parse as something else.
  std::string good = Answer();
  for (size_t n = 0; n < good.size(); n++) {
    auto t = ParseConntrackReply(std::string_view(good.data(), n));
    EXPECT_FALSE(t.ok() && t->has_value()) << n;
  }
}

TEST(Conntrack, BuildsAGetRequest) {
  std::string req = BuildConntrackGet(IpV4(10, 0, 0, 1), 40001, IpV4(172, 20, 0, 1), 80, 7);
  nlmsghdr h;
  std::memcpy(&h, req.data(), sizeof(h));
  EXPECT_EQ(h.nlmsg_len, req.size());
  EXPECT_EQ(h.nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET);
  EXPECT_EQ(h.nlmsg_seq, 7u);
  nfgenmsg g;
  std::memcpy(&g, req.data() + sizeof(h), sizeof(g));
  EXPECT_EQ(g.nfgen_family, AF_INET);
  EXPECT_NE(req.find(std::string("\xac\x14\x00\x01", 4)), std::string::npos);  // 172.20.0.1
}

}  // namespace
}  // namespace coroot::agent::tracer
