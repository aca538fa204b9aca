#pragma once
// Pressure stall information of a v2 cgroup: cpu.pressure, memory.pressure, io.pressure.
#include <string_view>

#include "lib/base/status.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/proc_cgroup.h"

namespace coroot::cgroup {

struct Pressure {
  double some_seconds = 0;  // "some ... total=<µs>"
  double full_seconds = 0;  // "full ... total=<µs>"
};

struct PsiStat {
  Pressure cpu, memory, io;
};

// "some avg10=0.00 avg60=0.00 avg300=0.00 total=123\nfull ... total=45\n". An unparsable total
// is an error; unknown kinds are ignored.
StatusOr<Pressure> ParsePressure(std::string_view text);

// PSI exists in v2 only; NotFound when the process has no v2 cgroup or the files are missing.
StatusOr<PsiStat> ReadPsi(const CgroupFs& fs, const ProcCgroup& cg);
StatusOr<PsiStat> ReadPsi(const CgroupDirs& dirs);

}  // namespace coroot::cgroup
