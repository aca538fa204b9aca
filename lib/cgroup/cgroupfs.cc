#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/cgroupfs.h"

#include <algorithm>

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

CgroupDirs DirsOf(const CgroupFs& fs, const ProcCgroup& cg) {
  CgroupDirs d;
  auto v1 = [&](const char* controller, std::string* dir) {
    if (auto it = cg.paths.find(controller); it != cg.paths.end() && !it->second.empty())
      *dir = fs.V1(controller, it->second);
  };
  v1("cpu", &d.cpu);
  v1("cpuacct", &d.cpuacct);
  v1("memory", &d.memory);
  v1("blkio", &d.blkio);
  if (auto it = cg.paths.find(""); it != cg.paths.end() && !it->second.empty()) d.v2 = fs.V2(it->second);
  return d;
}

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

namespace {

// fn(line) for each '\n'-separated line, the last one (after the final '\n') too.
template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    fn(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

// Calls fn(key, value) for each valid "key value" line in order and returns the number of invalid
// ones. A line is split on spaces and tabs into exactly two fields, the second an unsigned integer.
template <typename Fn>
int ForEachFlatKeyed(std::string_view text, Fn fn) {
  int skipped = 0;
  ForEachLine(text, [&](std::string_view line) {
    std::string_view f[3];
    size_t nf = 0, i = 0;
    while (i < line.size() && nf < 3) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
      size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') i++;
      if (i > start) f[nf++] = line.substr(start, i - start);
    }
    if (nf == 0) return;
    uint64_t v = 0;
    if (nf != 2 || !ParseUint64(f[1], &v)) {
      skipped++;
      return;
    }
    if (!fn(f[0], v)) skipped++;
  });
  return skipped;
}

}  // namespace

std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text, int* skipped) {
  std::map<std::string, uint64_t> out;
  int bad = ForEachFlatKeyed(text, [&out](std::string_view k, uint64_t v) {
    if (out.size() >= kMaxKeys) return false;
    out[std::string(k)] = v;
    return true;
  });
  if (skipped) *skipped += bad;
  return out;
}

void LookupFlatKeyed(std::string_view text, FlatKey* keys, size_t n) {
  // With fewer lines than kMaxKeys the map's bound cannot bite, so only the lines of wanted keys
  // need splitting and parsing (memory.stat has ~40 lines and 2-3 are wanted, every gather).
  if (static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) < kMaxKeys) {
    ForEachLine(text, [&](std::string_view line) {
      size_t start = 0;
      while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) start++;
      size_t end = start;
      while (end < line.size() && line[end] != ' ' && line[end] != '\t') end++;
      std::string_view key = line.substr(start, end - start);
      for (size_t i = 0; i < n; i++) {
        if (keys[i].key != key) continue;
        ForEachFlatKeyed(line, [&](std::string_view, uint64_t v) {  // the whole line's checks
          keys[i].value = v;  // the last line wins, as in the map
          keys[i].found = true;
          return true;
        });
      }
    });
    return;
  }
  // The map keeps the first kMaxKeys distinct keys; the kernel's files repeat no key, so counting
  // valid lines is the same bound.
  size_t valid = 0;
  ForEachFlatKeyed(text, [&](std::string_view k, uint64_t v) {
    if (valid >= kMaxKeys) return false;
    valid++;
    for (size_t i = 0; i < n; i++)
      if (keys[i].key == k) {
        keys[i].value = v;  // the last line wins, as in the map
        keys[i].found = true;
      }
    return true;
  });
}

Status ReadFlatKeyed(const std::string& path, FlatKey* keys, size_t n) {
  ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(path, kMaxStatFileBytes));
  LookupFlatKeyed(text, keys, n);
  return Status();
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

StatusOr<int64_t> ReadSingleIntUntilWritten(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadCgroupFileUntilWritten(path, 4096));
  StatusOr<int64_t> v = ParseSingleInt(text);
  if (!v.ok()) return v.status().WithContext(path);
  return v;
}

}  // namespace coroot::cgroup
