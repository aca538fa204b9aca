#include "agent/tracer/tls/tls_instrumenter.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/file.h"
#include "lib/base/log.h"
#include "lib/base/strings.h"

namespace coroot::agent::tracer::tls {
namespace {

// A bound on remembered problems: each distinct file is one entry, and hosts have few of those.
constexpr size_t kMaxProblems = 1000;

}  // namespace

const char* ProgramForSite(TlsLibraryKind kind, const UprobeSite& site) {
  using K = UprobeSite::Kind;
  if (kind == TlsLibraryKind::kGo) {
    if (site.function == "crypto/tls.(*Conn).Write" && site.kind == K::kEntry) return "coroot_go_tls_write_enter";
    if (site.function == "crypto/tls.(*Conn).Read" && site.kind == K::kEntry) return "coroot_go_tls_read_enter";
    if (site.function == "crypto/tls.(*Conn).Read" && site.kind == K::kReturnSite) return "coroot_go_tls_read_exit";
    return nullptr;
  }
  // SSL_write and SSL_write_ex take (ssl, buf, num) alike; the reads differ in how they return
  // the length (the return value, or *readbytes).
  const bool write = site.function == "SSL_write" || site.function == "SSL_write_ex";
  if (write && site.kind == K::kEntry) return "coroot_openssl_write_enter";
  if (write && site.kind == K::kReturn) return "coroot_openssl_write_exit";
  if (site.function == "SSL_read" && site.kind == K::kEntry) return "coroot_openssl_read_enter";
  if (site.function == "SSL_read" && site.kind == K::kReturn) return "coroot_openssl_read_exit";
  if (site.function == "SSL_read_ex" && site.kind == K::kEntry) return "coroot_openssl_read_ex_enter";
  if (site.function == "SSL_read_ex" && site.kind == K::kReturn) return "coroot_openssl_read_ex_exit";
  return nullptr;
}

TlsInstrumenter::TlsInstrumenter(IUprobeAttacher* attacher, TlsInstrumenterOptions options)
    : attacher_(attacher), options_(std::move(options)) {}

void TlsInstrumenter::OnProcess(pid_t pid) {
  candidates_.try_emplace(pid, Candidate{Clock::time_point::min(), options_.looks_per_process});
}

std::optional<std::chrono::seconds> TlsInstrumenter::Age(pid_t pid) const {
  auto stat = ReadFile(options_.proc_root + "/" + std::to_string(pid) + "/stat", 4096);
  if (!stat.ok()) return std::nullopt;
  // Field 22 (starttime, clock ticks since boot) counted after the ")" that ends comm.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<std::string> f = SplitAny(std::string_view(*stat).substr(close + 1), " ");
  uint64_t start_ticks = 0;
  if (f.size() < 20 || !ParseUint64(f[19], &start_ticks)) return std::nullopt;
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  const long hz = sysconf(_SC_CLK_TCK);
  const int64_t age = ts.tv_sec - static_cast<int64_t>(start_ticks / hz);
  return std::chrono::seconds(age < 0 ? 0 : age);
}

void TlsInstrumenter::Poll(Clock::time_point now) {
  for (auto it = candidates_.begin(); it != candidates_.end();) {
    Candidate& c = it->second;
    if (now < c.next) {
      ++it;
      continue;
    }
    auto age = Age(it->first);
    if (!age) {  // gone
      it = candidates_.erase(it);
      continue;
    }
    if (*age < options_.delay) {
      c.next = now + (options_.delay - *age);
      ++it;
      continue;
    }
    Inspect(it->first);
    c.next = now + options_.retry_interval;
    if (--c.looks_left <= 0) {
      it = candidates_.erase(it);
      continue;
    }
    ++it;
  }
}

void TlsInstrumenter::Inspect(pid_t pid) {
  ++stats_.processes_inspected;
  const std::string dir = options_.proc_root + "/" + std::to_string(pid);
  InspectFile(dir + "/exe", false);
  auto maps = ReadFile(dir + "/maps");
  if (!maps.ok()) return;
  for (const MappedFileRef& m : ParseMappedFiles(*maps))
    if (IsLibsslPath(m.path)) InspectFile(dir + "/root" + m.path, true);  // through the process's root
}

void TlsInstrumenter::InspectFile(const std::string& path, bool libssl_only) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return;
  if (!files_done_.insert({st.st_dev, st.st_ino}).second) return;
  auto note_problem = [&](const std::string& why) {
    if (problems_.size() < kMaxProblems) problems_[path] = why;
  };
  auto targets = TlsTargetsInFile(path);
  if (!targets.ok()) {
    ++stats_.files_skipped;
    // Most executables have no TLS at all: not worth a log line.
    if (targets.status().code() != StatusCode::kNotFound || libssl_only) {
      note_problem(targets.status().message());
      LOG(INFO) << "TLS probes: " << targets.status().message();
    }
    return;
  }
  for (const TlsTarget& t : *targets) {
    if (libssl_only && t.kind != TlsLibraryKind::kOpenSsl) continue;
    size_t failed = 0;
    for (const UprobeSite& site : t.sites) {
      const char* program = ProgramForSite(t.kind, site);
      if (program == nullptr) continue;
      Status s = attacher_->Attach(program, path, site.offset, site.kind == UprobeSite::Kind::kReturn);
      if (s.ok()) {
        ++stats_.probes_attached;
      } else {
        ++failed;
        ++stats_.attach_errors;
        note_problem(site.function + ": " + s.message());
      }
    }
    if (failed == 0) ++stats_.files_attached;
    LOG(INFO) << "TLS probes: " << (t.kind == TlsLibraryKind::kGo ? "Go " : "OpenSSL ") << t.version << " in " << path
             << ": " << (t.sites.size() - failed) << " of " << t.sites.size() << " probes attached";
  }
}

}  // namespace coroot::agent::tracer::tls
