#pragma once
// Which files carry TLS code the agent can probe, and where: OpenSSL's libssl (shared, or linked
// into an executable) and Go's crypto/tls. Targets carry the file's (device, inode) because a file
// is probed once however many processes map it (tls_instrumenter.h decides when and which).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::tracer::tls {

enum class TlsLibraryKind { kOpenSsl, kGo };

struct UprobeSite {
  enum class Kind {
    kEntry,       // uprobe at the function's first instruction
    kReturn,      // uretprobe (C functions only)
    kReturnSite,  // uprobe on one RET instruction (Go functions, which cannot take a uretprobe)
  };
  std::string function;  // e.g. "SSL_read_ex", "crypto/tls.(*Conn).Read"
  Kind kind = Kind::kEntry;
  uint64_t offset = 0;   // file offset
};

struct TlsTarget {
  TlsLibraryKind kind = TlsLibraryKind::kOpenSsl;
  std::string path;       // openable by the agent: /proc/<pid>/root/... or /proc/<pid>/exe
  uint64_t dev = 0, inode = 0;
  std::string version;    // "go1.21.5"; for OpenSSL the soname's version ("3", "1.1")
  std::vector<UprobeSite> sites;
};

struct MappedFileRef {
  std::string path;  // in the process's mount namespace
  uint64_t dev = 0, inode = 0;
};

// Whether a path names OpenSSL's libssl ("libssl.so", "libssl.so.3", ...).
bool IsLibsslPath(std::string_view path);

// File-backed mappings of /proc/<pid>/maps, once each; malformed and deleted entries are skipped.
std::vector<MappedFileRef> ParseMappedFiles(std::string_view maps, size_t* malformed = nullptr);

// Probe sites in one ELF file: OpenSSL's SSL_write/SSL_read(+_ex) and Go's crypto/tls. NotFound
// when the file has neither.
StatusOr<std::vector<TlsTarget>> TlsTargetsInFile(const std::string& path);

}  // namespace coroot::agent::tracer::tls
