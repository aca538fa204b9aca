#include "agent/protocols/postgres/stitch.h"

#include <gtest/gtest.h>

#include "agent/protocols/postgres/parse.h"

namespace coroot::agent::protocols::postgres {
namespace {

using std::string_view_literals::operator""sv;

std::string Stitch(std::string_view bytes, StatementCache* cache) {
  Request r;
  EXPECT_NE(ParseRequest(bytes, &r), ParseResult::kInvalid);
  return StitchStatement(r, cache);
}

TEST(PostgresStitchTest, PreparedStatementLifecycle) {
  StatementCache cache;
  // Parse "stmt_a" + Sync.
  EXPECT_EQ(Stitch("P\0\0\0\x1cstmt_a\0SELECT $1::int\0\0\0S\0\0\0\x04"sv, &cache), "SELECT $1::int");
  EXPECT_EQ(cache.size(), 1u);
  // Bind "stmt_a" + Execute + Sync: the text comes from the earlier Parse.
  EXPECT_EQ(Stitch("B\0\0\0\x12\0stmt_a\0\0\0\0\0\0\0E\0\0\0\x09\0\0\0\0\0S\0\0\0\x04"sv, &cache), "SELECT $1::int");
  // Close statement "stmt_a" + Sync.
  EXPECT_EQ(Stitch("C\0\0\0\x0cSstmt_a\0S\0\0\0\x04"sv, &cache), "CLOSE stmt_a");
  EXPECT_EQ(cache.size(), 0u);
  // A Bind after the Close no longer knows the text.
  EXPECT_EQ(Stitch("B\0\0\0\x12\0stmt_a\0\0\0\0\0\0\0S\0\0\0\x04"sv, &cache), "EXECUTE stmt_a /* unknown */");
}

TEST(PostgresStitchTest, UnnamedStatementIsReplaced) {
  StatementCache cache;
  EXPECT_EQ(Stitch("P\0\0\0\x10\0SELECT 1\0\0\0B\0\0\0\x0c\0\0\0\0\0\0\0\0S\0\0\0\x04"sv, &cache), "SELECT 1");
  EXPECT_EQ(Stitch("P\0\0\0\x10\0SELECT 2\0\0\0B\0\0\0\x0c\0\0\0\0\0\0\0\0S\0\0\0\x04"sv, &cache), "SELECT 2");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(*cache.Get(""), "SELECT 2");
}

TEST(PostgresStitchTest, CacheIsBounded) {
  StatementCache cache(3);
  for (int i = 0; i < 5; i++) cache.Put("s" + std::to_string(i), "SELECT " + std::to_string(i));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.evicted(), 2u);
  EXPECT_EQ(cache.Get("s0"), nullptr);
  EXPECT_EQ(cache.Get("s1"), nullptr);
  ASSERT_NE(cache.Get("s4"), nullptr);
  EXPECT_EQ(*cache.Get("s4"), "SELECT 4");
  cache.Put("long", std::string(10000, 'x'));
  EXPECT_EQ(cache.Get("long")->size(), StatementCache::kMaxTextBytes);
}

}  // namespace
}  // namespace coroot::agent::protocols::postgres
