// Feeds arbitrary bytes to every cgroup text parser; none may crash, hang or read out of bounds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/container_id.h"
#include "lib/cgroup/cpu.h"
#include "lib/cgroup/io.h"
#include "lib/cgroup/memory.h"
#include "lib/cgroup/proc_cgroup.h"
#include "lib/cgroup/psi.h"

using namespace coroot::cgroup;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (data == nullptr) text = {};
  auto cg = ParseProcCgroup(text, "");
  if (cg.ok()) {
    std::string id = cg->Id();
    auto c = ClassifyCgroup(id);
    if (c.ok()) {
      ContainerMetadata md;
      md.name = std::string(text.substr(0, 32));
      md.labels["io.kubernetes.pod.name"] = std::string(text.substr(0, 64));
      md.labels["io.kubernetes.container.name"] = "c";
      (void)AppIdFor(ContainerIdFor(*c, md, std::chrono::system_clock::now()));
    }
  }
  (void)ParseProcCgroup(text, "/base/../x");
  (void)ClassifyCgroup(text);
  (void)AppIdFor(text);
  (void)GvisorSandboxId(text);
  (void)ParseFlatKeyed(text);
  FlatKey keys[] = {{"total_rss"}, {"anon"}, {"file"}};
  LookupFlatKeyed(text, keys, 3);
  (void)ParseSingleInt(text);
  (void)ParseCpuMax(text);
  (void)ParsePressure(text);
  (void)ParseBlkio(text, text);
  (void)ParseIoStat(text);
  (void)MemoryFromV2Stat(ParseFlatKeyed(text), text);
  (void)DetectCgroupFs("/sys/fs/cgroup", text);
  return 0;
}
