#include "agent/protocols/http2/stitch.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace coroot::agent::protocols::http2 {
namespace {

constexpr uint64_t kMs = 1000000;

struct Write {
  Direction dir;
  std::string bytes;
};

// Reads a conversation written by testdata/gen_conversations.py (a real HTTP/2 stack, h2).
std::vector<Write> Load(const std::string& name) {
  std::ifstream in(std::string(HTTP2_TESTDATA_DIR) + "/conversations/" + name + ".bin", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Write> out;
  for (size_t pos = 0; pos + 5 <= all.size();) {
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<uint8_t>(all[pos + 1 + i])) << (8 * i);
    out.push_back({all[pos] ? Direction::kServerToClient : Direction::kClientToServer, all.substr(pos + 5, len)});
    pos += 5 + len;
  }
  EXPECT_FALSE(out.empty()) << "missing fixture " << name;
  return out;
}

// Feeds every write, one millisecond apart (write i at i ms), optionally cutting each write to
// `max_bytes` the way the kernel hands over only a write's head.
std::vector<Request> Replay(const std::vector<Write>& writes, Stitcher* s, size_t max_bytes = SIZE_MAX) {
  std::vector<Request> done;
  for (size_t i = 0; i < writes.size(); ++i) {
    const std::string& b = writes[i].bytes;
    s->Feed(writes[i].dir, i * kMs, std::string_view(b).substr(0, std::min(b.size(), max_bytes)), b.size(), &done);
  }
  return done;
}

TEST(Http2Stitcher, SimpleGet) {
  auto w = Load("simple_get");
  Stitcher s;
  auto done = Replay(w, &s);
  ASSERT_EQ(done.size(), 1u);
  const Request& r = done[0];
  EXPECT_EQ(r.stream_id, 1u);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/users/42?verbose=1");
  EXPECT_EQ(r.scheme, "http");
  EXPECT_EQ(r.authority, "api.local:8080");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(StatusLabel(r), "2xx");
  // Request headers in write 3 (after the SETTINGS exchange), response in write 4.
  EXPECT_EQ(r.start_ns, 3 * kMs);
  EXPECT_EQ(r.duration_ns, kMs);
  EXPECT_EQ(s.open_streams(), 0u);
  EXPECT_EQ(s.stats().desyncs, 0u);
}

TEST(Http2Stitcher, DynamicTableReuseAcrossRequests) {
  Stitcher s;
  auto done = Replay(Load("dynamic_table_reuse"), &s);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].path, "/a");
  EXPECT_EQ(done[1].path, "/a");
  EXPECT_EQ(done[2].path, "/b");
  for (const auto& r : done) EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(StatusLabel(done[0]), "2xx");
  EXPECT_EQ(StatusLabel(done[1]), "4xx");
  EXPECT_EQ(StatusLabel(done[2]), "5xx");
  EXPECT_EQ(done[2].status, 503);
  EXPECT_EQ(s.stats().desyncs, 0u);
}

TEST(Http2Stitcher, InterleavedStreamsAnsweredOutOfOrder) {
  Stitcher s;
  auto done = Replay(Load("interleaved"), &s);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].path, "/item/5");
  EXPECT_EQ(done[0].status, 201);
  EXPECT_EQ(done[1].path, "/item/1");
  EXPECT_EQ(done[1].status, 200);
  EXPECT_EQ(done[2].path, "/item/3");
  EXPECT_EQ(done[2].status, 500);
  // All three were sent in one write and answered in writes 1, 2 and 3 ms later.
  EXPECT_EQ(done[0].duration_ns + kMs, done[1].duration_ns);
  EXPECT_EQ(done[1].duration_ns + kMs, done[2].duration_ns);
}

