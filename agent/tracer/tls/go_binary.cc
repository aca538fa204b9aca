#include "agent/tracer/tls/go_binary.h"

#include <capstone/capstone.h>

#include "agent/tracer/tls/go_pclntab.h"

#include <charconv>
#include <cstring>

namespace coroot::agent::tracer::tls {
namespace {

constexpr std::string_view kBuildInfoMagic("\xff Go buildinf:", 14);
constexpr uint64_t kMaxVersionLength = 128;
// Bounds the work on a hostile symbol table: no real function in crypto/tls is this large.
constexpr uint64_t kMaxFunctionBytes = 1 << 20;

uint64_t ReadLE(std::string_view b, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(static_cast<uint8_t>(b[i])) << (8 * i);
  return v;
}

}  // namespace

std::optional<std::string> GoBuildVersion(const ElfImage& elf) {
  const ElfSection* s = elf.FindSection(".go.buildinfo");
  if (s == nullptr) return std::nullopt;
  std::string_view d = elf.SectionData(*s);
  if (d.size() < 32 || d.substr(0, kBuildInfoMagic.size()) != kBuildInfoMagic) return std::nullopt;
  size_t ptr_size = static_cast<uint8_t>(d[14]);
  uint8_t flags = static_cast<uint8_t>(d[15]);
  if (flags & 0x2) {
    // Go ≥ 1.18: the version is inline at offset 32 as a uvarint length and the bytes.
    uint64_t len = 0;
    size_t pos = 32;
    for (int shift = 0; pos < d.size() && shift < 64; shift += 7) {
      uint8_t c = static_cast<uint8_t>(d[pos++]);
      len |= uint64_t(c & 0x7f) << shift;
      if (!(c & 0x80)) break;
    }
    if (len == 0 || len > kMaxVersionLength || len > d.size() - pos) return std::nullopt;
    return std::string(d.substr(pos, len));
  }
  // Older Go: offset 16 holds a pointer to a Go string header {data pointer, length}.
  if (ptr_size != 8 && ptr_size != 4) return std::nullopt;
  uint64_t header_addr = ReadLE(d.substr(16), ptr_size);
  std::string_view header = elf.BytesAt(header_addr, 2 * ptr_size);
  if (header.empty()) return std::nullopt;
  uint64_t data = ReadLE(header, ptr_size), len = ReadLE(header.substr(ptr_size), ptr_size);
  if (len == 0 || len > kMaxVersionLength) return std::nullopt;
  std::string_view text = elf.BytesAt(data, len);
  if (text.empty()) return std::nullopt;
  return std::string(text);
}

bool ParseGoVersion(std::string_view text, int* major, int* minor) {
  if (text.substr(0, 2) != "go") return false;
  text.remove_prefix(2);
  const char* end = text.data() + text.size();
  auto r = std::from_chars(text.data(), end, *major);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return false;
  r = std::from_chars(r.ptr + 1, end, *minor);
  return r.ec == std::errc();
}

StatusOr<std::vector<uint64_t>> FindReturnInstructions(std::string_view code, uint64_t vaddr) {
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return Internal("capstone: cannot open an x86-64 decoder");
  cs_insn* insn = cs_malloc(handle);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(code.data());
  size_t left = code.size();
  uint64_t addr = vaddr;
  std::vector<uint64_t> rets;
  while (left > 0) {
    if (!cs_disasm_iter(handle, &p, &left, &addr, insn)) {
      // An undecodable byte (padding or data): step over it rather than guess at what follows.
      ++p;
      --left;
      ++addr;
      continue;
    }
    if (insn->id == X86_INS_RET) rets.push_back(insn->address);
  }
  cs_free(insn, 1);
  cs_close(&handle);
  return rets;
}

StatusOr<GoTlsProbes> FindGoTlsProbes(const ElfImage& elf) {
  std::optional<std::string> version = GoBuildVersion(elf);
  if (!version) return NotFound("not a Go binary (no .go.buildinfo)");
  GoTlsProbes out;
  out.go_version = *version;
  int major = 0, minor = 0;
  if (ParseGoVersion(*version, &major, &minor) && (major < 1 || (major == 1 && minor < 17)))
    return InvalidArgument(*version + " predates the register ABI (Go 1.17) the TLS probes read arguments by");

  // The symbol table first; the runtime's function table when the binary was stripped of it.
  auto find = [&](std::string_view name) {
    std::optional<ElfSymbol> s = elf.FindFunction(name);
    return s ? s : FindGoFunction(elf, name);
  };
  std::optional<ElfSymbol> write = find("crypto/tls.(*Conn).Write");
  std::optional<ElfSymbol> read = find("crypto/tls.(*Conn).Read");
  if (!write || !read) return NotFound("no crypto/tls.(*Conn).Write/Read (the program does not use crypto/tls)");
  auto write_off = elf.FileOffset(write->value), read_off = elf.FileOffset(read->value);
  if (!write_off || !read_off) return InvalidArgument("crypto/tls symbols outside every loaded segment");
  out.write_entry = *write_off;
  out.read_entry = *read_off;

  if (read->size == 0 || read->size > kMaxFunctionBytes) return InvalidArgument("implausible size of crypto/tls.(*Conn).Read");
  std::string_view code = elf.BytesAt(read->value, read->size);
  if (code.empty()) return InvalidArgument("crypto/tls.(*Conn).Read's code is outside the file");
  ASSIGN_OR_RETURN(std::vector<uint64_t> rets, FindReturnInstructions(code, read->value));
  if (rets.empty()) return InvalidArgument("no RET instruction in crypto/tls.(*Conn).Read");
  for (uint64_t r : rets) out.read_returns.push_back(*elf.FileOffset(r));
  return out;
}

}  // namespace coroot::agent::tracer::tls
