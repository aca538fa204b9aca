#include "agent/protocols/http/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::http {
namespace {

TEST(HttpParseTest, RequestLine) {
  L7Request r;
  ASSERT_EQ(ParseRequest("GET /api/v1/users?id=7 HTTP/1.1\r\nHost: x\r\n\r\n", &r), ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kHttp);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/v1/users?id=7");
  EXPECT_FALSE(r.truncated);
  L7Request d;
  ASSERT_EQ(ParseRequest("DELETE /x HTTP/1.0\r\n", &d), ParseResult::kSuccess);
  EXPECT_EQ(d.method, "DELETE");
  EXPECT_EQ(d.path, "/x");
}

TEST(HttpParseTest, CutRequestKeepsWhatWasSeen) {
  L7Request r;
  EXPECT_EQ(ParseRequest("POST /upload/very/long/pa", &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/upload/very/long/pa");
  EXPECT_TRUE(r.truncated);
  L7Request v;
  EXPECT_EQ(ParseRequest("GET / HTTP/1", &v), ParseResult::kNeedMoreData);
  EXPECT_EQ(v.path, "/");
}

TEST(HttpParseTest, RejectsNonHttp) {
  L7Request r;
  EXPECT_EQ(ParseRequest("GETX / HTTP/1.1\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("get / HTTP/1.1\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("GET  HTTP/1.1\r\n", &r), ParseResult::kInvalid);   // empty target
  EXPECT_EQ(ParseRequest("GET / HTTX/1.1\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("GET /\x01 HTTP/1.1\r\n", &r), ParseResult::kInvalid);  // control byte in target
  EXPECT_EQ(ParseRequest("", &r), ParseResult::kInvalid);
  EXPECT_FALSE(DetectRequest("GET"));
  EXPECT_FALSE(DetectRequest("PRI * HTTP/2.0\r\n"));
  EXPECT_TRUE(DetectRequest("OPTIONS * HTTP/1.1\r\n"));
  EXPECT_TRUE(DetectRequest("PATCH /a"));
}

TEST(HttpParseTest, ResponseStatus) {
  int code = 0;
  ASSERT_EQ(ParseResponseStatus("HTTP/1.1 204 No Content\r\n", &code), ParseResult::kSuccess);
  EXPECT_EQ(code, 204);
  ASSERT_EQ(ParseResponseStatus("HTTP/1.0 503\r\n", &code), ParseResult::kSuccess);
  EXPECT_EQ(code, 503);
  EXPECT_EQ(ParseResponseStatus("HTTP/1.1 2", &code), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseResponseStatus("HTTP/1.1 2x0 OK", &code), ParseResult::kInvalid);
  EXPECT_EQ(ParseResponseStatus("HTTP/1.1 2000 OK", &code), ParseResult::kInvalid);
  EXPECT_EQ(ParseResponseStatus("SSH-2.0-OpenSSH", &code), ParseResult::kInvalid);
  EXPECT_TRUE(DetectResponse("HTTP/2.0 200 OK"));
}

TEST(HttpParseTest, StatusClass) {
  EXPECT_EQ(StatusClass(101), "1xx");
  EXPECT_EQ(StatusClass(200), "2xx");
  EXPECT_EQ(StatusClass(308), "3xx");
  EXPECT_EQ(StatusClass(404), "4xx");
  EXPECT_EQ(StatusClass(599), "5xx");
  EXPECT_EQ(StatusClass(0), "unknown");
  EXPECT_EQ(StatusClass(99), "unknown");
  EXPECT_EQ(StatusClass(600), "unknown");
}

TEST(HttpParseTest, PathWithoutQuery) {
  EXPECT_EQ(PathWithoutQuery("/a/b?x=1&y=2"), "/a/b");
  EXPECT_EQ(PathWithoutQuery("/a#frag"), "/a");
  EXPECT_EQ(PathWithoutQuery("/plain"), "/plain");
  EXPECT_EQ(PathWithoutQuery("?only"), "");
}

TEST(HttpParseTest, GlobMatch) {
  EXPECT_TRUE(GlobMatch("/health*", "/healthz"));
  EXPECT_TRUE(GlobMatch("/health*", "/health"));
  EXPECT_FALSE(GlobMatch("/health*", "/api/health"));
  EXPECT_TRUE(GlobMatch("*/metrics", "/app/v2/metrics"));
  EXPECT_TRUE(GlobMatch("/api/v?/ping", "/api/v1/ping"));
  EXPECT_FALSE(GlobMatch("/api/v?/ping", "/api/v10/ping"));
  EXPECT_TRUE(GlobMatch("/static/[a-c]*.js", "/static/bundle.js"));
  EXPECT_FALSE(GlobMatch("/static/[a-c]*.js", "/static/main.js"));
  EXPECT_TRUE(GlobMatch("/x/[!0-9]", "/x/a"));
  EXPECT_FALSE(GlobMatch("/x/[!0-9]", "/x/5"));
  EXPECT_TRUE(GlobMatch("/lit\\*", "/lit*"));
  EXPECT_FALSE(GlobMatch("/lit\\*", "/lit-x"));
  EXPECT_TRUE(GlobMatch("/[", "/["));  // an unterminated class is a literal '['
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "/"));
  // Many stars against a long non-matching string stays polynomial (would hang if exponential).
  std::string s(4000, 'a');
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*b", s));
}

TEST(HttpParseTest, PathFilterStripsQuery) {
  PathFilter f({"/health*", "/metrics"});
  EXPECT_TRUE(f.Excluded("/healthz?verbose=1"));
  EXPECT_TRUE(f.Excluded("/metrics?x"));
  EXPECT_FALSE(f.Excluded("/metrics/extra"));
  EXPECT_FALSE(f.Excluded("/api"));
  EXPECT_FALSE(PathFilter().Excluded("/health"));
}

}  // namespace
}  // namespace coroot::agent::protocols::http
