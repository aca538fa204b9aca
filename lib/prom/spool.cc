#include "lib/prom/spool.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "lib/base/file.h"
#include "lib/base/log.h"
#include "lib/base/strings.h"

namespace coroot::prom {

namespace fs = std::filesystem;

Status Spool::Open() {
  RETURN_IF_ERROR(MakeDirs(dir_));
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  total_ = 0;
  std::error_code ec;
  std::vector<std::pair<int64_t, Entry>> found;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (EndsWith(name, ".tmp")) {  // an interrupted write: never complete, remove it
      fs::remove(e.path(), ec);
      continue;
    }
    if (!StartsWith(name, "spool-") || !EndsWith(name, ".done")) continue;
    uint64_t ms = 0;
    if (!ParseUint64(name.substr(6, name.size() - 6 - 5), &ms)) continue;
    found.push_back({static_cast<int64_t>(ms), {e.path().string(), static_cast<uint64_t>(e.file_size(ec))}});
  }
  if (ec) return Internal("scan spool " + dir_ + ": " + ec.message());
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [ms, entry] : found) {
    total_ += entry.size;
    last_ms_ = std::max(last_ms_, ms);
    entries_.push_back(std::move(entry));
  }
  if (!entries_.empty()) LOG(INFO) << "spool " << dir_ << ": " << entries_.size() << " unsent files from before";
  return Status::Ok();
}

Status Spool::Put(const std::string& payload, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (payload.size() > max_bytes_) {
    dropped_++;
    return ResourceExhausted("payload of " + std::to_string(payload.size()) + " bytes exceeds the spool size");
  }
  while (!entries_.empty() && total_ + payload.size() > max_bytes_) {
    std::error_code ec;
    fs::remove(entries_.front().path, ec);
    total_ -= entries_.front().size;
    entries_.pop_front();
    dropped_++;
  }
  int64_t ms = std::max(now_ms, last_ms_ + 1);  // names are unique and increasing
  last_ms_ = ms;
  std::string path = dir_ + "/spool-" + std::to_string(ms) + ".done";
  RETURN_IF_ERROR(WriteFileAtomic(path, payload));
  entries_.push_back({path, payload.size()});
  total_ += payload.size();
  return Status::Ok();
}

std::optional<Spool::Entry> Spool::Oldest() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.empty()) return std::nullopt;
  return entries_.front();
}

Status Spool::Remove(const Entry& e) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& x) { return x.path == e.path; });
  if (it == entries_.end()) return Status::Ok();  // already evicted by the cap
  total_ -= it->size;
  entries_.erase(it);
  if (::unlink(e.path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink " + e.path, errno);
  return Status::Ok();
}

uint64_t Spool::total_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}
size_t Spool::files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}
uint64_t Spool::dropped_files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace coroot::prom
