#pragma once
// Fixture text from lib/cgroup/testdata/.
#include <gtest/gtest.h>

#include <string>

#include "lib/base/file.h"

namespace coroot::cgroup {

inline std::string Fixture(const std::string& name) {
  StatusOr<std::string> text = ReadFile(std::string(CGROUP_TESTDATA_DIR) + "/" + name);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : std::string();
}

}  // namespace coroot::cgroup
