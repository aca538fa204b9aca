#pragma once
// Who this node is: the ids Coroot puts on every series (machine_id, system_uuid) and node_info's
// hostname and kernel release.
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::node {

struct Uname {
  std::string hostname;
  std::string kernel_release;
};

struct MachineIdentity {
  std::string machine_id;   // empty when no source was readable
  std::string system_uuid;  // DMI product UUID; empty when unreadable (non-root, no DMI)
  std::string hostname;
  std::string kernel_release;
};

// The id in an id file: the first line, trimmed. Rejects empty, over-long (>128) or
// non-printable ids so a corrupt file cannot become a label value.
StatusOr<std::string> ParseIdFile(std::string_view text);

// uname() inside the UTS namespace at uts_ns_path ("" = our own). Coroot reads the host's,
// /proc/1/ns/uts, so that a containerised agent reports the node's hostname.
StatusOr<Uname> ReadUname(const std::string& uts_ns_path = "");

// machine_id, as Coroot's agent does: the first valid of <root>/etc/machine-id,
// <root>/var/lib/dbus/machine-id, <root>/sys/class/dmi/id/product_uuid, with '-' removed.
// system_uuid: <root>/sys/class/dmi/id/product_uuid as is. hostname/kernel from ReadUname().
// Fails only when uname fails; host_root ("" = "/") redirects the files, e.g. to /proc/1/root.
StatusOr<MachineIdentity> ReadMachineIdentity(const std::string& host_root = "",
                                              const std::string& uts_ns_path = "");

}  // namespace coroot::agent::node
