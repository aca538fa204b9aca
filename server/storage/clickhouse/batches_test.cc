#include "server/storage/clickhouse/batches.h"

#include <gtest/gtest.h>

#include "server/storage/clickhouse/batch_parts.h"

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

// Span i of a test batch: i % 3 events, i % 2 links, i % 4 span attributes.
void AddVariedSpan(SpanBatch* b, int i) {
  const std::string id = "s" + std::to_string(i);
  b->timestamp.push_back(1000 + i);
  for (auto* c : {&b->trace_id, &b->span_id, &b->parent_span_id, &b->trace_state, &b->span_name, &b->span_kind,
                  &b->service_name, &b->status_code, &b->status_message})
    c->Add(id);
  b->resource_attributes.Put("r", id);
  b->resource_attributes.EndRow();
  for (int a = 0; a < i % 4; ++a) b->span_attributes.Put("k" + std::to_string(a), std::to_string(i * a));
  b->span_attributes.EndRow();
  b->duration.push_back(i);
  for (int e = 0; e < i % 3; ++e) {
    b->event_timestamp.push_back(1000 + i + e);
    b->event_name.Add(id + "-e" + std::to_string(e));
    b->event_attributes.Put("e", std::to_string(e));
    b->event_attributes.EndRow();
  }
  b->events.Push(b->event_timestamp.size());
  for (int l = 0; l < i % 2; ++l) {
    b->link_trace_id.Add("lt" + std::to_string(i));
    b->link_span_id.Add("ls" + std::to_string(i));
    b->link_trace_state.Add("");
    b->link_attributes.Put("r", std::to_string(i));
    b->link_attributes.EndRow();
  }
  b->links.Push(b->link_trace_id.size());
}

// Parts of 1, 300, 2, 7 and 500 rows encode byte for byte as the one batch of all their rows.
TEST(BatchParts, EncodeLikeOneBatchOfAllTheirRows) {
  BatchParts<SpanBatch> parts;
  SpanBatch all;
  int i = 0;
  for (int size : {1, 300, 2, 7, 500}) {
    SpanBatch b;
    for (int r = 0; r < size; ++r, ++i) {
      AddVariedSpan(&b, i);
      AddVariedSpan(&all, i);
    }
    ASSERT_TRUE(b.Consistent());
    parts.Add(&b);
    EXPECT_EQ(b.rows(), 0u);  // taken
  }
  ASSERT_TRUE(all.Consistent());
  ASSERT_TRUE(parts.Consistent());
  EXPECT_EQ(parts.rows(), all.rows());
  EXPECT_EQ(parts.bytes(), all.bytes());
  // The 2- and 7-row batches joined the 300-row part before them (it is below kSmallPartRows).
  std::vector<size_t> sizes;
  for (const auto& p : parts.parts()) sizes.push_back(p.rows());
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 309, 500}));
  std::string native_parts, native_all;
  parts.WriteNative(&native_parts);
  all.WriteNative(&native_all);
  EXPECT_EQ(native_parts, native_all);
  clickhouse::RowBinaryWriter w1, w2;
  parts.WriteRowBinary(&w1);
  all.WriteRowBinary(&w2);
  EXPECT_EQ(w1.data(), w2.data());
  parts.Clear();
  EXPECT_EQ(parts.rows(), 0u);
  EXPECT_TRUE(parts.parts().empty());
}

// Many tiny requests make few parts: each joins the last part until it holds kSmallPartRows.
TEST(BatchParts, TinyBatchesJoinTheLastPart) {
  BatchParts<LogBatch> parts;
  for (int i = 0; i < 10000; ++i) {
    LogBatch b;
    b.timestamp.push_back(i);
    b.trace_id.Add("");
    b.span_id.Add("");
    b.trace_flags.push_back(0);
    b.severity_text.Add("INFO");
    b.severity_number.push_back(9);
    b.service_name.Add("svc");
    b.body.Add("line " + std::to_string(i));
    b.resource_attributes.EndRow();
    b.log_attributes.EndRow();
    parts.Add(&b);
  }
  EXPECT_EQ(parts.rows(), 10000u);
  ASSERT_EQ(parts.parts().size(), 3u);  // 4096 + 4096 + 1808
  EXPECT_EQ(parts.parts()[2].body[1807], "line 9999");
  EXPECT_TRUE(parts.Consistent());
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
