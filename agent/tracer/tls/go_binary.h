#pragma once
// What the agent needs from a Go binary to read crypto/tls plaintext: the toolchain version (the
// register ABI the probes rely on arrived in Go 1.17) and where to put the uprobes. A Go function
// cannot get a uretprobe (the runtime moves goroutine stacks, and a patched return address breaks
// it), so the return of (*Conn).Read is caught by uprobes on each of its RET instructions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/tracer/tls/elf_image.h"
#include "lib/base/status.h"

namespace coroot::agent::tracer::tls {

// The version string .go.buildinfo records ("go1.21.5"); nullopt when the file is not a Go binary.
std::optional<std::string> GoBuildVersion(const ElfImage& elf);

// "go1.21.5" → {1, 21}; false for anything else ("devel +abc" included).
bool ParseGoVersion(std::string_view text, int* major, int* minor);

// Virtual addresses of every RET instruction in code (decoded instruction by instruction, so a
// 0xC3 byte inside another instruction is not mistaken for one).
StatusOr<std::vector<uint64_t>> FindReturnInstructions(std::string_view code, uint64_t vaddr);

struct GoTlsProbes {
  std::string go_version;
  uint64_t write_entry = 0;               // file offset of crypto/tls.(*Conn).Write
  uint64_t read_entry = 0;                // file offset of crypto/tls.(*Conn).Read
  std::vector<uint64_t> read_returns;     // file offsets of Read's RET instructions
};

// Functions are found in the symbol table, or in .gopclntab when the binary is stripped. NotFound
// for a binary that is not Go or uses no crypto/tls; InvalidArgument for a Go older than 1.17
// (stack ABI) and for tables that do not hold together.
StatusOr<GoTlsProbes> FindGoTlsProbes(const ElfImage& elf);

}  // namespace coroot::agent::tracer::tls
