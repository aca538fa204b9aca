#pragma once
// Go functions by name from .gopclntab, the runtime's own function table: it stays in binaries
// stripped of their symbol table (`-ldflags=-s -w`, the default of many release builds), where
// .symtab lookups find nothing. Layouts of Go 1.18 and later (pclntab magic 0xfffffff0/1).
#include <optional>
#include <string_view>

#include "agent/tracer/tls/elf_image.h"

namespace coroot::agent::tracer::tls {

// The function's address and size (up to the next function); nullopt when the binary has no
// readable table or no such function.
std::optional<ElfSymbol> FindGoFunction(const ElfImage& elf, std::string_view name);

}  // namespace coroot::agent::tracer::tls
