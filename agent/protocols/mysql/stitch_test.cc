#include "agent/protocols/mysql/stitch.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::mysql {
namespace {

TEST(MysqlStitchTest, PrepareExecuteClose) {
  StatementCache cache;
  Request prep{kComStmtPrepare, "SELECT * FROM users WHERE id = ?", 0, false};
  EXPECT_EQ(StitchStatement(prep, 12, &cache), "SELECT * FROM users WHERE id = ?");
  Request exec{kComStmtExecute, "", 12, false};
  EXPECT_EQ(StitchStatement(exec, 0, &cache), "SELECT * FROM users WHERE id = ?");
  Request other{kComStmtExecute, "", 13, false};
  EXPECT_EQ(StitchStatement(other, 0, &cache), "EXECUTE 13 /* unknown */");
  Request close{kComStmtClose, "", 12, false};
  EXPECT_EQ(StitchStatement(close, 0, &cache), "CLOSE 12");
  EXPECT_EQ(StitchStatement(exec, 0, &cache), "EXECUTE 12 /* unknown */");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(MysqlStitchTest, PrepareWithoutIdIsNotRemembered) {
  StatementCache cache;
  Request prep{kComStmtPrepare, "SELECT 1", 0, false};
  EXPECT_EQ(StitchStatement(prep, 0, &cache), "SELECT 1");
  EXPECT_EQ(cache.size(), 0u);
  Request q{kComQuery, "SHOW TABLES", 0, false};
  EXPECT_EQ(StitchStatement(q, 0, &cache), "SHOW TABLES");
}

}  // namespace
}  // namespace coroot::agent::protocols::mysql
