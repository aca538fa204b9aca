#include "lib/cgroup/container_id.h"

#include <vector>

#include "lib/base/strings.h"

namespace coroot::cgroup {

namespace {

constexpr size_t kIdLen = 64;
constexpr std::string_view kPodSuffixChars = "bcdfghjklmnpqrstvwxz2456789";  // k8s rand.String alphabet

bool IsIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsNameChar(char c) { return IsIdChar(c) || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
bool IsPodSuffixChar(char c) { return kPodSuffixChars.find(c) != std::string_view::npos; }

bool IdAt(std::string_view s, size_t pos) {
  if (pos + kIdLen > s.size()) return false;
  for (size_t i = pos; i < pos + kIdLen; i++)
    if (!IsIdChar(s[i])) return false;
  return true;
}

// The leftmost run of 64 [a-z0-9] characters (a longer run yields its first 64).
std::string FindId(std::string_view s) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); i++) {
    run = IsIdChar(s[i]) ? run + 1 : 0;
    if (run == kIdLen) return std::string(s.substr(i + 1 - kIdLen, kIdLen));
  }
  return "";
}

// The 64-character id right after the leftmost occurrence of `prefix` that is followed by one.
std::string FindIdAfter(std::string_view s, std::string_view prefix) {
  for (size_t p = s.find(prefix); p != std::string_view::npos; p = s.find(prefix, p + 1))
    if (IdAt(s, p + prefix.size())) return std::string(s.substr(p + prefix.size(), kIdLen));
  return "";
}

