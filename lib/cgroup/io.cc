#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/io.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::cgroup {

namespace {

constexpr size_t kMaxDevices = 256;

bool IsMajorMinor(std::string_view s) {
  size_t colon = s.find(':');
  uint64_t v = 0;
  return colon != std::string_view::npos && ParseUint64(s.substr(0, colon), &v) && ParseUint64(s.substr(colon + 1), &v);
}

IoStat* Slot(IoStats* out, const std::string& dev) {
  auto it = out->find(dev);
  if (it != out->end()) return &it->second;
  if (out->size() >= kMaxDevices) return nullptr;
  return &(*out)[dev];
}

void ParseBlkioFile(std::string_view text, bool bytes, IoStats* out, int* skipped) {
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t");
    if (f.empty() || (f.size() == 2 && f[0] == "Total")) continue;
    uint64_t v = 0;
    if (f.size() != 3 || !IsMajorMinor(f[0]) || !ParseUint64(f[2], &v)) {
      if (skipped) (*skipped)++;
      continue;
    }
    IoStat* s = Slot(out, f[0]);
    if (s == nullptr) continue;
    if (f[1] == "Read") (bytes ? s->read_bytes : s->reads) = v;
    if (f[1] == "Write") (bytes ? s->written_bytes : s->writes) = v;
  }
}

}  // namespace

IoStats ParseBlkio(std::string_view serviced, std::string_view service_bytes, int* skipped) {
  IoStats out;
  ParseBlkioFile(serviced, false, &out, skipped);
  ParseBlkioFile(service_bytes, true, &out, skipped);
  return out;
}

IoStats ParseIoStat(std::string_view text, int* skipped) {
  IoStats out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t");
    if (f.empty()) continue;
    if (!IsMajorMinor(f[0])) {
      if (skipped) (*skipped)++;
      continue;
    }
    IoStat s;
    for (size_t i = 1; i < f.size(); i++) {
      size_t eq = f[i].find('=');
      uint64_t v = 0;
      if (eq == std::string::npos || !ParseUint64(std::string_view(f[i]).substr(eq + 1), &v)) continue;
      std::string_view k = std::string_view(f[i]).substr(0, eq);
      if (k == "rbytes") s.read_bytes = v;
      else if (k == "wbytes") s.written_bytes = v;
      else if (k == "rios") s.reads = v;
      else if (k == "wios") s.writes = v;
    }
    if (IoStat* slot = Slot(&out, f[0])) *slot = s;
  }
  return out;
}

StatusOr<IoStats> ReadIoStat(const CgroupDirs& d) {
  if (!d.blkio.empty()) {
    ASSIGN_OR_RETURN(std::string ops, ReadCgroupFile(d.blkio + "/blkio.throttle.io_serviced", 1 << 20));
    ASSIGN_OR_RETURN(std::string bytes, ReadCgroupFile(d.blkio + "/blkio.throttle.io_service_bytes", 1 << 20));
    return ParseBlkio(ops, bytes);
  }
  if (d.v2.empty()) return NotFound("no io cgroup");
  ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(d.v2 + "/io.stat", 1 << 20));
  return ParseIoStat(text);
}

StatusOr<IoStats> ReadIoStat(const CgroupFs& fs, const ProcCgroup& cg) { return ReadIoStat(DirsOf(fs, cg)); }

}  // namespace coroot::cgroup
