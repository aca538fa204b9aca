#include "agent/tracer/cgroup_stats_iter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/tracer/bpf_iter_records.h"
#include "coroot_containers.skel.h"
#include "lib/base/log.h"

namespace coroot::agent::tracer {

namespace {
constexpr const char* kProgram = "coroot_cgroup_stats_iter";
}  // namespace

StatusOr<std::unique_ptr<CgroupStatsIter>> CgroupStatsIter::Start(const std::vector<std::string>& roots) {
  struct stat st;
  if (stat("/sys/kernel/btf/vmlinux", &st) != 0)
    return Unavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot be relocated");
  std::unique_ptr<CgroupStatsIter> it(new CgroupStatsIter());
  it->skel_ = coroot_containers_bpf__open();
  if (!it->skel_) return ErrnoStatus("opening the BPF object", errno);
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, it->skel_->obj) {
    if (strcmp(bpf_program__name(prog), kProgram) != 0) bpf_program__set_autoload(prog, false);
  }
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, it->skel_->obj) {
    // Only the object's global data (.rodata and the like); no other loader's maps.
    if (std::string(bpf_map__name(map)).find('.') == std::string::npos) bpf_map__set_autocreate(map, false);
  }
  if (int err = coroot_containers_bpf__load(it->skel_); err != 0)
    return ErrnoStatus("loading the cgroup iterator (iter/cgroup; verifier or permissions)", -err);

  for (const std::string& root : roots) {
    if (stat(root.c_str(), &st) != 0) continue;  // no such hierarchy here
    bool seen = false;
    for (const Walk& w : it->walks_) seen |= w.dev == static_cast<uint64_t>(st.st_dev);
    if (seen) continue;
    int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      LOG(WARNING) << "cgroup iterator: cannot open " << root << ": " << strerror(errno);
      continue;
    }
    union bpf_iter_link_info info;
    memset(&info, 0, sizeof(info));
    info.cgroup.cgroup_fd = static_cast<__u32>(fd);
    info.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
    DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
    opts.link_info = &info;
    opts.link_info_len = sizeof(info);
    bpf_link* link = bpf_program__attach_iter(it->skel_->progs.coroot_cgroup_stats_iter, &opts);
    int err = errno;
    close(fd);  // the link holds the cgroup
    if (!link) {
      LOG(WARNING) << "cgroup iterator: cannot attach to " << root << ": " << strerror(err);
      continue;
    }
    it->walks_.push_back({root, static_cast<uint64_t>(st.st_dev), link});
  }
  if (it->walks_.empty()) return Unavailable("the cgroup iterator could not be attached to any cgroup hierarchy");
  return it;
}

std::vector<std::string> CgroupStatsIter::roots() const {
  std::vector<std::string> out;
  for (const Walk& w : walks_) out.push_back(w.root);
  return out;
}

Status CgroupStatsIter::Read(const std::function<void(uint64_t dev, const coroot_cgroup_stat&)>& fn) {
  constexpr uint32_t kMaxShards = 1024;  // ~450k cgroups in one hierarchy
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<coroot_cgroup_stat> records;
  for (Walk& w : walks_) {
    // A walk's records are handed out only once all its shards were read: a walk that overflows
    // the kernel's buffer is read again in twice as many shards (and keeps them).
    for (;;) {
      records.clear();
      bool overflow = false;
      for (uint32_t shard = 0; shard < w.shards && !overflow; shard++) {
        skel_->data->coroot_cgroup_shards = w.shards;
        skel_->bss->coroot_cgroup_shard = shard;
        int fd = bpf_iter_create(bpf_link__fd(w.link));
        if (fd < 0) return ErrnoStatus("creating the cgroup iterator of " + w.root, errno);
        int read_errno = 0;
        Status st = ReadIterRecords<coroot_cgroup_stat>(
            fd, "cgroup iterator of " + w.root, [&](const coroot_cgroup_stat& r) { records.push_back(r); }, &read_errno);
        if (read_errno == EOPNOTSUPP && w.shards < kMaxShards) overflow = true;
        else if (!st.ok()) return st;
      }
      if (!overflow) break;
      w.shards *= 2;
    }
    for (const coroot_cgroup_stat& r : records) fn(w.dev, r);
  }
  return Status::Ok();
}

uint32_t CgroupStatsIter::shards(const std::string& root) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Walk& w : walks_)
    if (w.root == root) return w.shards;
  return 0;
}

CgroupStatsIter::~CgroupStatsIter() {
  for (Walk& w : walks_) bpf_link__destroy(w.link);
  if (skel_) coroot_containers_bpf__destroy(skel_);
}

containers::CgroupCountersSnapshot::Reader CgroupCountersReader(std::shared_ptr<CgroupStatsIter> it) {
  return [it](const std::function<void(containers::CgroupKey, const containers::CgroupCounters&)>& fn) {
    return it->Read([&fn](uint64_t dev, const coroot_cgroup_stat& r) {
      containers::CgroupCounters c;
      c.has_cpu_bandwidth = r.flags & COROOT_CGROUP_CPU_BW;
      c.has_psi = r.flags & COROOT_CGROUP_PSI;
      c.has_memory = r.flags & COROOT_CGROUP_MEMORY;
      c.memory_fingerprint = r.memory_fingerprint;
      c.throttled_ns = r.throttled_ns;
      c.cpu_some_ns = r.psi_total_ns[COROOT_PSI_CPU_SOME];
      c.cpu_full_ns = r.psi_total_ns[COROOT_PSI_CPU_FULL];
      c.memory_some_ns = r.psi_total_ns[COROOT_PSI_MEM_SOME];
      c.memory_full_ns = r.psi_total_ns[COROOT_PSI_MEM_FULL];
      c.io_some_ns = r.psi_total_ns[COROOT_PSI_IO_SOME];
      c.io_full_ns = r.psi_total_ns[COROOT_PSI_IO_FULL];
      fn({dev, r.id}, c);
    });
  };
}

}  // namespace coroot::agent::tracer
