#include "server/storage/clickhouse/otel_wal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

namespace coroot::server::storage {
namespace {

void SpinUntil(const std::function<bool()>& cond) {
  while (!cond()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Stands in for fdatasync: the held calls (numbered from 1) wait until Resume(n), the call numbered
// `failing` then fails with EIO, every other call succeeds.
class ScriptedSync {
 public:
  ScriptedSync(std::set<int> held, int failing) : held_(std::move(held)), failing_(failing) {}
  int operator()(int) {
    const int n = ++calls_;
    if (held_.count(n)) SpinUntil([&] { return opened_ >= n; });
    if (n != failing_) return 0;
    errno = EIO;
    return -1;
  }
  void Resume(int n) { opened_ = std::max(opened_.load(), n); }
  int calls() const { return calls_; }

 private:
  const std::set<int> held_;
  const int failing_;
  std::atomic<int> calls_{0}, opened_{0};
};

class Wal : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/coroot_wal_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  size_t Files() {
    size_t n = 0;
    for (auto& e : std::filesystem::directory_iterator(dir_)) n += e.path().extension() == ".wal";
    return n;
  }
  std::unique_ptr<OtelWal> Open(uint64_t max = 1 << 20, uint64_t segment = 1 << 16,
                                std::function<int(int)> fdatasync_fn = nullptr) {
    WalOptions o;
    o.dir = dir_;
    o.max_bytes = max;
    o.segment_bytes = segment;
    o.fdatasync_fn = std::move(fdatasync_fn);
    auto w = OtelWal::Open(o);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(*w) : nullptr;
  }
  std::string dir_;
};

TEST_F(Wal, StoredRowsReleaseTheirSegmentAndUnstoredOnesAreReplayed) {
  {
    auto w = Open();
    auto s1 = w->Append({false, false, "db1", "body-1"}, 3);
    ASSERT_TRUE(s1.ok());
    auto s2 = w->Append({true, true, "db2", std::string("b\0dy-2", 6)}, 2);
    ASSERT_TRUE(s2.ok());
    EXPECT_EQ(*s1, *s2);  // same segment
    EXPECT_EQ(Files(), 1u);
    w->Release({{*s1, 3}});
    EXPECT_EQ(Files(), 1u);  // 2 rows still outstanding
    w->Release({{*s1, 2}});
    EXPECT_EQ(Files(), 0u);  // all stored: nothing left to replay
    EXPECT_EQ(w->bytes(), 0u);
    auto s3 = w->Append({false, true, "db3", "body-3"}, 1);
    ASSERT_TRUE(s3.ok());
    EXPECT_GT(*s3, *s1);
    auto s4 = w->Append({true, false, "db4", std::string(1000, 'x')}, 1);
    ASSERT_TRUE(s4.ok());
  }  // "crash": two records never stored
  // A torn record at the tail (a crash in the middle of a write).
  for (auto& e : std::filesystem::directory_iterator(dir_)) {
    std::ofstream f(e.path(), std::ios::app | std::ios::binary);
    f.write("OWAL\x10\x00", 6);
  }
  auto w = Open();
  std::vector<std::pair<uint64_t, WalRecord>> got;
  ASSERT_TRUE(w->Replay([&](uint64_t seg, WalRecord r) {
                 w->Hold(seg, 1);
                 got.emplace_back(seg, std::move(r));
               }).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second.database, "db3");
  EXPECT_EQ(got[0].second.body, "body-3");
  EXPECT_TRUE(got[0].second.json);
  EXPECT_FALSE(got[0].second.logs);
  EXPECT_EQ(got[1].second.database, "db4");
  EXPECT_EQ(got[1].second.body, std::string(1000, 'x'));
  EXPECT_TRUE(got[1].second.logs);
  EXPECT_EQ(Files(), 1u);  // held by the replayed rows
  // New appends go to a new segment; releasing the replayed rows deletes the old one.
  auto s5 = w->Append({false, false, "db5", "body-5"}, 1);
  ASSERT_TRUE(s5.ok());
  EXPECT_GT(*s5, got[0].first);
  w->Release({{got[0].first, 2}});
  EXPECT_EQ(Files(), 1u);
  w->Release({{*s5, 1}});
  EXPECT_EQ(Files(), 0u);
}

TEST_F(Wal, BoundedAndRotating) {
  auto w = Open(/*max=*/4096, /*segment=*/1024);
  int ok = 0;
  std::set<uint64_t> segments;
  Status last;
  for (int i = 0; i < 100; ++i) {
    auto s = w->Append({false, false, "db", std::string(300, 'a')}, 1);
    if (!s.ok()) {
      last = s.status();
      break;
    }
    segments.insert(*s);
    ++ok;
  }
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted);
  EXPECT_GE(ok, 10);
  EXPECT_LE(w->bytes(), 4096u);
  EXPECT_GE(segments.size(), 3u);
  // Storing the rows of the oldest segments frees room.
  std::map<uint64_t, uint64_t> first;
  first[*segments.begin()] = 100;
  w->Release(first);
  EXPECT_TRUE(w->Append({false, false, "db", std::string(300, 'a')}, 1).ok());
}

TEST_F(Wal, ASequentialAppenderSyncsEachRecord) {
  auto w = Open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(w->Append({false, false, "db", "body"}, 1).ok());
  EXPECT_EQ(w->syncs(), 20u);
}

TEST_F(Wal, ConcurrentAppendersShareSyncsAndEveryRecordIsReplayed) {
  constexpr int kThreads = 8, kRecords = 200;
  {
    // Small segments: they rotate while records wait for their sync.
    auto w = Open(/*max=*/64 << 20, /*segment=*/4096);
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kRecords; ++i)
          if (!w->Append({false, false, "db", std::to_string(t) + "/" + std::to_string(i)}, 1).ok()) ++failed;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_GT(w->segments(), 2u);
    EXPECT_GT(w->syncs(), 0u);
    EXPECT_LT(w->syncs(), uint64_t(kThreads * kRecords));  // one fdatasync per append: no group commit
  }  // "crash": no row stored
  auto w = Open();
  std::set<std::string> got;
  ASSERT_TRUE(w->Replay([&](uint64_t, WalRecord r) { got.insert(r.body); }).ok());
  EXPECT_EQ(got.size(), size_t(kThreads * kRecords));
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kRecords; ++i) EXPECT_EQ(got.count(std::to_string(t) + "/" + std::to_string(i)), 1u);
}

