#include "agent/containers/taskstats.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::containers {
namespace {

constexpr size_t kNlHeader = sizeof(nlmsghdr);
constexpr size_t kGenlHeader = GENL_HDRLEN;

size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

template <typename T>
T Load(std::string_view b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

// Walks the attributes of [b.begin()+off, end): calls fn(type, value) for each; false on a
// malformed attribute.
template <typename Fn>
bool ForEachAttr(std::string_view b, Fn fn) {
  size_t off = 0;
  while (off + sizeof(nlattr) <= b.size()) {
    auto len = Load<uint16_t>(b, off);
    auto type = Load<uint16_t>(b, off + 2);
    if (len < sizeof(nlattr) || off + len > b.size()) return false;
    fn(static_cast<uint16_t>(type & NLA_TYPE_MASK), b.substr(off + sizeof(nlattr), len - sizeof(nlattr)));
    off += Align4(len);
  }
  return true;
}

// The attributes of one generic-netlink reply, or the error it carries.
StatusOr<std::string_view> GenlPayload(std::string_view msg) {
  if (msg.size() < kNlHeader) return InvalidArgument("netlink reply shorter than its header");
  auto len = Load<uint32_t>(msg, 0);
  auto type = Load<uint16_t>(msg, 4);
  if (len < kNlHeader || len > msg.size()) return InvalidArgument("netlink reply length out of bounds");
  if (type == NLMSG_ERROR) {
    if (len < kNlHeader + sizeof(int32_t)) return InvalidArgument("truncated netlink error");
    int32_t err = Load<int32_t>(msg, kNlHeader);
    if (err == -ESRCH) return NotFound("no such process");
    return ErrnoStatus("taskstats", -err);
  }
  if (len < kNlHeader + kGenlHeader) return InvalidArgument("netlink reply without a genetlink header");
  return msg.substr(kNlHeader + kGenlHeader, len - kNlHeader - kGenlHeader);
}

}  // namespace

StatusOr<uint16_t> ParseFamilyIdReply(std::string_view msg) {
  StatusOr<std::string_view> attrs = GenlPayload(msg);
  if (!attrs.ok()) return attrs.status();
  int family = -1;
  bool ok = ForEachAttr(*attrs, [&](uint16_t type, std::string_view v) {
    if (type == CTRL_ATTR_FAMILY_ID && v.size() >= 2) family = Load<uint16_t>(v, 0);
  });
  if (!ok) return InvalidArgument("malformed attribute in the family reply");
  if (family < 0) return NotFound("no family id in the reply");
  return static_cast<uint16_t>(family);
}

StatusOr<TaskDelays> ParseTaskstatsReply(std::string_view msg) {
  StatusOr<std::string_view> attrs = GenlPayload(msg);
  if (!attrs.ok()) return attrs.status();
  std::string_view stats;
  bool ok = ForEachAttr(*attrs, [&](uint16_t type, std::string_view v) {
    if (type != TASKSTATS_TYPE_AGGR_TGID && type != TASKSTATS_TYPE_AGGR_PID) return;
    ForEachAttr(v, [&](uint16_t inner, std::string_view s) {
      if (inner == TASKSTATS_TYPE_STATS) stats = s;
    });
  });
  if (!ok) return InvalidArgument("malformed attribute in the taskstats reply");
  // Fields are only ever appended to struct taskstats, so an older header's offsets hold on a
  // newer kernel; a reply too short for them is refused.
  constexpr size_t kNeed = offsetof(taskstats, blkio_delay_total) + sizeof(uint64_t);
  if (stats.size() < kNeed) return InvalidArgument("taskstats reply without delay fields");
  TaskDelays d;
  d.cpu_delay_ns = Load<uint64_t>(stats, offsetof(taskstats, cpu_delay_total));
  d.blkio_delay_ns = Load<uint64_t>(stats, offsetof(taskstats, blkio_delay_total));
  return d;
}

StatusOr<std::unique_ptr<TaskstatsClient>> TaskstatsClient::Open() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) return ErrnoStatus("netlink socket", errno);
  timeval tv{1, 0};  // the kernel answers at once; never hang a gather on it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    int e = errno;
    close(fd);
    return ErrnoStatus("netlink bind", e);
  }
  std::unique_ptr<TaskstatsClient> c(new TaskstatsClient(fd, GENL_ID_CTRL));
  StatusOr<std::string> reply =
      c->Request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
                 std::string_view(TASKSTATS_GENL_NAME, sizeof(TASKSTATS_GENL_NAME)));  // with its NUL
  if (!reply.ok()) return Unavailable("taskstats family: " + reply.status().message());
  StatusOr<uint16_t> family = ParseFamilyIdReply(*reply);
  if (!family.ok()) return Unavailable("taskstats family: " + family.status().message());
  c->family_ = *family;
  return c;
}

TaskstatsClient::~TaskstatsClient() { close(fd_); }

StatusOr<std::string> TaskstatsClient::Request(uint16_t type, uint8_t cmd, uint16_t attr,
                                               std::string_view attr_value) {
  std::string req(kNlHeader + kGenlHeader + Align4(sizeof(nlattr) + attr_value.size()), '\0');
  nlmsghdr nh{};
  nh.nlmsg_len = static_cast<uint32_t>(req.size());
  nh.nlmsg_type = type;
  nh.nlmsg_flags = NLM_F_REQUEST;
  nh.nlmsg_seq = ++seq_;
  std::memcpy(req.data(), &nh, sizeof(nh));
  genlmsghdr gh{};
  gh.cmd = cmd;
  gh.version = 1;
  std::memcpy(req.data() + kNlHeader, &gh, sizeof(gh));
  nlattr na{};
  na.nla_len = static_cast<uint16_t>(sizeof(nlattr) + attr_value.size());
  na.nla_type = attr;
  std::memcpy(req.data() + kNlHeader + kGenlHeader, &na, sizeof(na));
  std::memcpy(req.data() + kNlHeader + kGenlHeader + sizeof(na), attr_value.data(), attr_value.size());

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0)
    return ErrnoStatus("netlink send", errno);
  buf_.resize(8192);
  for (;;) {  // skip replies to earlier requests that timed out
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) return ErrnoStatus("netlink recv", errno);
    if (static_cast<size_t>(n) < kNlHeader) return InvalidArgument("short netlink reply");
    if (Load<uint32_t>(buf_, 8) == seq_) return buf_.substr(0, static_cast<size_t>(n));
  }
}

StatusOr<TaskDelays> TaskstatsClient::Tgid(int pid) {
  uint32_t tgid = static_cast<uint32_t>(pid);
  StatusOr<std::string> reply =
      Request(family_, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_TGID,
              std::string_view(reinterpret_cast<const char*>(&tgid), sizeof(tgid)));
  if (!reply.ok()) return reply.status();
  return ParseTaskstatsReply(*reply);
}

Status EnableDelayAccounting(const std::string& proc_root) {
  const std::string path = proc_root + "/sys/kernel/task_delayacct";
  StatusOr<std::string> cur = ReadFile(path, 64);
  if (!cur.ok()) return cur.status().WithContext("delay accounting");
  if (StartsWith(*cur, "1")) return Status::Ok();
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("turning delay accounting on: " + path, errno);
  bool written = write(fd, "1", 1) == 1;
  int e = errno;
  close(fd);
  if (!written) return ErrnoStatus("turning delay accounting on: " + path, e);
  return Status::Ok();
}

}  // namespace coroot::agent::containers
