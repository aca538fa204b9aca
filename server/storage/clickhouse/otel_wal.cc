#include "server/storage/clickhouse/otel_wal.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/log.h"

namespace coroot::server::storage {

namespace {

constexpr uint32_t kMagic = 0x4c41574f;  // "OWAL"
constexpr size_t kHeader = 12;

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
uint32_t GetU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

std::string Encode(const WalRecord& r) {
  std::string payload;
  payload.push_back(r.logs ? 1 : 0);
  payload.push_back(r.json ? 1 : 0);
  uint64_t n = r.database.size();
  while (n >= 0x80) {
    payload.push_back(static_cast<char>(n | 0x80));
    n >>= 7;
  }
  payload.push_back(static_cast<char>(n));
  payload += r.database;
  payload += r.body;
  std::string out;
  out.reserve(kHeader + payload.size());
  PutU32(&out, kMagic);
  PutU32(&out, static_cast<uint32_t>(payload.size()));
  PutU32(&out, Crc(payload));
  out += payload;
  return out;
}

bool Decode(std::string_view payload, WalRecord* r) {
  if (payload.size() < 3) return false;
  r->logs = payload[0] == 1;
  r->json = payload[1] == 1;
  size_t i = 2;
  uint64_t len = 0;
  for (int shift = 0; i < payload.size(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(payload[i++]);
    len |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
    if (shift > 56) return false;
  }
  if (len > payload.size() - i) return false;
  r->database.assign(payload.substr(i, len));
  r->body.assign(payload.substr(i + len));
  return true;
}

}  // namespace

// A segment's descriptor, shared by the segment (while current) and the batches with records in it:
// rotating or deleting a segment must not close a descriptor whose records still wait for their sync.
struct OtelWal::File {
  explicit File(int fd) : fd(fd) {}
  ~File() { ::close(fd); }
  const int fd;
  // A sync of it failed (guarded by mu_). Linux may then have dropped the dirty pages and a later
  // fdatasync reports success: no record of this file is acknowledged after that.
  bool failed = false;
};

// Records written while the previous sync ran: the next sync covers them all.
struct OtelWal::Batch {
  std::vector<std::shared_ptr<File>> files;  // those the records went to (more than one on rotation)
  bool done = false;
  Status status;
};

StatusOr<std::unique_ptr<OtelWal>> OtelWal::Open(const WalOptions& options) {
  if (options.dir.empty()) return InvalidArgument("WAL: empty directory");
  RETURN_IF_ERROR(MakeDirs(options.dir));
  std::unique_ptr<OtelWal> w(new OtelWal(options));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(options.dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 4) != ".wal") continue;
    uint64_t seg = std::strtoull(name.c_str(), nullptr, 10);
    if (seg == 0) continue;
    w->sizes_[seg] = std::filesystem::file_size(e.path(), ec);
    w->outstanding_[seg] = 1;  // held until Replay() has handed its records out
  }
  if (ec) return Internal("WAL: listing " + options.dir + ": " + ec.message());
  return w;
}

OtelWal::~OtelWal() = default;

std::string OtelWal::PathOf(uint64_t seg) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016llu.wal", static_cast<unsigned long long>(seg));
  return opt_.dir + "/" + name;
}

Status OtelWal::Replay(const std::function<void(uint64_t, WalRecord)>& fn) {
  std::vector<uint64_t> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [seg, size] : sizes_)
      if (seg != current_ || !file_) old.push_back(seg);
  }
  for (uint64_t seg : old) {
    auto data = ReadFile(PathOf(seg), opt_.max_bytes + (64u << 20));
    size_t records = 0;
    if (data.ok()) {
      std::string_view d = *data;
      size_t at = 0;
      while (d.size() - at >= kHeader) {
        uint32_t magic = GetU32(d.data() + at), len = GetU32(d.data() + at + 4), crc = GetU32(d.data() + at + 8);
        if (magic != kMagic || len > d.size() - at - kHeader) break;
        std::string_view payload = d.substr(at + kHeader, len);
        WalRecord r;
        if (Crc(payload) != crc || !Decode(payload, &r)) break;
        at += kHeader + len;
        ++records;
        fn(seg, std::move(r));
      }
      if (at != d.size()) {
        LOG(WARNING) << "WAL " << PathOf(seg) << ": ignoring a torn tail of " << d.size() - at << " bytes";
      }
    } else {
      LOG(ERROR) << "WAL: " << data.status().ToString();
    }
    LOG(INFO) << "WAL: replayed " << records << " requests from " << PathOf(seg);
    Release({{seg, 1}});
  }
  return Status::Ok();
}

Status OtelWal::OpenNewSegmentLocked() {
  file_.reset();
  uint64_t next = std::max<uint64_t>(current_, sizes_.empty() ? 0 : sizes_.rbegin()->first) + 1;
  std::string path = PathOf(next);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("WAL: open " + path, errno);
  file_ = std::make_shared<File>(fd);
  current_ = next;
  current_bytes_ = 0;
  sizes_[next] = 0;
  return Status::Ok();
}

