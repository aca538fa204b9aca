#include "agent/tracer/tls/go_pclntab.h"

#include <cstring>

namespace coroot::agent::tracer::tls {
namespace {

constexpr uint32_t kMagicGo118 = 0xfffffff0, kMagicGo120 = 0xfffffff1;
// pcHeader of a 64-bit binary: magic, pad, pad, minLC, ptrSize, then 8-byte words.
constexpr size_t kNfunc = 8, kTextStart = 24, kFuncnameOffset = 32, kPclnOffset = 64, kHeaderSize = 72;

bool Read32(std::string_view d, uint64_t off, uint32_t* v) {
  if (off > d.size() || d.size() - off < 4) return false;
  std::memcpy(v, d.data() + off, 4);
  return true;
}
bool Read64(std::string_view d, uint64_t off, uint64_t* v) {
  if (off > d.size() || d.size() - off < 8) return false;
  std::memcpy(v, d.data() + off, 8);
  return true;
}

}  // namespace

std::optional<ElfSymbol> FindGoFunction(const ElfImage& elf, std::string_view name) {
  const ElfSection* s = elf.FindSection(".gopclntab");
  if (s == nullptr) return std::nullopt;
  std::string_view d = elf.SectionData(*s);
  uint32_t magic = 0;
  if (d.size() < kHeaderSize || !Read32(d, 0, &magic) || (magic != kMagicGo118 && magic != kMagicGo120) ||
      static_cast<uint8_t>(d[7]) != 8)
    return std::nullopt;
  uint64_t nfunc = 0, text = 0, names = 0, functab = 0;
  Read64(d, kNfunc, &nfunc);
  Read64(d, kTextStart, &text);
  Read64(d, kFuncnameOffset, &names);
  Read64(d, kPclnOffset, &functab);
  // Go 1.26 no longer stores the text start here; functions are relative to the start of .text.
  if (text == 0) {
    const ElfSection* t = elf.FindSection(".text");
    if (t == nullptr) return std::nullopt;
    text = t->addr;
  }
  // nfunc + 1 entries (the last one marks the end of the last function) must fit.
  if (functab > d.size() || nfunc > (d.size() - functab) / 8 - 1) return std::nullopt;
  for (uint64_t i = 0; i < nfunc; ++i) {
    uint32_t entry = 0, funcoff = 0, next = 0, name_off = 0;
    if (!Read32(d, functab + i * 8, &entry) || !Read32(d, functab + i * 8 + 4, &funcoff) ||
        !Read32(d, functab + (i + 1) * 8, &next))
      return std::nullopt;
    // _func: entryOff uint32, nameOff int32 (into funcnametab).
    if (!Read32(d, functab + funcoff + 4, &name_off)) continue;
    uint64_t at = names + name_off;
    if (at >= d.size() || d.size() - at < name.size() + 1) continue;
    if (d.compare(at, name.size(), name) != 0 || d[at + name.size()] != '\0') continue;
    if (next < entry) return std::nullopt;
    return ElfSymbol{name, text + entry, next - entry};
  }
  return std::nullopt;
}

}  // namespace coroot::agent::tracer::tls
