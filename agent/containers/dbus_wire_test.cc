// The D-Bus wire format: method calls read back, property replies with values of many types
// (read or skipped), both byte orders, and every truncation of a message refused cleanly.
#include "agent/containers/dbus_wire.h"

#include <gtest/gtest.h>

#include <cstring>

#include "lib/base/file.h"

#include "agent/containers/systemd_dbus.h"

namespace coroot::agent::containers {
namespace {

// A little builder for replies, independent of the client's MethodCall.
struct Body {
  std::string b;
  bool be = false;
  void Pad(size_t a) { b.resize((b.size() + a - 1) / a * a, '\0'); }
  void U32(uint32_t v) {
    Pad(4);
    for (int i = 0; i < 4; i++) b.push_back(static_cast<char>(be ? (v >> (24 - 8 * i)) : (v >> (8 * i))));
  }
  void U64(uint64_t v) {
    Pad(8);
    for (int i = 0; i < 8; i++) b.push_back(static_cast<char>(be ? (v >> (56 - 8 * i)) : (v >> (8 * i))));
  }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    b.append(s);
    b.push_back('\0');
  }
  void Sig(std::string_view s) {
    b.push_back(static_cast<char>(s.size()));
    b.append(s);
    b.push_back('\0');
  }
};

// A METHOD_RETURN with REPLY_SERIAL and SIGNATURE header fields.
std::string Reply(const Body& body, uint32_t reply_serial, const std::string& sig, bool be) {
  Body h;
  h.be = be;
  h.b = {be ? 'B' : 'l', 2, 0, 1};
  h.U32(static_cast<uint32_t>(body.b.size()));
  h.U32(7);
  Body f;
  f.be = be;
  f.b.assign(16, '\0');  // offsets as in the message
  f.Pad(8);
  f.b.push_back(5);
  f.Sig("u");
  f.U32(reply_serial);
  f.Pad(8);
  f.b.push_back(8);
  f.Sig("g");
  f.Sig(sig);
  std::string fields = f.b.substr(16);
  h.U32(static_cast<uint32_t>(fields.size()));
  h.b += fields;
  h.Pad(8);
  return h.b + body.b;
}

Body Properties(bool be) {
  Body b;
  b.be = be;
  Body entries;
  entries.be = be;
  auto key = [&](std::string_view k, std::string_view sig) {
    entries.Pad(8);
    entries.Str(k);
    entries.Sig(sig);
  };
  key("Id", "s");
  entries.Str("demo.service");
  key("MemoryCurrent", "t");
  entries.U64(123456789);
  key("ExecStart", "a(sasbttttuii)");  // skipped by its length
  entries.U32(0);
  entries.Pad(8);
  key("Nested", "(yv)");
  entries.Pad(8);
  entries.b.push_back(3);
  entries.Sig("as");
  entries.U32(0);
  key("TriggeredBy", "as");
  {
    Body arr;
    arr.be = be;
    arr.b.assign(entries.b.size() + 4, '\0');  // same alignment as in place
    size_t start = arr.b.size();
    arr.Str("demo.timer");
    arr.Str("other.path");
    entries.U32(static_cast<uint32_t>(arr.b.size() - start));
    entries.b += arr.b.substr(start);
  }
  key("CanStart", "b");
  entries.U32(1);
  key("Type", "s");
  entries.Str("oneshot");
  // The array of dict entries: length, then padding to 8 (entries are written 8-aligned at
  // offset 8, the same offset they have in the body).
  b.U32(static_cast<uint32_t>(entries.b.size() - 0));
  b.Pad(8);
  b.b += entries.b;
  return b;
}

TEST(DbusWireTest, MethodCallReadsBack) {
  std::string body;
  dbus::AppendString(&body, "");
  std::string call = dbus::MethodCall(42, SystemdUnitPath("a-b.service"), "org.freedesktop.DBus.Properties", "GetAll",
                                      "org.freedesktop.systemd1", "s", body);
  StatusOr<size_t> size = dbus::MessageSize(call);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, call.size());
  StatusOr<dbus::Message> m = dbus::ParseMessage(call);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, dbus::kMethodCall);
  EXPECT_EQ(m->serial, 42u);
  EXPECT_EQ(m->signature, "s");
  EXPECT_EQ(m->body, std::string("\0\0\0\0\0", 5));
}

TEST(DbusWireTest, UnitPathsAreBusEscaped) {
  EXPECT_EQ(SystemdUnitPath("nginx.service"), "/org/freedesktop/systemd1/unit/nginx_2eservice");
  EXPECT_EQ(SystemdUnitPath("a-b@1.service"), "/org/freedesktop/systemd1/unit/a_2db_401_2eservice");
  EXPECT_EQ(SystemdUnitPath(""), "/org/freedesktop/systemd1/unit/_");
}