StatusOr<uint64_t> OtelWal::Append(const WalRecord& record, uint64_t rows) {
  std::string rec = Encode(record);
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (auto& [seg, size] : sizes_) total += size;
  if (total + rec.size() > opt_.max_bytes)
    return ResourceExhausted("the on-disk ingestion buffer is full (" + std::to_string(total >> 20) +
                             " MiB waiting for ClickHouse); retry later");
  if (!file_ || current_bytes_ + rec.size() > opt_.segment_bytes) {
    RETURN_IF_ERROR(OpenNewSegmentLocked());
    DeleteIdleLocked(false);
  }
  size_t off = 0;
  while (off < rec.size()) {
    ssize_t n = ::write(file_->fd, rec.data() + off, rec.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = ErrnoStatus("WAL: write", errno);
      // Leave a clean boundary: a later record must not follow half of this one.
      file_.reset();
      return st;
    }
    off += static_cast<size_t>(n);
  }
  // Counted now, not after the sync: the segment must not be deleted as idle while the record waits.
  const uint64_t seg = current_;
  current_bytes_ += rec.size();
  sizes_[seg] = current_bytes_;
  outstanding_[seg] += rows;
  if (!opt_.sync) return seg;
  Status st = SyncWrittenLocked(lock);
  if (!st.ok()) {
    // The request is refused, so its rows will never be stored: they must not hold the segment.
    ReleaseLocked({{seg, rows}});
    return st;
  }
  return seg;
}

// Group commit: the record just written joins batch_. Whoever finds no sync running takes batch_
// and syncs it outside the mutex (appends go on meanwhile, into a new batch); its one fdatasync
// answers every append in the batch, success or error alike.
Status OtelWal::SyncWrittenLocked(std::unique_lock<std::mutex>& lock) {
  if (!batch_) batch_ = std::make_shared<Batch>();
  std::shared_ptr<Batch> mine = batch_;
  if (mine->files.empty() || mine->files.back() != file_) mine->files.push_back(file_);
  while (!mine->done) {
    if (syncing_) {
      synced_.wait(lock);
      continue;
    }
    // No sync running and ours not done: ours is still batch_ (a batch leaves it when its sync starts).
    std::shared_ptr<Batch> batch = std::move(batch_);
    syncing_ = true;
    Status st;
    for (const auto& f : batch->files)
      if (f->failed && st.ok()) st = Unavailable("WAL: an earlier fdatasync of this segment failed");
    lock.unlock();
    std::vector<std::shared_ptr<File>> failed;
    for (const auto& f : batch->files) {
      int rc = opt_.fdatasync_fn ? opt_.fdatasync_fn(f->fd) : ::fdatasync(f->fd);
      if (rc == 0) continue;
      if (st.ok()) st = ErrnoStatus("WAL: fdatasync", errno);
      failed.push_back(f);
    }
    lock.lock();
    for (const auto& f : failed) {
      f->failed = true;
      if (file_ == f) file_.reset();  // later records go to a new segment
    }
    syncs_ += batch->files.size();
    batch->status = st;
    batch->done = true;
    syncing_ = false;
    synced_.notify_all();
  }
  return mine->status;
}

void OtelWal::Hold(uint64_t segment, uint64_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  outstanding_[segment] += rows;
}

void OtelWal::Release(const std::map<uint64_t, uint64_t>& rows_by_segment) {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseLocked(rows_by_segment);
}

void OtelWal::ReleaseLocked(const std::map<uint64_t, uint64_t>& rows_by_segment) {
  for (auto& [seg, rows] : rows_by_segment) {
    auto it = outstanding_.find(seg);
    if (it == outstanding_.end()) continue;
    it->second = it->second > rows ? it->second - rows : 0;
  }
  DeleteIdleLocked(true);
}

void OtelWal::DeleteIdleLocked(bool include_current) {
  for (auto it = sizes_.begin(); it != sizes_.end();) {
    uint64_t seg = it->first;
    auto o = outstanding_.find(seg);
    bool idle = o == outstanding_.end() || o->second == 0;
    bool current = seg == current_ && file_;
    if (idle && current && include_current) {
      // Everything in the open segment is stored: close it, so a restart replays nothing.
      file_.reset();
      current = false;
    }
    if (idle && !current) {
      ::unlink(PathOf(seg).c_str());
      if (o != outstanding_.end()) outstanding_.erase(o);
      it = sizes_.erase(it);
    } else {
      ++it;
    }
  }
}

uint64_t OtelWal::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (auto& [seg, size] : sizes_) total += size;
  return total;
}

size_t OtelWal::segments() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sizes_.size();
}

uint64_t OtelWal::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

}  // namespace coroot::server::storage
