// Feeds arbitrary bytes to the container registry's /proc parsers; none may crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/containers/app_type.h"
#include "agent/containers/containerd.h"
#include "agent/containers/crio.h"
#include "agent/containers/dbus_wire.h"
#include "agent/containers/dockerd.h"
#include "agent/containers/jvm.h"
#include "agent/containers/mounts.h"
#include "agent/containers/proc_pid.h"
#include "agent/containers/taskstats.h"
#include "agent/containers/unix_http.h"

using namespace coroot::agent::containers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (data == nullptr) text = {};
  (void)ParseStartTicks(text);
  (void)ParseBootTime(text);
  (void)ParseMountinfo(text);
  (void)GuessApplicationType(text, text);
  (void)ParseHttpResponse(text);
  (void)ParseDockerInspect(text);
  (void)ParseCrioInspect(text);
  coroot::cgroup::ContainerMetadata md;
  (void)ParseOciSpec(text, &md);
  (void)ParseCriExtension(text, &md);
  (void)ParsePidStat(text);
  if (auto pd = ParseHsperfdata(text); pd.ok()) (void)JvmStatsFrom(*pd);
  (void)IsJvm(text);
  (void)ParseTaskstatsReply(text);
  (void)ParseFamilyIdReply(text);
  if (auto size = dbus::MessageSize(text); size.ok() && *size > 0 && *size <= text.size())
    if (auto m = dbus::ParseMessage(text.substr(0, *size)); m.ok()) {
      (void)dbus::ParseProperties(*m);
      (void)dbus::ErrorText(*m);
    }
  {  // the same bytes as a properties body in both byte orders
    dbus::Message m;
    m.signature = "a{sv}";
    m.body = std::string(text);
    (void)dbus::ParseProperties(m);
    m.big_endian = true;
    (void)dbus::ParseProperties(m);
  }
  return 0;
}