TEST(DbusWireTest, PropertiesOfManyTypesInBothByteOrders) {
  for (bool be : {false, true}) {
    std::string msg = Reply(Properties(be), 42, "a{sv}", be);
    StatusOr<dbus::Message> m = dbus::ParseMessage(msg);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->reply_serial, 42u);
    auto props = dbus::ParseProperties(*m);
    ASSERT_TRUE(props.ok()) << props.status().ToString();
    EXPECT_EQ(std::get<std::string>(props->at("Id")), "demo.service");
    EXPECT_EQ(std::get<uint64_t>(props->at("MemoryCurrent")), 123456789u);
    EXPECT_EQ(std::get<std::vector<std::string>>(props->at("TriggeredBy")),
              (std::vector<std::string>{"demo.timer", "other.path"}));
    EXPECT_EQ(std::get<bool>(props->at("CanStart")), true);
    EXPECT_EQ(std::get<std::string>(props->at("Type")), "oneshot");
    EXPECT_EQ(props->count("ExecStart"), 0u);
  }
}

// Bytes libdbus wrote: the GetAll reply of systemd_private_peer.py for "web.service=simple,web.timer",
// captured with strace from dbus-send --peer.
TEST(DbusWireTest, ReplyWrittenByLibdbus) {
  StatusOr<std::string> bytes = ReadFile(CONTAINERS_TESTDATA_DIR "/dbus_getall_reply.bin");
  ASSERT_TRUE(bytes.ok());
  StatusOr<size_t> size = dbus::MessageSize(*bytes);
  ASSERT_TRUE(size.ok());
  ASSERT_EQ(*size, bytes->size());
  StatusOr<dbus::Message> m = dbus::ParseMessage(*bytes);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, dbus::kMethodReturn);
  EXPECT_EQ(m->reply_serial, 1u);
  auto props = dbus::ParseProperties(*m);
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  EXPECT_EQ(std::get<std::string>(props->at("Id")), "web.service");
  EXPECT_EQ(std::get<std::string>(props->at("Type")), "simple");
  EXPECT_EQ(std::get<std::vector<std::string>>(props->at("TriggeredBy")), std::vector<std::string>{"web.timer"});
  EXPECT_EQ(std::get<uint64_t>(props->at("MainPID")), 4242u);
  EXPECT_EQ(std::get<uint64_t>(props->at("IOReadBytes")), UINT64_MAX);
  EXPECT_EQ(std::get<std::vector<std::string>>(props->at("Environment")), (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(std::get<bool>(props->at("CanStart")), true);
  EXPECT_EQ(props->count("ExecStart"), 0u);  // a(sasbttttuii): skipped
  EXPECT_EQ(props->size(), 15u);  // 18 properties; ExecStart, Conditions and Nested are of types it skips
}

TEST(DbusWireTest, EveryTruncationAndCorruptionIsRefused) {
  std::string msg = Reply(Properties(false), 42, "a{sv}", false);
  for (size_t n = 0; n < msg.size(); n++) {
    std::string_view cut(msg.data(), n);
    StatusOr<size_t> size = dbus::MessageSize(cut);
    if (size.ok() && *size == n) continue;  // cannot happen for a prefix, but never parse a mismatch
    EXPECT_FALSE(dbus::ParseMessage(cut).ok()) << n;
  }
  // Flip every byte of the body: the parser may accept or refuse, but must stay in bounds.
  StatusOr<dbus::Message> m = dbus::ParseMessage(msg);
  ASSERT_TRUE(m.ok());
  for (size_t i = 0; i < m->body.size(); i++) {
    dbus::Message bad = *m;
    bad.body[i] = static_cast<char>(bad.body[i] ^ 0xff);
    (void)dbus::ParseProperties(bad);
  }
  // Sizes past the limit and unknown byte orders.
  std::string huge = msg;
  huge[4] = huge[5] = huge[6] = '\x7f';
  EXPECT_FALSE(dbus::MessageSize(huge).ok());
  std::string odd = msg;
  odd[0] = 'x';
  EXPECT_FALSE(dbus::MessageSize(odd).ok());
  // Nesting past the spec's depth.
  Body deep;
  deep.U32(0);
  std::string sig = "a{s" + std::string(70, 'a') + "s}";
  std::string d = Reply(deep, 1, sig, false);
  StatusOr<dbus::Message> dm = dbus::ParseMessage(d);
  ASSERT_TRUE(dm.ok());
  EXPECT_FALSE(dbus::ParseProperties(*dm).ok());
}

}  // namespace
}  // namespace coroot::agent::containers