TEST_F(Wal, AFailedSyncFailsEveryAppendItCovered) {
  // Sync 1 waits (so that records pile up behind it), sync 2 fails, later ones succeed.
  ScriptedSync sync({1}, 2);
  auto w = Open(1 << 20, 1 << 16, [&](int fd) { return sync(fd); });
  const WalRecord rec{false, false, "db", "body"};
  const Status not_run = Internal("not run");
  StatusOr<uint64_t> first = not_run, late[3] = {not_run, not_run, not_run};
  std::thread a([&] { first = w->Append(rec, 1); });
  SpinUntil([&] { return sync.calls() > 0; });
  const uint64_t one = w->bytes();  // the first record is written: its sync is running
  std::vector<std::thread> others;
  for (auto& r : late) others.emplace_back([&w, &rec, &r] { r = w->Append(rec, 1); });
  SpinUntil([&] { return w->bytes() >= 4 * one; });
  sync.Resume(1);
  a.join();
  for (auto& t : others) t.join();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  for (auto& r : late) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("fdatasync"), std::string::npos) << r.status().ToString();
  }
  EXPECT_EQ(w->syncs(), 2u);  // the three records written during sync 1 shared sync 2
  // A later append goes to a new segment (the failed one may have lost pages) and is synced by a
  // sync of its own, which succeeds.
  auto next = w->Append(rec, 1);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(w->syncs(), 3u);
  EXPECT_NE(*next, *first);
  // The failed appends hold no rows: storing the two acknowledged ones frees both segments.
  w->Release({{*first, 1}, {*next, 1}});
  EXPECT_EQ(Files(), 0u);
}

TEST_F(Wal, NoRecordOfASegmentIsAcknowledgedAfterItsSyncFailed) {
  // Sync 1 waits, sync 2 (covering B) waits and fails; C, written into the same
  // segment while sync 2 ran, is synced by sync 3, which reports success (as Linux may after an
  // error: the dirty pages are gone), yet C must fail. D then goes to a new segment.
  ScriptedSync sync({1, 2}, 2);
  auto w = Open(1 << 20, 1 << 16, [&](int fd) { return sync(fd); });
  const WalRecord rec{false, false, "db", "body"};
  const Status not_run = Internal("not run");
  StatusOr<uint64_t> a = not_run, b = not_run, c = not_run;
  std::thread ta([&] { a = w->Append(rec, 1); });
  SpinUntil([&] { return sync.calls() >= 1; });
  const uint64_t one = w->bytes();
  std::thread tb([&] { b = w->Append(rec, 1); });
  SpinUntil([&] { return w->bytes() >= 2 * one; });
  sync.Resume(1);
  SpinUntil([&] { return sync.calls() >= 2; });
  std::thread tc([&] { c = w->Append(rec, 1); });
  SpinUntil([&] { return w->bytes() >= 3 * one; });
  sync.Resume(2);
  ta.join();
  tb.join();
  tc.join();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(b.ok());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("earlier fdatasync"), std::string::npos) << c.status().ToString();
  auto d = w->Append(rec, 1);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_NE(*d, *a);
  w->Release({{*a, 1}, {*d, 1}});
  EXPECT_EQ(Files(), 0u);
}

}  // namespace
}  // namespace coroot::server::storage
