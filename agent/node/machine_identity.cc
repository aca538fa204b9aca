#include "agent/node/machine_identity.h"

#include <sys/utsname.h>

#include <cerrno>

#include "agent/node/host_ns.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::node {

namespace {

constexpr size_t kMaxIdLength = 128;
constexpr char kProductUuid[] = "/sys/class/dmi/id/product_uuid";

StatusOr<std::string> ReadIdFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, 4096));
  StatusOr<std::string> id = ParseIdFile(text);
  if (!id.ok()) return id.status().WithContext(path);
  return id;
}

}  // namespace

StatusOr<std::string> ParseIdFile(std::string_view text) {
  std::string id = Trim(text.substr(0, text.find('\n')));
  if (id.empty()) return InvalidArgument("empty id");
  if (id.size() > kMaxIdLength) return InvalidArgument("id longer than 128 characters");
  for (unsigned char c : id)
    if (c < 0x20 || c > 0x7e) return InvalidArgument("id has a non-printable character");
  return id;
}

StatusOr<Uname> ReadUname(const std::string& uts_ns_path) {
  struct utsname u {};
  int rc = -1, err = 0;
  RETURN_IF_ERROR(RunInNamespace(uts_ns_path, [&] {
    rc = uname(&u);
    err = errno;
  }));
  if (rc != 0) return ErrnoStatus("uname", err);
  return Uname{u.nodename, u.release};
}

StatusOr<MachineIdentity> ReadMachineIdentity(const std::string& host_root, const std::string& uts_ns_path) {
  MachineIdentity id;
  ASSIGN_OR_RETURN(Uname un, ReadUname(uts_ns_path));
  id.hostname = std::move(un.hostname);
  id.kernel_release = std::move(un.kernel_release);

  for (const char* p : {"/etc/machine-id", "/var/lib/dbus/machine-id", kProductUuid}) {
    StatusOr<std::string> v = ReadIdFile(host_root + p);
    if (!v.ok()) continue;
    for (char c : *v)
      if (c != '-') id.machine_id.push_back(c);
    if (!id.machine_id.empty()) break;
  }
  if (StatusOr<std::string> v = ReadIdFile(host_root + kProductUuid); v.ok()) id.system_uuid = *v;
  return id;
}

}  // namespace coroot::agent::node
