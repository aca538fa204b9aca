// libFuzzer target: DecodeLogsProto must never crash, and a decoded batch must encode to RowBinary with
// consistent columns.
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/clickhouse/row_binary.h"
#include "server/ingest/otlp/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  coroot::server::otlp::DecodeLimits limits;
  limits.max_value_bytes = 4096;
  coroot::server::storage::LogBatch batch;
  auto r = coroot::server::otlp::DecodeLogsProto(std::string_view(reinterpret_cast<const char*>(data), size), limits, &batch);
  if (r.ok()) {
    coroot::clickhouse::RowBinaryWriter w;
    batch.WriteRowBinary(&w);
    if (batch.rows() != r->accepted || !batch.Consistent()) __builtin_trap();
    std::string native;
    batch.WriteNative(&native);
  }
  return 0;
}
