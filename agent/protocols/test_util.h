#pragma once
// Test helpers: fixture files and the relay's capture format (see testdata/capture/relay.py).
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace coroot::agent::protocols::testing {

inline std::string Fixture(const std::string& rel) {
  std::ifstream in(std::string(PROTOCOLS_TESTDATA_DIR) + "/" + rel, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Chunk {
  bool from_client = false;
  int connection = 0;
  std::string bytes;
};

// Records: direction '>' / '<', connection index, u32 BE length, bytes. Empty on a malformed file.
inline std::vector<Chunk> ReadCapture(const std::string& rel) {
  std::string d = Fixture(rel);
  std::vector<Chunk> out;
  size_t i = 0;
  while (i + 6 <= d.size()) {
    uint32_t n = (uint32_t(uint8_t(d[i + 2])) << 24) | (uint32_t(uint8_t(d[i + 3])) << 16) |
                 (uint32_t(uint8_t(d[i + 4])) << 8) | uint32_t(uint8_t(d[i + 5]));
    if (i + 6 + n > d.size() || (d[i] != '>' && d[i] != '<')) return {};
    out.push_back({d[i] == '>', uint8_t(d[i + 1]), d.substr(i + 6, n)});
    i += 6 + n;
  }
  if (i != d.size()) return {};
  return out;
}

}  // namespace coroot::agent::protocols::testing
