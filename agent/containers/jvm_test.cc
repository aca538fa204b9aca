// hsperfdata of OpenJDK 17.0.15 captured on this machine (a program holding 32 MiB of arrays,
// -Xmx256m, G1), and corrupted copies of it.
#include "agent/containers/jvm.h"

#include <gtest/gtest.h>

#include <string>

#include "lib/base/file.h"

namespace coroot::agent::containers {
namespace {

std::string Fixture(const std::string& name) {
  auto t = ReadFile(std::string(CONTAINERS_TESTDATA_DIR) + "/" + name);
  EXPECT_TRUE(t.ok()) << name;
  return t.ok() ? *t : "";
}

TEST(JvmTest, CapturedJava17) {
  std::string bytes = Fixture("hsperfdata_java17.bin");
  auto pd = ParseHsperfdata(bytes);
  ASSERT_TRUE(pd.ok()) << pd.status().ToString();
  EXPECT_GT(pd->size(), 100u);
  EXPECT_EQ(std::get<int64_t>(pd->at("sun.os.hrt.frequency")), 1000000000);
  JvmStats s = JvmStatsFrom(*pd);
  EXPECT_EQ(s.jvm, "jdk.compiler/com.sun.tools.javac.launcher.Main Sleep.java");
  EXPECT_EQ(s.java_version, "17.0.15");
  EXPECT_GE(s.heap_used_bytes, 32 << 20);  // the arrays the program keeps
  EXPECT_GE(s.heap_size_bytes, s.heap_used_bytes);
  EXPECT_GE(s.heap_max_size_bytes, 256 << 20);
  ASSERT_EQ(s.gc_seconds.size(), 3u);
  EXPECT_TRUE(s.gc_seconds.count("G1 young collection pauses"));
  EXPECT_TRUE(s.gc_seconds.count("G1 full collection pauses"));  // System.gc() ran one
  EXPECT_GT(s.gc_seconds["G1 full collection pauses"], 0);
  EXPECT_GT(s.safepoint_seconds, 0);
  EXPECT_GE(s.safepoint_seconds, s.safepoint_sync_seconds);
}

TEST(JvmTest, CorruptedFiles) {
  std::string bytes = Fixture("hsperfdata_java17.bin");
  EXPECT_FALSE(ParseHsperfdata(bytes.substr(0, 20)).ok());
  EXPECT_FALSE(ParseHsperfdata(bytes.substr(0, 1000)).ok());  // entries run past the end
  std::string magic = bytes;
  magic[0] = 0;
  EXPECT_FALSE(ParseHsperfdata(magic).ok());
  std::string version = bytes;
  version[5] = 9;
  EXPECT_FALSE(ParseHsperfdata(version).ok());
  std::string len = bytes;  // first entry (at 0x20) claims 4 GiB
  for (int i = 0; i < 4; i++) len[0x20 + i] = '\xff';
  EXPECT_FALSE(ParseHsperfdata(len).ok());
  std::string many = bytes;  // num_entries beyond the bound
  for (int i = 0; i < 4; i++) many[28 + i] = '\x7f';
  EXPECT_FALSE(ParseHsperfdata(many).ok());
  EXPECT_FALSE(ParseHsperfdata("").ok());
}

TEST(JvmTest, IsJvm) {
  using namespace std::string_literals;
  EXPECT_TRUE(IsJvm("java\0-jar\0x.jar\0"s));
  EXPECT_TRUE(IsJvm("/usr/lib/jvm/java-17/bin/java\0"s));
  EXPECT_FALSE(IsJvm("/usr/bin/javac\0"s));
  EXPECT_FALSE(IsJvm(""));
}

}  // namespace
}  // namespace coroot::agent::containers
