#include "agent/tracer/conntrack.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace coroot::agent::tracer {

namespace {

void PutAttr(std::string* out, uint16_t type, const void* data, size_t len) {
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
  a.nla_type = type;
  out->append(reinterpret_cast<const char*>(&a), sizeof(a));
  out->append(static_cast<const char*>(data), len);
  out->append(NLA_ALIGN(len) - len, '\0');
}

// Starts a nested attribute; returns its offset so EndNest can fill in the length.
size_t BeginNest(std::string* out, uint16_t type) {
  size_t at = out->size();
  nlattr a{};
  a.nla_type = type | NLA_F_NESTED;
  out->append(reinterpret_cast<const char*>(&a), sizeof(a));
  return at;
}
void EndNest(std::string* out, size_t at) {
  uint16_t len = static_cast<uint16_t>(out->size() - at);
  std::memcpy(out->data() + at, &len, sizeof(len));
}

// Calls fn(type, payload) for each attribute in [data, data+len); false on a malformed one.
template <typename Fn>
bool ForEachAttr(std::string_view data, Fn fn) {
  while (data.size() >= NLA_HDRLEN) {
    nlattr a;
    std::memcpy(&a, data.data(), sizeof(a));
    if (a.nla_len < NLA_HDRLEN || a.nla_len > data.size()) return false;
    fn(static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK), data.substr(NLA_HDRLEN, a.nla_len - NLA_HDRLEN));
    size_t step = NLA_ALIGN(a.nla_len);
    if (step >= data.size()) break;
    data.remove_prefix(step);
  }
  return true;
}

}  // namespace

std::string BuildConntrackGet(const Ip& src, uint16_t sport, const Ip& dst, uint16_t dport, uint32_t seq) {
  bool v4 = IsV4Mapped(src) && IsV4Mapped(dst);
  std::string msg(sizeof(nlmsghdr), '\0');
  nfgenmsg g{};
  g.nfgen_family = v4 ? AF_INET : AF_INET6;
  g.version = NFNETLINK_V0;
  msg.append(reinterpret_cast<const char*>(&g), sizeof(g));
  size_t orig = BeginNest(&msg, CTA_TUPLE_ORIG);
  size_t ip = BeginNest(&msg, CTA_TUPLE_IP);
  if (v4) {
    PutAttr(&msg, CTA_IP_V4_SRC, &src[12], 4);
    PutAttr(&msg, CTA_IP_V4_DST, &dst[12], 4);
  } else {
    PutAttr(&msg, CTA_IP_V6_SRC, src.data(), 16);
    PutAttr(&msg, CTA_IP_V6_DST, dst.data(), 16);
  }
  EndNest(&msg, ip);
  size_t proto = BeginNest(&msg, CTA_TUPLE_PROTO);
  uint8_t tcp = IPPROTO_TCP;
  PutAttr(&msg, CTA_PROTO_NUM, &tcp, 1);
  uint16_t sp = htons(sport), dp = htons(dport);
  PutAttr(&msg, CTA_PROTO_SRC_PORT, &sp, 2);
  PutAttr(&msg, CTA_PROTO_DST_PORT, &dp, 2);
  EndNest(&msg, proto);
  EndNest(&msg, orig);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(msg.size());
  h.nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  h.nlmsg_flags = NLM_F_REQUEST;
  h.nlmsg_seq = seq;
  std::memcpy(msg.data(), &h, sizeof(h));
  return msg;
}

