#include "server/storage/clickhouse/batches.h"

#include <gtest/gtest.h>

namespace coroot::server::storage {
namespace {

void AddSpan(SpanBatch* b, int64_t ts, const std::string& id, int events) {
  b->timestamp.push_back(ts);
  for (auto* c : {&b->trace_id, &b->span_id, &b->parent_span_id, &b->trace_state, &b->span_name, &b->span_kind,
                  &b->service_name, &b->status_code, &b->status_message})
    c->Add(id);
  b->resource_attributes.Put("r", id);
  b->resource_attributes.EndRow();
  b->span_attributes.EndRow();
  b->duration.push_back(1);
  for (int e = 0; e < events; ++e) {
    b->event_timestamp.push_back(ts + e);
    b->event_name.Add(id + "-e" + std::to_string(e));
    b->event_attributes.Put("i", std::to_string(e));
    b->event_attributes.EndRow();
  }
  b->events.Push(b->event_timestamp.size());
  b->links.Push(b->link_trace_id.size());
}

TEST(SpanBatch, AppendKeepsOffsetsAndEncodesLikeOneBatch) {
  SpanBatch a, b, all;
  AddSpan(&a, 1, "a", 2);
  AddSpan(&b, 2, "b", 0);
  AddSpan(&b, 3, "c", 3);
  AddSpan(&all, 1, "a", 2);
  AddSpan(&all, 2, "b", 0);
  AddSpan(&all, 3, "c", 3);
  a.Append(b);
  ASSERT_EQ(a.rows(), 3u);
  EXPECT_EQ(a.span_id[2], "c");
  EXPECT_EQ(a.events.begin(2), 2u);
  EXPECT_EQ(a.events.end(2), 5u);
  EXPECT_EQ(a.event_name[4], "c-e2");
  EXPECT_EQ(a.resource_attributes.values[2], "c");
  clickhouse::RowBinaryWriter w1, w2;
  a.WriteRowBinary(&w1);
  all.WriteRowBinary(&w2);
  EXPECT_EQ(w1.data(), w2.data());
  EXPECT_GT(a.bytes(), 0u);
  a.Clear();
  EXPECT_EQ(a.rows(), 0u);
}

TEST(StringColumn, PendingAndTruncate) {
  StringColumn c;
  c.Add("one");
  c.buf() += "partial";
  c.AbortPending();
  c.Add("two");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1], "two");
  c.Truncate(1);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], "one");
}

}  // namespace
}  // namespace coroot::server::storage
