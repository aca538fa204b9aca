#include "agent/protocols/foundationdb/parse.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "agent/protocols/decoder.h"
#include "agent/protocols/l7_event.h"
#include "agent/protocols/l7_metrics.h"
#include "agent/protocols/registry.h"

namespace coroot::agent::protocols::foundationdb {
namespace {

// The fixtures are written by testdata/foundationdb/make_fixtures.py, byte by byte from the wire
// format's public description (see there).
std::string Fixture(const std::string& name) {
  std::ifstream f(std::string(PROTOCOLS_TESTDATA_DIR) + "/foundationdb/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(FoundationdbParseTest, RequestsInEveryFraming) {
  for (const char* name : {"get_value_request.bin", "get_value_request_crc32c.bin", "get_value_request_tls.bin",
                           "connect_get_value_request.bin"}) {
    SCOPED_TRACE(name);
    std::string b = Fixture(name);
    EXPECT_TRUE(DetectRequest(b));
    L7Request r;
    ASSERT_EQ(ParseRequest(b, &r), ParseResult::kSuccess);
    EXPECT_EQ(r.protocol, L7Protocol::kFoundationdb);
    EXPECT_EQ(r.method, "GetValueRequest");
    EXPECT_FALSE(r.truncated);
  }
  Packet p;
  ASSERT_EQ(FindPacket(Fixture("get_value_request_crc32c.bin"), false, &p), ParseResult::kSuccess);
  EXPECT_EQ(p.checksum_width, 4u);
  EXPECT_EQ(p.file_identifier, 8454530u);
  ASSERT_EQ(FindPacket(Fixture("connect_get_value_request.bin"), false, &p), ParseResult::kSuccess);
  EXPECT_EQ(p.checksum_width, 8u);
  EXPECT_EQ(p.message_offset, 44u + 4 + 8 + 16);
  L7Request grv;
  ASSERT_EQ(ParseRequest(Fixture("two_requests.bin"), &grv), ParseResult::kSuccess);
  EXPECT_EQ(grv.method, "GetReadVersionRequest");  // the first of the batch
}

TEST(FoundationdbParseTest, ConnectPacketAloneIsNoRequest) {
  std::string c = Fixture("connect_packet.bin");
  EXPECT_EQ(ConnectPacketSize(c), 44u);
  EXPECT_FALSE(DetectRequest(c));
  L7Request r;
  EXPECT_EQ(ParseRequest(c, &r), ParseResult::kNeedMoreData);
  std::string_view s;
  uint16_t code = 0;
  EXPECT_NE(ParseResponseStatus(c, &s, &code), ParseResult::kSuccess);
}

TEST(FoundationdbParseTest, ReplyStatus) {
  std::string_view s;
  uint16_t code = 1;
  ASSERT_EQ(ParseResponseStatus(Fixture("get_value_reply_ok.bin"), &s, &code), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  EXPECT_EQ(code, 0);
  ASSERT_EQ(ParseResponseStatus(Fixture("get_read_version_reply_ok.bin"), &s, &code), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus(Fixture("get_value_reply_error.bin"), &s, &code), ParseResult::kSuccess);
  EXPECT_EQ(s, "failed");
  EXPECT_EQ(code, 1007);  // transaction_too_old
  // A reply whose root table lies beyond the bytes at hand (root offset 200): its type is known,
  // its status taken as ok.
  std::string far = Fixture("get_value_reply_error.bin");
  far[4 + 8 + 16] = static_cast<char>(200);
  ASSERT_EQ(ParseResponseStatus(far, &s, &code), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
}

TEST(FoundationdbParseTest, RequestsAndRepliesAreTold) {
  // A request is no reply (no ErrorOr wrapper) and a reply no request.
  std::string_view s;
  uint16_t code = 0;
  EXPECT_EQ(ParseResponseStatus(Fixture("get_value_request.bin"), &s, &code), ParseResult::kInvalid);
  EXPECT_FALSE(DetectRequest(Fixture("get_value_reply_ok.bin")));
}

TEST(FoundationdbParseTest, Invalid) {
  using std::string_view_literals::operator""sv;
  L7Request r;
  std::string b = Fixture("get_value_request.bin");
  // unknown file_identifier
  std::string unknown = b;
  unknown[4 + 8 + 16 + 4] = 0x01;
  EXPECT_EQ(ParseRequest(unknown, &r), ParseResult::kInvalid);
  // a length that does not fit the write (and the write is not a cut 1024-byte head)
  std::string long_len = b;
  long_len[1] = 0x01;
  EXPECT_EQ(ParseRequest(long_len, &r), ParseResult::kInvalid);
  // a length below token + root offset + file_identifier
  EXPECT_EQ(ParseRequest("\x10\x00\x00\x00"sv, &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("\x40\x00"sv, &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseRequest(b.substr(0, 20), &r), ParseResult::kNeedMoreData);
  // A cut head of a long request (1024 bytes of a bigger write) still counts.
  std::string big = b;
  uint32_t len = 5000;
  big.replace(0, 4, std::string(reinterpret_cast<const char*>(&len), 4));
  big.resize(1024, 'x');
  ASSERT_EQ(ParseRequest(big, &r), ParseResult::kSuccess);
  EXPECT_TRUE(r.truncated);
}

TEST(FoundationdbParseTest, RegistryAndDecoder) {
  const ProtocolSpec* spec = FindProtocol(L7Protocol::kFoundationdb);
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->requests_total, "container_foundationdb_requests_total");
  EXPECT_EQ(spec->inbound_requests_total, "container_foundationdb_inbound_requests_total");
  EXPECT_EQ(DetectRequestProtocol(Fixture("get_value_request.bin")), L7Protocol::kFoundationdb);
  std::string status;
  ASSERT_EQ(spec->decode_response_status(Fixture("get_value_reply_error.bin"), &status), ParseResult::kSuccess);
  EXPECT_EQ(status, "failed");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kFoundationdb, kEventStatusFailed), "failed");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kFoundationdb, kEventStatusOk), "ok");
}


// The kernel's id table (bpf/l7.bpf.c, FDB_ID(id, kinds) entries) lists exactly these types.
TEST(FoundationdbParseTest, KernelTableMatches) {
  std::ifstream f(std::string(PROTOCOLS_TESTDATA_DIR) + "/../../../bpf/l7.bpf.c");
  ASSERT_TRUE(f.good());
  std::string src((std::istreambuf_iterator<char>(f)), {});
  std::regex entry(R"(FDB_ID\((\d+), (FDB_REQ \| FDB_REP|FDB_REQ|FDB_REP)\))");
  size_t requests = 0, replies = 0;
  for (std::sregex_iterator i(src.begin(), src.end(), entry), end; i != end; ++i) {
    uint32_t id = static_cast<uint32_t>(std::stoul((*i)[1]));
    std::string kind = (*i)[2];
    bool req = kind.find("FDB_REQ") != std::string::npos, rep = kind.find("FDB_REP") != std::string::npos;
    EXPECT_EQ(!RequestName(id).empty(), req) << id;
    EXPECT_EQ(!ReplyName(id).empty(), rep) << id;
    requests += req;
    replies += rep;
  }
  EXPECT_EQ(requests, 49u);
  EXPECT_EQ(replies, 40u);
}

// Kernel events carrying the fixtures (statuses as bpf/l7.bpf.c reports them) through the decoder
// and into Coroot's families: N requests => N counted, by status, both directions.
TEST(FoundationdbParseTest, EventsToMetrics) {
  L7Decoder d;
  L7Metrics m;
  struct In {
    const char* request;
    int32_t status;
    bool inbound;
  };
  const In events[] = {{"connect_get_value_request.bin", kEventStatusOk, false},
                       {"get_value_request.bin", kEventStatusFailed, false},
                       {"get_read_version_request.bin", kEventStatusOk, false},
                       {"get_value_request_tls.bin", kEventStatusOk, true}};
  for (const auto& e : events) {
    std::string bytes = Fixture(e.request);
    L7Event ev;
    ev.protocol = L7Protocol::kFoundationdb;
    ev.payload = bytes;
    ev.payload_size = ev.payload.size();
    ev.status = e.status;
    ev.duration_ns = 2000000;
    ev.is_inbound = e.inbound;
    L7Request r;
    ASSERT_EQ(d.Decode(ev, &r), ParseResult::kSuccess) << e.request;
    EXPECT_FALSE(r.method.empty());
    EXPECT_EQ(m.Add("/app", "127.0.0.1:4500", "", r), L7Metrics::AddResult::kCounted);
  }
  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  std::map<std::string, double> got;  // "family status" -> value
  for (const auto& f : fams)
    for (const auto& s : f.samples)
      for (const auto& l : s.labels)
        if (l.name == "status") got[f.name + " " + l.value] += s.value;
  EXPECT_EQ(got["container_foundationdb_requests_total ok"], 2);
  EXPECT_EQ(got["container_foundationdb_requests_total failed"], 1);
  EXPECT_EQ(got["container_foundationdb_inbound_requests_total ok"], 1);
  bool histogram = false;
  for (const auto& f : fams) histogram = histogram || f.name == "container_foundationdb_requests_duration_seconds_total";
  EXPECT_TRUE(histogram);
}

}  // namespace
}  // namespace coroot::agent::protocols::foundationdb
