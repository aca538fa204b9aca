#include "lib/base/strings.h"

#include <gtest/gtest.h>

namespace coroot {
namespace {

TEST(Strings, SplitKeepsEmptyFields) {
  EXPECT_EQ(Split("a::b", ':'), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(SplitAny("  cpu  1 2 ", " "), (std::vector<std::string>{"cpu", "1", "2"}));
}

TEST(Strings, ParseUint64RejectsOverflowAndJunk) {
  uint64_t v = 0;
  EXPECT_TRUE(ParseUint64("18446744073709551615", &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(ParseUint64("18446744073709551616", &v));
  EXPECT_FALSE(ParseUint64("12a", &v));
  EXPECT_FALSE(ParseUint64("", &v));
}

TEST(Strings, NextLineWalksLinesWithoutTheNewline) {
  std::vector<std::string> got;
  std::string_view line;
  for (size_t pos = 0; NextLine("a\n\nbc\nd", &pos, &line);) got.emplace_back(line);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "", "bc", "d"}));
  got.clear();
  for (size_t pos = 0; NextLine("x\n", &pos, &line);) got.emplace_back(line);
  EXPECT_EQ(got, (std::vector<std::string>{"x"}));  // no empty line after the last newline
  size_t pos = 0;
  EXPECT_FALSE(NextLine("", &pos, &line));
}

TEST(Strings, JsonEscape) {
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
  EXPECT_EQ(HexEncode(std::string("\x00\xff", 2)), "00ff");
}

}  // namespace
}  // namespace coroot
