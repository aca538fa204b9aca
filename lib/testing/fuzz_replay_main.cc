// Runs every file of the given corpus folders (or single files) through a libFuzzer entry point
// once, so CI exercises each fuzz target without a fuzzing engine.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void RunFile(const std::filesystem::path& p, int* count) {
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  (*count)++;
}

int main(int argc, char** argv) {
  int count = 0;
  for (int i = 1; i < argc; i++) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) RunFile(e.path(), &count);
    } else if (std::filesystem::exists(p)) {
      RunFile(p, &count);
    }
  }
  // Also the empty input and a few edge shapes, which corpora often lack.
  LLVMFuzzerTestOneInput(nullptr, 0);
  const uint8_t edge[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00};
  for (size_t n = 1; n <= sizeof edge; n++) LLVMFuzzerTestOneInput(edge, n);
  std::printf("replayed %d inputs without a crash\n", count);
  return count > 0 ? 0 : 1;
}
