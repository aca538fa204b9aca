#include "agent/tracer/tls/tls_targets.h"

#include <sys/sysmacros.h>

#include <charconv>
#include <set>

#include "agent/tracer/tls/elf_image.h"
#include "agent/tracer/tls/go_binary.h"
#include "lib/base/strings.h"

namespace coroot::agent::tracer::tls {
namespace {

// OpenSSL's plaintext entry points; the _ex variants are what BIO-based code (openssl s_server,
// newer applications) calls.
// Each gets an entry probe and a return probe: a read learns the plaintext length only when it
// returns, and a write's return ends the window in which its inner syscall names the socket.
constexpr const char* kOpenSslFunctions[] = {"SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex"};

std::string_view NextField(std::string_view* line) {
  size_t start = line->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *line = {};
    return {};
  }
  line->remove_prefix(start);
  size_t end = line->find(' ');
  std::string_view f = line->substr(0, end);
  line->remove_prefix(end == std::string_view::npos ? line->size() : end);
  return f;
}

bool ParseHex(std::string_view s, uint64_t* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string_view BaseName(std::string_view path) { return path.substr(path.rfind('/') + 1); }

// "libssl.so.3" → "3"; empty when the name is not libssl's or carries no version.
std::string LibsslVersion(std::string_view path) {
  if (!IsLibsslPath(path)) return "";
  std::string_view base = BaseName(path);
  base.remove_prefix(9);
  if (!base.empty() && base[0] == '.') base.remove_prefix(1);
  return std::string(base);
}

}  // namespace

bool IsLibsslPath(std::string_view path) { return BaseName(path).substr(0, 9) == "libssl.so"; }

std::vector<MappedFileRef> ParseMappedFiles(std::string_view maps, size_t* malformed) {
  std::vector<MappedFileRef> out;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (const std::string& line : Split(maps, '\n')) {
    // address perms offset dev inode path
    std::string_view rest = line;
    NextField(&rest);
    NextField(&rest);
    NextField(&rest);
    std::string_view dev = NextField(&rest), inode_text = NextField(&rest);
    size_t start = rest.find_first_not_of(' ');
    std::string_view path = start == std::string_view::npos ? std::string_view{} : rest.substr(start);
    if (path.empty() || path[0] != '/') continue;  // anonymous, [heap], [vdso], ...
    if (EndsWith(path, " (deleted)")) continue;
    size_t colon = dev.find(':');
    uint64_t major = 0, minor = 0, inode = 0;
    auto ir = std::from_chars(inode_text.data(), inode_text.data() + inode_text.size(), inode);
    if (colon == std::string_view::npos || !ParseHex(dev.substr(0, colon), &major) ||
        !ParseHex(dev.substr(colon + 1), &minor) || ir.ec != std::errc() ||
        ir.ptr != inode_text.data() + inode_text.size() || inode == 0) {
      if (malformed) ++*malformed;
      continue;
    }
    uint64_t d = makedev(major, minor);
    if (!seen.insert({d, inode}).second) continue;
    out.push_back({std::string(path), d, inode});
  }
  return out;
}

StatusOr<std::vector<TlsTarget>> TlsTargetsInFile(const std::string& path) {
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  auto elf = ElfImage::Parse(file.bytes());
  if (!elf.ok()) return InvalidArgument(path + ": " + elf.status().message());
  std::vector<TlsTarget> out;

  TlsTarget ssl{TlsLibraryKind::kOpenSsl, path, file.dev(), file.inode(), LibsslVersion(path), {}};
  for (const char* name : kOpenSslFunctions) {
    auto sym = elf->FindFunction(name);
    if (!sym) continue;
    auto off = elf->FileOffset(sym->value);
    if (!off) continue;
    ssl.sites.push_back({name, UprobeSite::Kind::kEntry, *off});
    ssl.sites.push_back({name, UprobeSite::Kind::kReturn, *off});
  }
  if (!ssl.sites.empty()) out.push_back(std::move(ssl));

  auto go = FindGoTlsProbes(*elf);
  if (go.ok()) {
    TlsTarget t{TlsLibraryKind::kGo, path, file.dev(), file.inode(), go->go_version, {}};
    t.sites.push_back({"crypto/tls.(*Conn).Write", UprobeSite::Kind::kEntry, go->write_entry});
    t.sites.push_back({"crypto/tls.(*Conn).Read", UprobeSite::Kind::kEntry, go->read_entry});
    for (uint64_t r : go->read_returns) t.sites.push_back({"crypto/tls.(*Conn).Read", UprobeSite::Kind::kReturnSite, r});
    out.push_back(std::move(t));
  } else if (go.status().code() != StatusCode::kNotFound) {
    return InvalidArgument(path + ": " + go.status().message());
  }
  if (out.empty()) return NotFound(path + " has no OpenSSL or Go crypto/tls functions");
  return out;
}

}  // namespace coroot::agent::tracer::tls
