#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/cgroupfs.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/cgroup/proc_cgroup.h"

namespace coroot::cgroup {

namespace {
constexpr size_t kMaxKeys = 256;
constexpr size_t kMaxStatFileBytes = 1 << 20;
}  // namespace

std::string CgroupFs::V1(std::string_view controller, std::string_view path) const {
  return CleanPath(root + "/" + std::string(controller) + "/" + std::string(path));
}

std::string CgroupFs::V2(std::string_view path) const { return CleanPath(v2_root + "/" + std::string(path)); }

CgroupFs DetectCgroupFs(const std::string& root, std::string_view mountinfo) {
  CgroupFs fs;
  fs.root = root;
  fs.v2_root = root;
  const std::string unified = CleanPath(root + "/unified");
  for (const std::string& line : Split(mountinfo, '\n')) {
    // "<id> <parent> <maj:min> <root> <mount point> <opts> ... - <fstype> <source> <super opts>"
    std::vector<std::string> f = SplitAny(line, " ");
    if (f.size() < 5) continue;
    size_t dash = 0;
    for (size_t i = 5; i < f.size(); i++)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 1 >= f.size() || f[dash + 1] != "cgroup2") continue;
    if (f[4] == unified) fs.v2_root = unified;
  }
  return fs;
}

CgroupFs DetectCgroupFs(const std::string& root) {
  StatusOr<std::string> mi = ReadFile("/proc/self/mountinfo", 4 << 20);
  return DetectCgroupFs(root, mi.ok() ? std::string_view(*mi) : std::string_view());
}

std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text, int* skipped) {
  std::map<std::string, uint64_t> out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t");
    if (f.empty()) continue;
    uint64_t v = 0;
    if (f.size() != 2 || !ParseUint64(f[1], &v) || out.size() >= kMaxKeys) {
      if (skipped) (*skipped)++;
      continue;
    }
    out[f[0]] = v;
  }
  return out;
}

StatusOr<std::map<std::string, uint64_t>> ReadFlatKeyed(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(path, kMaxStatFileBytes));
  return ParseFlatKeyed(text);
}

StatusOr<int64_t> ParseSingleInt(std::string_view text) {
  std::string t = Trim(text);
  bool neg = !t.empty() && t[0] == '-';
  uint64_t v = 0;
  if (!ParseUint64(std::string_view(t).substr(neg ? 1 : 0), &v) || v > static_cast<uint64_t>(INT64_MAX))
    return InvalidArgument("not an integer: \"" + t.substr(0, 64) + "\"");
  return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

StatusOr<int64_t> ReadSingleInt(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(path, 4096));
  StatusOr<int64_t> v = ParseSingleInt(text);
  if (!v.ok()) return v.status().WithContext(path);
  return v;
}

}  // namespace coroot::cgroup
