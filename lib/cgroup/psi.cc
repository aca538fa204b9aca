#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/psi.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::cgroup {

StatusOr<Pressure> ParsePressure(std::string_view text) {
  Pressure p;
  bool any = false;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t");
    if (f.empty()) continue;
    double* dst = f[0] == "some" ? &p.some_seconds : f[0] == "full" ? &p.full_seconds : nullptr;
    if (dst == nullptr) continue;
    for (size_t i = 1; i < f.size(); i++) {
      if (!StartsWith(f[i], "total=")) continue;
      uint64_t us = 0;
      if (!ParseUint64(std::string_view(f[i]).substr(6), &us)) return InvalidArgument("pressure: bad total");
      *dst = static_cast<double>(us) / 1e6;
      any = true;
      break;
    }
  }
  if (!any) return InvalidArgument("pressure: no total=");
  return p;
}

StatusOr<PsiStat> ReadPsi(const CgroupFs& fs, const ProcCgroup& cg) {
  std::string v2 = cg.Path("");
  if (v2.empty()) return NotFound("no v2 cgroup");
  PsiStat s;
  std::pair<const char*, Pressure*> files[] = {{"cpu", &s.cpu}, {"memory", &s.memory}, {"io", &s.io}};
  for (auto& [name, dst] : files) {
    std::string path = fs.V2(v2) + "/" + name + ".pressure";
    ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(path, 4096));
    StatusOr<Pressure> p = ParsePressure(text);
    if (!p.ok()) return p.status().WithContext(path);
    *dst = *p;
  }
  return s;
}

}  // namespace coroot::cgroup
