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

StatusOr<CpuStat> ReadCpuStat(const CgroupFs& fs, const ProcCgroup& cg) {
  CpuStat s;
  std::string cpu = cg.Path("cpu"), cpuacct = cg.Path("cpuacct");
  if (!cpu.empty() && !cpuacct.empty()) {
    ASSIGN_OR_RETURN(auto stat, ReadFlatKeyed(fs.V1("cpu", cpu) + "/cpu.stat"));
    ASSIGN_OR_RETURN(int64_t usage_ns, ReadSingleInt(fs.V1("cpuacct", cpuacct) + "/cpuacct.usage"));
    ASSIGN_OR_RETURN(int64_t period, ReadSingleInt(fs.V1("cpu", cpu) + "/cpu.cfs_period_us"));
    ASSIGN_OR_RETURN(int64_t quota, ReadSingleInt(fs.V1("cpu", cpu) + "/cpu.cfs_quota_us"));
    s.usage_seconds = static_cast<double>(usage_ns) / 1e9;
    s.throttled_seconds = static_cast<double>(stat["throttled_time"]) / 1e9;
    s.limit_cores = CfsLimitCores(quota, period);
    return s;
  }
  std::string v2 = cg.Path("");
  if (v2.empty()) return NotFound("no cpu cgroup");
  ASSIGN_OR_RETURN(auto stat, ReadFlatKeyed(fs.V2(v2) + "/cpu.stat"));
  s.usage_seconds = static_cast<double>(stat["usage_usec"]) / 1e6;
  s.throttled_seconds = static_cast<double>(stat["throttled_usec"]) / 1e6;
  // cpu.max exists only where the cpu controller is enabled for v2; absent means no limit.
  if (StatusOr<std::string> max = ReadCgroupFile(fs.V2(v2) + "/cpu.max", 4096); max.ok()) {
    ASSIGN_OR_RETURN(s.limit_cores, ParseCpuMax(*max));
  }
  return s;
}

}  // namespace coroot::cgroup
