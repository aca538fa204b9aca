#include "agent/containers/mounts.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::containers {

namespace {

constexpr size_t kMaxMounts = 4096;

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Basename(std::string_view p) {
  size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

}  // namespace

std::vector<Mount> ParseMountinfo(std::string_view text, int* skipped) {
  std::vector<Mount> out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " ");
    if (f.empty()) continue;
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); i++)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (f.size() < 7 || dash == 0 || dash + 1 >= f.size() || f[2].find(':') == std::string::npos || f[4].empty() ||
        f[4][0] != '/') {
      if (skipped) (*skipped)++;
      continue;
    }
    if (out.size() >= kMaxMounts) break;
    out.push_back({f[2], Unescape(f[3]), Unescape(f[4]), f[dash + 1]});
  }
  return out;
}

StatusOr<BlockDevice> ResolveBlockDevice(const std::string& sys_root, const std::string& mm) {
  std::string dir = sys_root + "/dev/block/" + mm;
  char buf[4096];
  ssize_t n = readlink(dir.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return NotFound("not a block device: " + mm);
  std::string link(buf, static_cast<size_t>(n));
  BlockDevice d;
  d.major_minor = mm;
  d.disk_major_minor = mm;
  d.name = Basename(link);
  if (access((dir + "/partition").c_str(), F_OK) == 0) {
    // .../block/vda/vda1 → the disk is the parent directory.
    std::string parent = link.substr(0, link.rfind('/'));
    d.name = Basename(parent);
    if (StatusOr<std::string> dev = ReadFile(dir + "/../dev", 64); dev.ok()) d.disk_major_minor = Trim(*dev);
  }
  return d;
}

StatusOr<FsUsage> StatFs(const std::string& path) {
  struct statvfs s {};
  if (statvfs(path.c_str(), &s) != 0) return ErrnoStatus("statvfs " + path, errno);
  FsUsage u;
  uint64_t bs = s.f_frsize ? s.f_frsize : s.f_bsize;
  u.size_bytes = static_cast<uint64_t>(s.f_blocks) * bs;
  u.used_bytes = static_cast<uint64_t>(s.f_blocks - s.f_bfree) * bs;
  u.reserved_bytes = static_cast<uint64_t>(s.f_bfree - s.f_bavail) * bs;
  return u;
}

}  // namespace coroot::agent::containers