std::vector<std::string_view> PathParts(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= path.size(); i++) {
    if (i == path.size() || path[i] == '/') {
      parts.push_back(path.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

// "<job>-<8 digits>-<5 suffix chars>" somewhere in a pod name; the leftmost run of name characters
// that holds the pattern wins, and within it the longest job name (the regex is greedy).
bool MatchCronJobPod(std::string_view pod, std::string* job, uint64_t* minutes) {
  size_t i = 0;
  while (i < pod.size()) {
    while (i < pod.size() && !IsNameChar(pod[i])) i++;
    size_t run_start = i;
    while (i < pod.size() && IsNameChar(pod[i])) i++;
    size_t run_end = i;
    // j is the '-' that ends the job name: pod[j..j+15) = "-DDDDDDDD-XXXXX".
    for (size_t j = run_end; j-- > run_start + 1;) {
      if (j + 15 > run_end || pod[j] != '-' || pod[j + 9] != '-') continue;
      std::string_view digits = pod.substr(j + 1, 8), suffix = pod.substr(j + 10, 5);
      if (!AllOf(digits, IsDigit) || !AllOf(suffix, IsPodSuffixChar)) continue;
      *job = std::string(pod.substr(run_start, j - run_start));
      ParseUint64(digits, minutes);
      return true;
    }
  }
  return false;
}

}  // namespace

const char* ContainerTypeName(ContainerType t) {
  switch (t) {
    case ContainerType::kStandalone: return "standalone";
    case ContainerType::kDocker: return "docker";
    case ContainerType::kCrio: return "crio";
    case ContainerType::kContainerd: return "cri-containerd";
    case ContainerType::kLxc: return "lxc";
    case ContainerType::kSystemdService: return "systemd";
    case ContainerType::kSandbox: return "sandbox";
    case ContainerType::kTalosRuntime: return "talos";
    case ContainerType::kUnknown: break;
  }
  return "unknown";
}

StatusOr<CgroupContainer> ClassifyCgroup(std::string_view path) {
  using T = ContainerType;
  std::vector<std::string_view> parts = PathParts(path);
  std::string_view prefix = parts[0];
  auto bad = [&](const char* what) { return InvalidArgument(std::string("invalid ") + what + " cgroup " + std::string(path)); };
  if (path == "/init") return CgroupContainer{T::kTalosRuntime, "/talos/init"};
  if (prefix == "user.slice" || prefix == "init.scope" || prefix == "systemd") return CgroupContainer{T::kStandalone, ""};
  if (prefix == "docker" || (prefix == "system.slice" && parts.size() > 1 && StartsWith(parts[1], "docker-"))) {
    std::string id = FindId(path);
    if (id.empty()) return bad("docker");
    return CgroupContainer{T::kDocker, id};
  }
  if (path.find("kubepods") != std::string_view::npos) {
    if (std::string id = FindIdAfter(path, "crio-"); !id.empty()) return CgroupContainer{T::kCrio, id};
    if (path.find("crio-conmon-") != std::string_view::npos) return CgroupContainer{T::kUnknown, ""};
    if (std::string id = FindIdAfter(path, "cri-containerd-"); !id.empty()) return CgroupContainer{T::kContainerd, id};
    if (std::string id = FindIdAfter(path, "cri-containerd:"); !id.empty()) return CgroupContainer{T::kContainerd, id};
    if (std::string id = FindId(path); !id.empty()) return CgroupContainer{T::kDocker, id};
    return CgroupContainer{T::kSandbox, ""};
  }
  if (prefix == "system" || prefix == "podruntime") {
    if (parts.size() < 2 || parts[1].empty()) return bad("talos runtime");
    return CgroupContainer{T::kTalosRuntime, "/talos/" + std::string(parts[1])};
  }
  if (prefix == "system.slice" || prefix == "runtime.slice" || prefix == "reserved.slice" || prefix == "kube.slice" ||
      prefix == "azure.slice" || prefix == "podruntime.slice") {
    if (EndsWith(path, ".scope")) return CgroupContainer{T::kStandalone, ""};
    if (parts.size() < 2 || parts[1].empty()) return bad("systemd");
    std::string id = "/" + std::string(prefix) + "/" + std::string(parts[1]);
    return CgroupContainer{T::kSystemdService, ReplaceAll(id, "\\x2d", "-")};
  }
  if (prefix == "lxc") {
    if (parts.size() < 2 || parts[1].empty()) return bad("lxc");
    return CgroupContainer{T::kLxc, std::string(parts[1])};
  }
  if (StartsWith(prefix, "lxc.payload.")) {
    std::string_view name = prefix.substr(12);
    if (name.empty()) return bad("lxc payload");
    return CgroupContainer{T::kLxc, "/lxc/" + std::string(name)};
  }
  if (parts.size() < 2) return CgroupContainer{T::kStandalone, ""};
  return InvalidArgument("unknown container: " + std::string(path));
}

std::string ContainerIdFor(const CgroupContainer& c, const ContainerMetadata& md,
                           std::chrono::system_clock::time_point now) {
  using T = ContainerType;
  switch (c.type) {
    case T::kSystemdService:
      if (StartsWith(c.id, "/system.slice/crio-conmon-")) return "";
      return c.id;
    case T::kTalosRuntime:
      return c.id;
    case T::kDocker:
    case T::kContainerd:
    case T::kSandbox:
    case T::kCrio:
      break;
    default:
      return "";
  }
  if (c.id.empty()) return "";
  auto label = [&md](const char* k) {
    auto it = md.labels.find(k);
    return it == md.labels.end() ? std::string() : it->second;
  };
  if (std::string pod = label("io.kubernetes.pod.name"); !pod.empty()) {
    std::string ns = label("io.kubernetes.pod.namespace");
    std::string name = c.type == T::kSandbox ? "sandbox" : label("io.kubernetes.container.name");
    if (name.empty() || name == "POD") return "";  // pause containers
    std::string job;
    uint64_t minutes = 0;
    if (MatchCronJobPod(pod, &job, &minutes)) {
      constexpr int64_t kWindowSeconds = 7 * 24 * 3600;
      int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
      // minutes ≤ 99999999, so minutes * 60 cannot overflow.
      int64_t at = static_cast<int64_t>(minutes) * 60;
      if (at > now_s - kWindowSeconds && at < now_s + kWindowSeconds)
        return "/k8s-cronjob/" + ns + "/" + job + "/" + name;
    }
    return "/k8s/" + ns + "/" + pod + "/" + name;
  }
  if (std::vector<std::string> task = Split(label("com.docker.swarm.task.name"), '.'); task.size() >= 3) {
    std::string ns = label("com.docker.stack.namespace");
    std::string service = label("com.docker.swarm.service.name");
    if (!ns.empty() && StartsWith(service, ns + "_")) service = service.substr(ns.size() + 1);
    if (ns.empty()) ns = "_";
    return "/swarm/" + ns + "/" + service + "/" + task[1];
  }
  auto env = [&md](const char* k) {
    auto it = md.env.find(k);
    return it == md.env.end() ? std::string() : it->second;
  };
  std::string alloc = env("NOMAD_ALLOC_ID"), group = env("NOMAD_GROUP_NAME"), job = env("NOMAD_JOB_NAME"),
              ns = env("NOMAD_NAMESPACE"), task = env("NOMAD_TASK_NAME");
  if (!alloc.empty() && !group.empty() && !job.empty() && !ns.empty() && !task.empty())
    return "/nomad/" + ns + "/" + job + "/" + group + "/" + alloc + "/" + task;
  if (md.name.empty()) return "";
  return "/docker/" + md.name;
}

std::string AppIdFor(std::string_view id) {
  std::vector<std::string_view> parts = PathParts(id);
  if (StartsWith(id, "/k8s-cronjob/")) {
    // /k8s-cronjob/<ns>/<job>/<container...>
    if (parts.size() >= 4 && AllOf(parts[1], IsNameChar) && AllOf(parts[2], IsNameChar) && !parts[3].empty())
      return "/k8s-cronjob/" + std::string(parts[1]) + "/" + std::string(parts[2]);
    return std::string(id);
  }
  if (!StartsWith(id, "/k8s/") || parts.size() < 4 || parts[3].empty()) return std::string(id);
  std::string_view ns = parts[1], pod = parts[2];
  if (!AllOf(ns, IsNameChar) || !AllOf(pod, IsNameChar)) return std::string(id);
  auto workload = [&](std::string_view name) { return "/k8s/" + std::string(ns) + "/" + std::string(name); };
  // Deployment: <name>-<1..10 hex>-<5 suffix chars>.
  if (pod.size() > 6 && pod[pod.size() - 6] == '-' && AllOf(pod.substr(pod.size() - 5), IsPodSuffixChar)) {
    std::string_view rest = pod.substr(0, pod.size() - 6);
    size_t dash = rest.rfind('-');
    if (dash != std::string_view::npos && dash > 0) {
      std::string_view hash = rest.substr(dash + 1);
      if (hash.size() <= 10 && AllOf(hash, IsHex)) return workload(rest.substr(0, dash));
    }
    // DaemonSet: <name>-<5 suffix chars>.
    if (!rest.empty()) return workload(rest);
  }
  // StatefulSet: <name>-<ordinal>.
  size_t dash = pod.rfind('-');
  if (dash != std::string_view::npos && dash > 0 && AllOf(pod.substr(dash + 1), IsDigit)) return workload(pod.substr(0, dash));
  return std::string(id);
}

std::string SystemdUnit(std::string_view id) {
  std::vector<std::string_view> parts = PathParts(id);
  for (std::string_view p : parts)
    if (EndsWith(p, ".service")) return std::string(p);
  return std::string(parts.back());
}

bool IsSystemdSystemService(std::string_view unit, std::string_view type, std::string_view triggered_by) {
  if (type == "oneshot" || type == "dbus") return true;
  if (EndsWith(triggered_by, ".timer")) return true;
  static constexpr std::string_view kPrefixes[] = {
      "systemd-", "dbus", "getty", "system-serial", "system-getty", "serial-getty", "snapd", "packagekit",
      "unattended-upgrades", "multipathd", "qemu-guest-agent", "irqbalance", "networkd-dispatcher", "rpcbind"};
  for (std::string_view p : kPrefixes)
    if (StartsWith(unit, p)) return true;
  return false;
}

std::string GvisorSandboxId(std::string_view cmdline) {
  while (!cmdline.empty() && cmdline.back() == '\0') cmdline.remove_suffix(1);
  if (cmdline.empty()) return "";
  std::string_view cmd = cmdline.substr(0, cmdline.find('\0'));
  size_t last_nul = cmdline.rfind('\0');
  std::string_view last = last_nul == std::string_view::npos ? cmdline : cmdline.substr(last_nul + 1);
  if (!EndsWith(cmd, "runsc-sandbox") && !EndsWith(cmd, "runsc")) return "";
  return FindId(last).empty() ? std::string() : std::string(last);
}

}  // namespace coroot::cgroup
