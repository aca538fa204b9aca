// Arbitrary bytes as an ELF file (sections, symbols, segments, Go build info, RET decoding) and
// as /proc/<pid>/maps: errors are fine, crashes and reads outside the input are not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/tracer/tls/elf_image.h"
#include "agent/tracer/tls/go_binary.h"
#include "agent/tracer/tls/go_pclntab.h"
#include "agent/tracer/tls/tls_targets.h"

using namespace coroot::agent::tracer::tls;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (data == nullptr) bytes = {};
  (void)ParseMappedFiles(bytes);
  auto elf = ElfImage::Parse(bytes);
  if (!elf.ok()) return 0;
  for (const auto& s : elf->sections()) (void)elf->SectionData(s);
  elf->ForEachFunction([&](const ElfSymbol& s) {
    (void)elf->FileOffset(s.value);
    (void)elf->BytesAt(s.value, s.size);
    return true;
  });
  (void)GoBuildVersion(*elf);
  (void)FindGoFunction(*elf, "crypto/tls.(*Conn).Read");
  (void)FindGoTlsProbes(*elf);
  return 0;
}