TEST(Http2Stitcher, GrpcStatusFromTrailersTrailersOnlyAndCancel) {
  Stitcher s;
  auto done = Replay(Load("grpc_unary"), &s);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].path, "/helloworld.Greeter/SayHello");
  EXPECT_TRUE(done[0].is_grpc());
  EXPECT_EQ(done[0].grpc_status, 0);
  EXPECT_EQ(StatusLabel(done[0]), "grpc:OK");
  EXPECT_EQ(StatusLabel(done[1]), "grpc:NOT_FOUND");
  EXPECT_EQ(done[2].path, "/helloworld.Greeter/SayHelloStream");
  EXPECT_EQ(StatusLabel(done[2]), "grpc:CANCELLED");
  // Latency is to the response headers, not the trailers: the trailers came two writes later.
  auto w = Load("grpc_unary");
  EXPECT_LT(done[0].duration_ns, 3 * kMs);
  EXPECT_EQ(s.open_streams(), 0u);
}

TEST(Http2Stitcher, HeaderBlockSplitIntoContinuationFrames) {
  Stitcher s;
  auto done = Replay(Load("continuation"), &s);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].path, "/big");
  EXPECT_EQ(done[0].status, 200);
  EXPECT_GE(s.stats().frames, 6u);
  EXPECT_EQ(s.stats().desyncs, 0u);
}

TEST(Http2Stitcher, ByteAtATimeGivesTheSameResult) {
  for (const char* name : {"simple_get", "dynamic_table_reuse", "interleaved", "grpc_unary", "continuation"}) {
    auto w = Load(name);
    Stitcher whole, bytes;
    auto expected = Replay(w, &whole);
    std::vector<Request> got;
    for (size_t i = 0; i < w.size(); ++i)
      for (char c : w[i].bytes) bytes.Feed(w[i].dir, i * kMs, std::string_view(&c, 1), 1, &got);
    ASSERT_EQ(got.size(), expected.size()) << name;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].path, expected[i].path) << name;
      EXPECT_EQ(StatusLabel(got[i]), StatusLabel(expected[i])) << name;
      EXPECT_EQ(got[i].duration_ns, expected[i].duration_ns) << name;
    }
  }
}

// The kernel hands over the first bytes of each write only. Header blocks that fit are still
// decoded; a cut inside a header frame is counted as a desync rather than producing garbage.
TEST(Http2Stitcher, TruncatedWritesDesyncCleanly) {
  Stitcher small_writes;
  auto done = Replay(Load("dynamic_table_reuse"), &small_writes, 1024);
  EXPECT_EQ(done.size(), 3u);
  EXPECT_EQ(small_writes.stats().desyncs, 0u);

  Stitcher big;
  done = Replay(Load("continuation"), &big, 1024);
  EXPECT_TRUE(done.empty());
  EXPECT_GE(big.stats().desyncs, 1u);
  EXPECT_EQ(big.open_streams(), 0u);
}

TEST(Http2Stitcher, StreamsAreBoundedAndCollected) {
  Stitcher::Limits limits;
  limits.max_streams = 2;
  Stitcher s(limits);
  auto done = Replay(Load("interleaved"), &s);  // three streams open at once, one over the limit
  EXPECT_EQ(done.size(), 2u);
  EXPECT_EQ(s.stats().streams_dropped, 1u);

  Stitcher idle;
  auto w = Load("simple_get");
  std::vector<Request> out;
  for (size_t i = 0; i < 4; ++i) idle.Feed(w[i].dir, i * kMs, w[i].bytes, w[i].bytes.size(), &out);
  ASSERT_EQ(idle.open_streams(), 1u);  // the request is in, its response never comes
  idle.Gc(601ull * 1000 * kMs);
  EXPECT_EQ(idle.open_streams(), 0u);
  EXPECT_EQ(idle.stats().streams_dropped, 1u);
}

TEST(Http2Detector, TellsHttp2FromOtherProtocols) {
  auto w = Load("simple_get");
  EXPECT_TRUE(LooksLikeHttp2(w[0].bytes));  // client preface
  EXPECT_TRUE(LooksLikeHttp2(w[1].bytes));  // server SETTINGS
  EXPECT_FALSE(LooksLikeHttp2("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(LooksLikeHttp2("*1\r\n$4\r\nPING\r\n"));
  EXPECT_FALSE(LooksLikeHttp2(std::string("\x00\x00\x04\x04\x00\x00\x00\x00\x01", 9)));  // SETTINGS on a stream
}

}  // namespace
}  // namespace coroot::agent::protocols::http2
