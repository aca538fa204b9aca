#include "agent/node/proc_stat.h"

#include <unistd.h>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::node {

namespace {

// "cpu0", "cpu17": a per-CPU line. "cpu" alone is the aggregate, anything else is not a CPU.
bool IsPerCpuName(std::string_view name) {
  if (!StartsWith(name, "cpu") || name.size() == 3) return false;
  for (char c : name.substr(3))
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

StatusOr<CpuStat> ParseProcStat(std::string_view text, double ticks_per_second) {
  if (!(ticks_per_second > 0)) return InvalidArgument("/proc/stat: ticks per second must be positive");
  CpuStat stat;
  bool have_total = false;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t");
    if (f.empty()) continue;
    if (f[0] == "cpu") {
      if (have_total) continue;  // only the first aggregate line counts
      // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already
      // included in user/nice, so the first eight are the whole picture.
      if (f.size() < 9) return InvalidArgument("/proc/stat: the cpu line has fewer than 8 values");
      double* dst[] = {&stat.user, &stat.nice,    &stat.system, &stat.idle,
                       &stat.iowait, &stat.irq, &stat.softirq, &stat.steal};
      for (size_t i = 0; i < 8; i++) {
        uint64_t ticks = 0;
        if (!ParseUint64(f[i + 1], &ticks)) return InvalidArgument("/proc/stat: bad number in the cpu line");
        *dst[i] = static_cast<double>(ticks) / ticks_per_second;
      }
      have_total = true;
    } else if (IsPerCpuName(f[0])) {
      stat.logical_cores++;
    }
  }
  if (!have_total) return InvalidArgument("/proc/stat: no aggregate cpu line");
  if (stat.logical_cores == 0) return InvalidArgument("/proc/stat: no per-CPU lines");
  return stat;
}

StatusOr<CpuStat> ReadProcStat(const std::string& proc_root) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root + "/stat"));
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;  // USER_HZ is 100 on every Linux ABI; sysconf failing is theoretical
  return ParseProcStat(text, static_cast<double>(hz));
}

}  // namespace coroot::agent::node
