#include <gtest/gtest.h>

#include "lib/clickhouse/client.h"
#include "lib/clickhouse/factory.h"
#include "lib/clickhouse/http_client.h"

namespace coroot::clickhouse {
namespace {

TEST(Errors, ParsesCodeInBothDialects) {
  EXPECT_EQ(ParseErrorCode("Code: 62. DB::Exception: Syntax error: failed at position 1"), 62);
  EXPECT_EQ(ParseErrorCode("Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist."), 60);
  EXPECT_EQ(ParseErrorCode("no code here"), 0);
  EXPECT_EQ(ParseErrorCode("Code: x"), 0);
}

TEST(Errors, ClassifiesCodes) {
  Status st = ErrorFromMessage("Code: 60. DB::Exception: Unknown table expression identifier 'nope'\n");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "Code: 60. DB::Exception: Unknown table expression identifier 'nope'");
  EXPECT_EQ(ErrorFromMessage("Code: 62. Syntax error").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorFromMessage("Code: 57. Table already exists").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorFromMessage("Code: 516. Authentication failed").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorFromMessage("Code: 159. Timeout exceeded").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorFromMessage("Code: 241. Memory limit").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorFromMessage("Code: 1. unclassified").code(), StatusCode::kInternal);
  EXPECT_EQ(ErrorFromMessage("bad gateway", StatusCode::kUnavailable).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(ErrorFromMessage("").message().empty());
}

TEST(Sql, Quoting) {
  EXPECT_EQ(QuoteString("O'Brien\\n\n"), "'O\\'Brien\\\\n\\n'");
  EXPECT_EQ(QuoteIdentifier("my`db"), "`my\\`db`");
}

TEST(Address, Normalizes) {
  auto n = [](const std::string& a) {
    auto r = NormalizeAddress(a);
    return r.ok() ? *r : "ERR: " + r.status().message();
  };
  EXPECT_EQ(n("clickhouse:8123"), "http://clickhouse:8123");
  EXPECT_EQ(n("127.0.0.1:18123"), "http://127.0.0.1:18123");
  EXPECT_EQ(n("clickhouse"), "http://clickhouse:8123");
  EXPECT_EQ(n("http://ch:9999/"), "http://ch:9999");
  EXPECT_EQ(n("https://ch.example.com"), "https://ch.example.com:8443");
  EXPECT_EQ(n("https://ch:443/some/path"), "https://ch:443");
  EXPECT_EQ(n("[::1]:8123"), "http://[::1]:8123");
  EXPECT_EQ(n("[::1]"), "http://[::1]:8123");
  EXPECT_TRUE(n("").starts_with("ERR"));
  EXPECT_TRUE(n("ftp://x:1").starts_with("ERR"));
  EXPECT_TRUE(n("u:p@host:8123").starts_with("ERR"));
}

TEST(Factory, EmbeddedNeedsADataDir) {
  Options o;  // no address: embedded
  auto c = Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
}

TEST(Factory, RemoteDescribesWithoutPassword) {
  Options o;
  o.address = "ch:8123";
  o.user = "coroot";
  o.password = "s3cret";
  o.database = "coroot_p1";
  auto c = Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string d = (*c)->Describe();
  EXPECT_NE(d.find("http://ch:8123"), std::string::npos) << d;
  EXPECT_NE(d.find("coroot_p1"), std::string::npos) << d;
  EXPECT_EQ(d.find("s3cret"), std::string::npos) << d;
}

TEST(Factory, EmbeddedReportsAMissingLibrary) {
  Options o;
  o.data_dir = ::testing::TempDir() + "/ch_missing_lib";
  o.libchdb_path = "/nonexistent/libchdb.so";
  auto c = Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("install-libchdb.sh"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace coroot::clickhouse
