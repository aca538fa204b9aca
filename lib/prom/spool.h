#pragma once
// An on-disk FIFO of ready-to-send remote-write bodies: <dir>/spool-<unix ms>.done, written
// atomically. The total size is capped: when a new file would exceed it, the oldest are deleted
// (and counted), so a long outage costs bounded disk and the newest data survives.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "lib/base/status.h"

namespace coroot::prom {

class Spool {
 public:
  Spool(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

  // Creates the directory and indexes files left by a previous run (they are sent first).
  Status Open();
  Status Put(const std::string& payload, int64_t now_ms);

  struct Entry {
    std::string path;
    uint64_t size = 0;
  };
  std::optional<Entry> Oldest() const;
  Status Remove(const Entry& e);

  uint64_t total_bytes() const;
  size_t files() const;
  uint64_t dropped_files() const;  // deleted unsent because of the size cap

 private:
  std::string dir_;
  uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // oldest first
  uint64_t total_ = 0;
  uint64_t dropped_ = 0;
  int64_t last_ms_ = 0;
};

}  // namespace coroot::prom