StatusOr<std::optional<IpPort>> ParseConntrackReply(std::string_view msg) {
  if (msg.size() < sizeof(nlmsghdr)) return InvalidArgument("conntrack: short netlink message");
  nlmsghdr h;
  std::memcpy(&h, msg.data(), sizeof(h));
  if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > msg.size()) return InvalidArgument("conntrack: bad message length");
  std::string_view body = msg.substr(sizeof(h), h.nlmsg_len - sizeof(h));
  if (h.nlmsg_type == NLMSG_ERROR) {
    if (body.size() < sizeof(int)) return InvalidArgument("conntrack: short error message");
    int err;
    std::memcpy(&err, body.data(), sizeof(err));
    if (err == -ENOENT) return std::optional<IpPort>();
    return ErrnoStatus("conntrack get", -err);
  }
  if (h.nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW))
    return InvalidArgument("conntrack: unexpected message type " + std::to_string(h.nlmsg_type));
  if (body.size() < sizeof(nfgenmsg)) return InvalidArgument("conntrack: short message");
  std::optional<IpPort> out;
  bool have_ip = false, have_port = false;
  IpPort r;
  bool ok = ForEachAttr(body.substr(sizeof(nfgenmsg)), [&](uint16_t type, std::string_view tuple) {
    if (type != CTA_TUPLE_REPLY) return;
    ForEachAttr(tuple, [&](uint16_t t, std::string_view inner) {
      if (t == CTA_TUPLE_IP) {
        ForEachAttr(inner, [&](uint16_t a, std::string_view v) {
          if (a == CTA_IP_V4_SRC && v.size() == 4) {
            r.ip = IpV4(v[0], v[1], v[2], v[3]);
            have_ip = true;
          } else if (a == CTA_IP_V6_SRC && v.size() == 16) {
            std::memcpy(r.ip.data(), v.data(), 16);
            have_ip = true;
          }
        });
      } else if (t == CTA_TUPLE_PROTO) {
        ForEachAttr(inner, [&](uint16_t a, std::string_view v) {
          if (a == CTA_PROTO_SRC_PORT && v.size() == 2) {
            uint16_t p;
            std::memcpy(&p, v.data(), 2);
            r.port = ntohs(p);
            have_port = true;
          }
        });
      }
    });
  });
  if (!ok) return InvalidArgument("conntrack: malformed attributes");
  if (!have_ip || !have_port) return InvalidArgument("conntrack: no reply tuple");
  out = r;
  return out;
}

Conntrack::Conntrack(std::string proc_root, uint32_t own_netns)
    : proc_root_(std::move(proc_root)), own_netns_(own_netns) {
  if (own_netns_ == 0) {
    struct stat st;
    if (stat((proc_root_ + "/self/ns/net").c_str(), &st) == 0) own_netns_ = static_cast<uint32_t>(st.st_ino);
  }
}

Conntrack::~Conntrack() {
  for (auto& [ns, fd] : sockets_) close(fd);
}

StatusOr<int> Conntrack::SocketFor(uint32_t pid, uint32_t netns) {
  auto it = sockets_.find(netns);
  if (it != sockets_.end()) return it->second;
  if (sockets_.size() >= kMaxSockets) {
    close(sockets_.begin()->second);
    sockets_.erase(sockets_.begin());
  }
  int ns_fd = -1;
  if (netns != own_netns_) {
    ns_fd = open((proc_root_ + "/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) return ErrnoStatus("open the network namespace of pid " + std::to_string(pid), errno);
    struct stat st;
    if (fstat(ns_fd, &st) != 0 || st.st_ino != netns) {
      close(ns_fd);
      return NotFound("pid " + std::to_string(pid) + " is no longer in network namespace " + std::to_string(netns));
    }
  }
  int fd = -1, err = 0;
  // A thread of its own enters the namespace, so the agent's threads stay where they are.
  std::thread([&] {
    if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) err = errno;
  }).join();
  if (ns_fd >= 0) close(ns_fd);
  if (fd < 0) return ErrnoStatus("netlink socket for conntrack", err);
  timeval tv{0, 200000};  // never block the event reader for long
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockets_[netns] = fd;
  return fd;
}

StatusOr<std::optional<IpPort>> Conntrack::ActualDestination(uint32_t pid, uint32_t netns, const Ip& src,
                                                             uint16_t sport, const Ip& dst, uint16_t dport) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int fd, SocketFor(pid, netns));
  uint32_t seq = seq_++;
  std::string req = BuildConntrackGet(src, sport, dst, dport, seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0)
    return ErrnoStatus("conntrack request", errno);
  char buf[8192];
  for (int i = 0; i < 4; i++) {  // skip stale answers (a timed-out earlier request)
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) return ErrnoStatus("conntrack reply", errno);
    nlmsghdr h;
    if (static_cast<size_t>(n) < sizeof(h)) return InvalidArgument("conntrack: short reply");
    std::memcpy(&h, buf, sizeof(h));
    if (h.nlmsg_seq != seq) continue;
    return ParseConntrackReply(std::string_view(buf, static_cast<size_t>(n)));
  }
  return Unavailable("conntrack: no matching reply");
}

}  // namespace coroot::agent::tracer
