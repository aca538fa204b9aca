#include "lib/prom/spool.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lib/base/file.h"

namespace coroot::prom {
namespace {

std::string TempDir() {
  std::string d = std::filesystem::temp_directory_path() / ("spool_test_" + std::to_string(::getpid()) + "_" +
                                                            std::to_string(rand()));
  std::filesystem::remove_all(d);
  return d;
}

TEST(Spool, FifoAcrossRestarts) {
  std::string dir = TempDir();
  {
    Spool s(dir, 1 << 20);
    ASSERT_TRUE(s.Open().ok());
    ASSERT_TRUE(s.Put("first", 1000).ok());
    ASSERT_TRUE(s.Put("second", 1000).ok());  // same ms: still unique and ordered
    EXPECT_EQ(s.files(), 2u);
  }
  // A crashed write leaves a .tmp file: it must be ignored and cleaned.
  ASSERT_TRUE(WriteFileAtomic(dir + "/spool-5.done.tmp.x", "junk").ok());
  std::filesystem::rename(dir + "/spool-5.done.tmp.x", dir + "/spool-5.done.tmp");
  Spool s(dir, 1 << 20);
  ASSERT_TRUE(s.Open().ok());
  EXPECT_EQ(s.files(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/spool-5.done.tmp"));
  auto e = s.Oldest();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*ReadFile(e->path), "first");
  ASSERT_TRUE(s.Remove(*e).ok());
  EXPECT_EQ(*ReadFile(s.Oldest()->path), "second");
  std::filesystem::remove_all(dir);
}

TEST(Spool, CapDropsOldestAndCounts) {
  std::string dir = TempDir();
  Spool s(dir, 25);
  ASSERT_TRUE(s.Open().ok());
  for (int i = 0; i < 5; i++) ASSERT_TRUE(s.Put("0123456789", 1000 + i).ok());
  EXPECT_EQ(s.files(), 2u);
  EXPECT_EQ(s.total_bytes(), 20u);
  EXPECT_EQ(s.dropped_files(), 3u);
  EXPECT_EQ(s.Put(std::string(100, 'x'), 2000).code(), StatusCode::kResourceExhausted);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace coroot::prom
