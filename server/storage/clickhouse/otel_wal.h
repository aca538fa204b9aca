#pragma once
// OtelWal: the on-disk log that makes accepted OTLP requests survive a crash.
//
// Before a request is acknowledged its (decompressed) body is appended to the current segment file
// and fdatasync'ed (group commit: one fdatasync covers every request written before it began, so
// concurrent requests share it instead of queueing for one each; its error fails them all). The
// rows it produced carry the segment's id through the writer, and when every row of a segment has
// been inserted into ClickHouse (or dropped as refused) the segment is deleted.
// At start, Replay() hands back every record of the segments a previous run left, so they are
// decoded and inserted again (at-least-once: a crash between an insert and the deletion of its
// segment stores those rows twice). Bounded: when the segments on disk reach max_bytes, Append()
// returns kResourceExhausted (→ 429 / RESOURCE_EXHAUSTED).
//
// Record: u32 magic, u32 payload length, u32 CRC-32 of the payload, payload = u8 signal (0 traces,
// 1 logs), u8 json, varint database length, database, body. A torn or corrupt tail ends a segment.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "lib/base/status.h"

namespace coroot::server::storage {

struct WalOptions {
  std::string dir;
  uint64_t max_bytes = 1ull << 30;
  uint64_t segment_bytes = 64ull << 20;
  bool sync = true;  // fdatasync before Append returns
  std::function<int(int fd)> fdatasync_fn;  // when set, called instead of ::fdatasync (tests: to fail or be slow)
};

struct WalRecord {
  bool logs = false;
  bool json = false;
  std::string database;
  std::string body;
};

class OtelWal {
 public:
  static StatusOr<std::unique_ptr<OtelWal>> Open(const WalOptions& options);
  ~OtelWal();

  // Calls fn(segment, record) for every record left by a previous run, oldest first. The caller
  // must Release() the rows each record produced (possibly 0) with that segment id.
  Status Replay(const std::function<void(uint64_t segment, WalRecord record)>& fn);

  // Appends a record that will produce `rows` rows; returns its segment id once the record is on
  // disk (with sync). Thread-safe: concurrent appends share fdatasyncs.
  StatusOr<uint64_t> Append(const WalRecord& record, uint64_t rows);
  // Rows of these segments are stored (or dropped): segments with none outstanding are deleted.
  void Release(const std::map<uint64_t, uint64_t>& rows_by_segment);
  // Adds rows to a segment's outstanding count (for replayed records).
  void Hold(uint64_t segment, uint64_t rows);

  uint64_t bytes() const;
  size_t segments() const;
  uint64_t syncs() const;  // fdatasync calls made so far (fewer than appends when they are concurrent)

 private:
  struct File;
  struct Batch;
  explicit OtelWal(WalOptions o) : opt_(std::move(o)) {}
  Status OpenNewSegmentLocked();
  std::string PathOf(uint64_t seg) const;
  Status SyncWrittenLocked(std::unique_lock<std::mutex>& lock);
  void ReleaseLocked(const std::map<uint64_t, uint64_t>& rows_by_segment);
  void DeleteIdleLocked(bool include_current);

  WalOptions opt_;
  mutable std::mutex mu_;
  std::shared_ptr<File> file_;  // the current segment's; null when none is open
  std::shared_ptr<Batch> batch_;  // records written since the running sync (if any) began
  bool syncing_ = false;
  std::condition_variable synced_;  // a batch's sync is done
  uint64_t current_ = 0;
  uint64_t current_bytes_ = 0;
  std::map<uint64_t, uint64_t> outstanding_;  // segment → rows not yet stored
  std::map<uint64_t, uint64_t> sizes_;        // segment → bytes on disk
  uint64_t syncs_ = 0;
};

}  // namespace coroot::server::storage
