#include "agent/containers/jvm.h"

#include <dirent.h>
#include <unistd.h>

#include <cstring>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::containers {

namespace {

constexpr size_t kPrologue = 32, kEntryHeader = 20, kMaxEntries = 16384;

struct Reader {
  std::string_view b;
  bool little;
  bool U32(size_t off, uint32_t* v) const {
    if (off > b.size() || b.size() - off < 4) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(b.data() + off);
    *v = little ? (p[0] | p[1] << 8 | p[2] << 16 | uint32_t{p[3]} << 24)
                : (uint32_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3]);
    return true;
  }
  bool I64(size_t off, int64_t* v) const {
    uint32_t lo = 0, hi = 0;
    if (!U32(off + (little ? 0 : 4), &lo) || !U32(off + (little ? 4 : 0), &hi)) return false;
    *v = static_cast<int64_t>((uint64_t{hi} << 32) | lo);
    return true;
  }
};

int64_t Long(const PerfData& pd, const std::string& k) {
  auto it = pd.find(k);
  if (it == pd.end()) return 0;
  const int64_t* v = std::get_if<int64_t>(&it->second);
  return v ? *v : 0;
}

std::string Str(const PerfData& pd, const std::string& k) {
  auto it = pd.find(k);
  if (it == pd.end()) return "";
  const std::string* v = std::get_if<std::string>(&it->second);
  return v ? *v : "";
}

}  // namespace

StatusOr<PerfData> ParseHsperfdata(std::string_view bytes) {
  if (bytes.size() < kPrologue) return InvalidArgument("hsperfdata: shorter than the prologue");
  if (static_cast<unsigned char>(bytes[0]) != 0xca || static_cast<unsigned char>(bytes[1]) != 0xfe ||
      static_cast<unsigned char>(bytes[2]) != 0xc0 || static_cast<unsigned char>(bytes[3]) != 0xc0)
    return InvalidArgument("hsperfdata: bad magic");
  Reader r{bytes, bytes[4] == 1};
  if (bytes[5] != 2) return InvalidArgument("hsperfdata: unsupported major version");
  uint32_t entry_offset = 0, num_entries = 0;
  r.U32(24, &entry_offset);
  r.U32(28, &num_entries);
  if (num_entries > kMaxEntries) return InvalidArgument("hsperfdata: too many entries");
  PerfData pd;
  size_t off = entry_offset;
  for (uint32_t i = 0; i < num_entries; i++) {
    uint32_t len = 0, name_off = 0, vec_len = 0, data_off = 0;
    if (!r.U32(off, &len) || !r.U32(off + 4, &name_off) || !r.U32(off + 8, &vec_len) || !r.U32(off + 16, &data_off) ||
        off + kEntryHeader > bytes.size())
      return InvalidArgument("hsperfdata: truncated entry");
    if (len < kEntryHeader || len > bytes.size() - off || name_off >= len || data_off > len)
      return InvalidArgument("hsperfdata: entry out of bounds");
    char type = bytes[off + 12];
    std::string_view entry = bytes.substr(off, len);
    std::string_view name = entry.substr(name_off);
    name = name.substr(0, name.find('\0'));
    if (type == 'J' && vec_len == 0) {
      int64_t v = 0;
      if (data_off + 8 > len || !r.I64(off + data_off, &v)) return InvalidArgument("hsperfdata: truncated long");
      pd[std::string(name)] = v;
    } else if (type == 'B' && vec_len > 0) {
      if (vec_len > len - data_off) return InvalidArgument("hsperfdata: string out of bounds");
      std::string_view s = entry.substr(data_off, vec_len);
      pd[std::string(name)] = std::string(s.substr(0, s.find('\0')));
    }
    off += len;
  }
  return pd;
}

JvmStats JvmStatsFrom(const PerfData& pd) {
  JvmStats s;
  s.jvm = Str(pd, "sun.rt.javaCommand");
  s.java_version = Str(pd, "java.property.java.version");
  for (int gen : {0, 1}) {
    std::string g = "sun.gc.generation." + std::to_string(gen) + ".";
    int64_t spaces = Long(pd, g + "spaces");
    for (int64_t sp = 0; sp < spaces && sp < 16; sp++) {
      std::string p = g + "space." + std::to_string(sp) + ".";
      s.heap_size_bytes += static_cast<double>(Long(pd, p + "capacity"));
      s.heap_used_bytes += static_cast<double>(Long(pd, p + "used"));
      s.heap_max_size_bytes += static_cast<double>(Long(pd, p + "maxCapacity"));
    }
  }
  // Times are in ticks of the high-resolution timer (nanoseconds on Linux).
  double hz = static_cast<double>(Long(pd, "sun.os.hrt.frequency"));
  if (hz <= 0) hz = 1e9;
  for (int c = 0; c < 3; c++) {
    std::string p = "sun.gc.collector." + std::to_string(c) + ".";
    std::string name = Str(pd, p + "name");
    if (!name.empty()) s.gc_seconds[name] = static_cast<double>(Long(pd, p + "time")) / hz;
  }
  s.safepoint_seconds = static_cast<double>(Long(pd, "sun.rt.safepointTime")) / hz;
  s.safepoint_sync_seconds = static_cast<double>(Long(pd, "sun.rt.safepointSyncTime")) / hz;
  return s;
}

StatusOr<JvmStats> ReadJvmStats(const std::string& proc_root, int pid) {
  std::string base = proc_root + "/" + std::to_string(pid);
  ASSIGN_OR_RETURN(std::string status, ReadFile(base + "/status", 64 << 10));
  std::string nspid = std::to_string(pid);
  for (const std::string& line : Split(status, '\n')) {
    if (!StartsWith(line, "NSpid:")) continue;
    std::vector<std::string> f = SplitAny(std::string_view(line).substr(6), " \t");
    if (!f.empty()) nspid = f.back();  // the innermost namespace's pid
  }
  std::string tmp = base + "/root/tmp";
  DIR* d = opendir(tmp.c_str());
  if (d == nullptr) return NotFound("no " + tmp);
  std::string found;
  while (dirent* e = readdir(d)) {
    if (std::strncmp(e->d_name, "hsperfdata_", 11) != 0) continue;
    std::string p = tmp + "/" + e->d_name + "/" + nspid;
    if (access(p.c_str(), R_OK) == 0) {
      found = p;
      break;
    }
  }
  closedir(d);
  if (found.empty()) return NotFound("no hsperfdata for pid " + std::to_string(pid));
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(found, 4 << 20));
  ASSIGN_OR_RETURN(PerfData pd, ParseHsperfdata(bytes));
  return JvmStatsFrom(pd);
}

bool IsJvm(std::string_view cmdline) {
  std::string_view arg0 = cmdline.substr(0, cmdline.find('\0'));
  return arg0 == "java" || EndsWith(arg0, "/java");
}

}  // namespace coroot::agent::containers
