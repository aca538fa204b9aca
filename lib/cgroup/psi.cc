#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/psi.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::cgroup {

StatusOr<Pressure> ParsePressure(std::string_view text) {
  Pressure p;
  bool any = false;
  // Walked in place (no split into strings): three of these files per container per gather.
  auto next_field = [](std::string_view line, size_t* i) {
    while (*i < line.size() && (line[*i] == ' ' || line[*i] == '\t')) (*i)++;
    size_t start = *i;
    while (*i < line.size() && line[*i] != ' ' && line[*i] != '\t') (*i)++;
    return line.substr(start, *i - start);
  };
  std::string_view line;
  for (size_t pos = 0; NextLine(text, &pos, &line);) {
    size_t i = 0;
    std::string_view kind = next_field(line, &i);
    double* dst = kind == "some" ? &p.some_seconds : kind == "full" ? &p.full_seconds : nullptr;
    if (dst == nullptr) continue;
    for (std::string_view f = next_field(line, &i); !f.empty(); f = next_field(line, &i)) {
      if (!StartsWith(f, "total=")) continue;
      uint64_t us = 0;
      if (!ParseUint64(f.substr(6), &us)) return InvalidArgument("pressure: bad total");
      *dst = static_cast<double>(us) / 1e6;
      any = true;
      break;
    }
  }
  if (!any) return InvalidArgument("pressure: no total=");
  return p;
}

StatusOr<PsiStat> ReadPsi(const CgroupDirs& d) {
  if (d.v2.empty()) return NotFound("no v2 cgroup");
  PsiStat s;
  std::pair<const char*, Pressure*> files[] = {{"/cpu.pressure", &s.cpu}, {"/memory.pressure", &s.memory}, {"/io.pressure", &s.io}};
  for (auto& [name, dst] : files) {
    std::string path = d.v2 + name;
    ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(path, 4096));
    StatusOr<Pressure> p = ParsePressure(text);
    if (!p.ok()) return p.status().WithContext(path);
    *dst = *p;
  }
  return s;
}

StatusOr<PsiStat> ReadPsi(const CgroupFs& fs, const ProcCgroup& cg) { return ReadPsi(DirsOf(fs, cg)); }

}  // namespace coroot::cgroup
