#pragma once
// Which files of a process carry TLS code the agent can probe, and where: OpenSSL's libssl (shared,
// or linked into the executable) and Go's crypto/tls. A file is probed once however many processes
// map it, so targets are identified by (device, inode) of the file, not by path.
#include <sys/types.h>

#include <cstdint>
#include <set>
#include <tuple>
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

// File-backed mappings of /proc/<pid>/maps, once each; malformed and deleted entries are skipped.
std::vector<MappedFileRef> ParseMappedFiles(std::string_view maps, size_t* malformed = nullptr);

// Probe sites in one ELF file: OpenSSL's SSL_write/SSL_read(+_ex) and Go's crypto/tls. NotFound
// when the file has neither.
StatusOr<std::vector<TlsTarget>> TlsTargetsInFile(const std::string& path);

// Every TLS target of a process: its executable and the libssl files it has mapped.
StatusOr<std::vector<TlsTarget>> DiscoverTlsTargets(const std::string& proc_root, pid_t pid);

// Remembers which files were already handed out for probing, so each is attached once.
class TlsTargetSet {
 public:
  // The targets of `found` not seen before; they count as seen from now on.
  std::vector<TlsTarget> TakeNew(std::vector<TlsTarget> found);
  size_t size() const { return seen_.size(); }

 private:
  std::set<std::tuple<uint64_t, uint64_t, TlsLibraryKind>> seen_;  // dev, inode, kind
};

}  // namespace coroot::agent::tracer::tls
