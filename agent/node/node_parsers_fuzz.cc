// Feeds arbitrary bytes to every node text parser; none may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/node/machine_identity.h"
#include "agent/node/net_interfaces.h"
#include "agent/node/proc_diskstats.h"
#include "agent/node/proc_meminfo.h"
#include "agent/node/proc_stat.h"
#include "agent/node/proc_uptime.h"

using namespace coroot::agent::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (data == nullptr) text = {};
  (void)ParseProcStat(text, 100);
  (void)ParseMeminfo(text);
  (void)ParseDiskstats(text, [](std::string_view) { return true; });
  (void)ParseUptime(text);
  (void)ParseNetDev(text);
  (void)ParseIdFile(text);
  return 0;
}
