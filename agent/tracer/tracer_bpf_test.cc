// placeholder, written next
#include <gtest/gtest.h>
TEST(TracerBpf, Placeholder) {}
