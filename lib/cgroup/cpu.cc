#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/cpu.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::cgroup {

StatusOr<double> ParseCpuMax(std::string_view text) {
  std::vector<std::string> f = SplitAny(text, " \t\n");
  if (f.size() != 2) return InvalidArgument("cpu.max: want \"<quota> <period>\"");
  uint64_t period = 0, quota = 0;
  if (!ParseUint64(f[1], &period)) return InvalidArgument("cpu.max: bad period");
  if (f[0] == "max") return 0.0;
  if (!ParseUint64(f[0], &quota)) return InvalidArgument("cpu.max: bad quota");
  return period > 0 ? static_cast<double>(quota) / static_cast<double>(period) : 0.0;
}

double CfsLimitCores(int64_t quota_us, int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return 0;
  return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

StatusOr<CpuStat> ReadCpuStat(const CgroupDirs& d) {
  CpuStat s;
  if (!d.cpu.empty() && !d.cpuacct.empty()) {
    FlatKey throttled{"throttled_time"};
    RETURN_IF_ERROR(ReadFlatKeyed(d.cpu + "/cpu.stat", &throttled, 1));
    ASSIGN_OR_RETURN(int64_t usage_ns, ReadSingleInt(d.cpuacct + "/cpuacct.usage"));
    ASSIGN_OR_RETURN(int64_t period, ReadSingleIntUntilWritten(d.cpu + "/cpu.cfs_period_us"));
    ASSIGN_OR_RETURN(int64_t quota, ReadSingleIntUntilWritten(d.cpu + "/cpu.cfs_quota_us"));
    s.usage_seconds = static_cast<double>(usage_ns) / 1e9;
    s.throttled_seconds = static_cast<double>(throttled.value) / 1e9;
    s.limit_cores = CfsLimitCores(quota, period);
    return s;
  }
  if (d.v2.empty()) return NotFound("no cpu cgroup");
  FlatKey keys[] = {{"usage_usec"}, {"throttled_usec"}};
  RETURN_IF_ERROR(ReadFlatKeyed(d.v2 + "/cpu.stat", keys, 2));
  s.usage_seconds = static_cast<double>(keys[0].value) / 1e6;
  s.throttled_seconds = static_cast<double>(keys[1].value) / 1e6;
  // cpu.max exists only where the cpu controller is enabled for v2; absent means no limit.
  if (StatusOr<std::string> max = ReadCgroupFileUntilWritten(d.v2 + "/cpu.max", 4096); max.ok()) {
    ASSIGN_OR_RETURN(s.limit_cores, ParseCpuMax(*max));
  }
  return s;
}

StatusOr<CpuStat> ReadCpuStat(const CgroupFs& fs, const ProcCgroup& cg) { return ReadCpuStat(DirsOf(fs, cg)); }

}  // namespace coroot::cgroup
