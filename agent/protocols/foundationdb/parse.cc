#include "agent/protocols/foundationdb/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::foundationdb {
namespace {

struct Id {
  uint32_t id;
  std::string_view name;
};

// file_identifier values of FoundationDB's request types (the `file_identifier` constants of the
// structs in fdbclient/ and fdbserver/ interfaces). Keep in step with the fdb_ids table in
// bpf/l7.bpf.c (FDB_REQ entries).
constexpr Id kRequests[] = {
    {8454530, "GetValueRequest"},
    {6795746, "GetKeyValuesRequest"},  // also GetKeyValuesStreamRequest, ChangeFeedStreamRequest
    {6795747, "GetMappedKeyValuesRequest"},
    {10457870, "GetKeyRequest"},
    {14747733, "WatchValueRequest"},
    {838566, "GetReadVersionRequest"},
    {93948, "CommitTransactionRequest"},
    {7554186, "SetRequest"},
    {8500026, "ClearRequest"},
    {214728, "OpenDatabaseCoordRequest"},
    {2828131, "GlobalConfigRefreshRequest"},
    {9144680, "GetKeyServerLocationsRequest"},
    {9467439, "GetServerDBInfoRequest"},
    {9467438, "UpdateServerDBInfoRequest"},
    {14332605, "RegisterWorkerRequest"},
    {1254174, "GetWorkersRequest"},
    {905920, "RecruitStorageRequest"},
    {16665642, "InitializeStorageRequest"},
    {8265613, "InitializeGrvProxyRequest"},
    {10344153, "InitializeCommitProxyRequest"},
    {15604392, "InitializeTLogRequest"},
    {6416816, "InitializeRatekeeperRequest"},
    {4022206, "TLogCommitRequest"},
    {11001131, "TLogPeekRequest"},
    {10072821, "TLogPeekStreamRequest"},
    {13290999, "GetStorageMetricsRequest"},
    {14419140, "StatusRequest"},
    {4707015, "PingRequest"},
    {10624019, "EchoRequest"},
    {4146513, "NetworkTestRequest"},
    {72435, "RecruitBlobWorkerRequest"},
    {5838547, "InitializeBlobWorkerRequest"},
    {2567474, "InitializeBlobManagerRequest"},
    {1985879, "HaltBlobWorkerRequest"},
    {4149140, "HaltBlobManagerRequest"},
    {4150141, "BlobGranuleFileRequest"},
    {2508597, "GetBlobGranuleLocationsRequest"},
    {905381, "AssignBlobRangeRequest"},
    {4844288, "RevokeBlobRangeRequest"},
    {7932681, "InitializeBlobMigratorRequest"},
    {4980139, "HaltBlobMigratorRequest"},
    {4180191, "InitializeEncryptKeyProxyRequest"},
    {2378138, "HaltEncryptKeyProxyRequest"},
    {923040, "ConfigTransactionGetRequest"},
    {103841, "ConfigTransactionCommitRequest"},
    {178935, "ConfigFollowerGetChangesRequest"},
    {601281, "ConfigBroadcastChangesRequest"},
    {3104275, "InitializeConsistencyScanRequest"},
    {2323417, "HaltConsistencyScanRequest"},
};

// Reply types (24-bit base ids; on the wire with the ErrorOr wrapper byte on top). Keep in step
// with the fdb_ids table in bpf/l7.bpf.c (FDB_REP entries).
constexpr Id kReplies[] = {
    {1378929, "GetValueReply"},
    {1783066, "GetKeyValuesReply"},  // also the stream and change-feed replies
    {1783067, "GetMappedKeyValuesReply"},
    {11226513, "GetKeyReply"},
    {15709388, "GetReadVersionReply"},
    {3, "VersionReply"},  // also WatchValueReply, TLogCommitReply
    {11, "CheckReply"},
    {1389929, "AcknowledgementReply"},
    {2010442, "Void"},  // replies that carry nothing (commit acks, pings)
    {14254927, "CommitID"},  // CommitTransactionRequest's reply
    {11365689, "TLogPeekReply"},
    {10072848, "TLogPeekStreamReply"},
    {15491478, "GetStorageMetricsReply"},
    {10390645, "InitializeStorageReply"},
    {15877089, "RecruitStorageReply"},
    {3568822, "GetCommitVersionReply"},
    {9467439, "GetServerDBInfoReply"},
    {9980504, "StatusReply"},
    {9956350, "LoadedReply"},
    {16475696, "RegisterWorkerReply"},
    {14465374, "NetworkTestReply"},
    {9908409, "RecruitBlobWorkerReply"},
    {6095215, "InitializeBlobWorkerReply"},
    {6858612, "BlobGranuleFileReply"},
    {2923309, "GetBlobGranuleLocationsReply"},
    {6857512, "MinBlobVersionReply"},
    {12680327, "GlobalConfigRefreshReply"},
    {10636023, "GetKeyServerLocationsReply"},
    {2034110, "ConfigTransactionGetReply"},
    {2934851, "ConfigTransactionGetGenerationReply"},
    {234859, "ConfigFollowerGetChangesReply"},
    {4014928, "ConfigBroadcastChangesReply"},
    {11544290, "GetHealthMetricsReply"},
    {11530792, "SplitMetricsReply"},
    {7784298, "ProtocolInfoReply"},
    {7784299, "CheckDescriptorMutableReply"},
    {5355080, "ClientDBInfo"},
    {13838807, "ServerDBInfo"},
    {3985192, "RangeResultRef"},
    {16684234, "UniqueGeneration"},
};

std::string_view Find(const Id* begin, const Id* end, uint32_t id) {
  for (const Id* i = begin; i != end; ++i)
    if (i->id == id) return i->name;
  return {};
}

uint32_t Le32(std::string_view b, size_t o) {
  return static_cast<uint8_t>(b[o]) | static_cast<uint32_t>(static_cast<uint8_t>(b[o + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[o + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[o + 3])) << 24;
}
uint16_t Le16(std::string_view b, size_t o) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[o]) | static_cast<uint8_t>(b[o + 1]) << 8);
}

bool KnownId(uint32_t id, bool reply) {
  if (reply) return (id >> 24) == kErrorOrWrapper && !ReplyName(id & 0x00ffffff).empty();
  return !RequestName(id).empty();
}

// Offset of field `field` of the flatbuffers table at `table` in message m (vtable = table minus
// the table's signed offset; its u16 entries: vtable size, table size, field offsets), or 0 when
// absent or outside m.
size_t FieldOffset(std::string_view m, size_t table, size_t field) {
  if (table < 8 || table + 4 > m.size()) return 0;
  int64_t vt = static_cast<int64_t>(table) - static_cast<int32_t>(Le32(m, table));
  if (vt < 8 || static_cast<size_t>(vt) + 4 > m.size()) return 0;
  size_t v = static_cast<size_t>(vt);
  uint16_t vsize = Le16(m, v);
  size_t entry = v + 4 + 2 * field;
  if (vsize < 4 + 2 * (field + 1) || entry + 2 > m.size()) return 0;
  uint16_t off = Le16(m, entry);
  if (off < 4 || table + off >= m.size()) return 0;
  return table + off;
}

}  // namespace

std::string_view RequestName(uint32_t file_identifier) {
  return Find(std::begin(kRequests), std::end(kRequests), file_identifier);
}

std::string_view ReplyName(uint32_t base_identifier) {
  return Find(std::begin(kReplies), std::end(kReplies), base_identifier);
}

size_t ConnectPacketSize(std::string_view buf) {
  if (buf.size() < 12) return 0;
  if (static_cast<uint8_t>(buf[10]) != 0xdb || (static_cast<uint8_t>(buf[11]) & 0x0f) != 0x0f) return 0;
  uint32_t len = Le32(buf, 0);
  if (len < 24 || len > 64) return 0;
  return 4 + static_cast<size_t>(len);
}

ParseResult FindPacket(std::string_view buf, bool reply, Packet* out) {
  size_t o = ConnectPacketSize(buf);
  if (o > 0 && buf.size() <= o) return ParseResult::kNeedMoreData;  // a ConnectPacket alone
  std::string_view p = buf.substr(o);
  if (p.size() < 4) return ParseResult::kNeedMoreData;
  uint32_t len = Le32(p, 0);
  if (len < kMinPacketLength || len > kMaxPacketLength) return ParseResult::kInvalid;
  bool cut_head = buf.size() >= 1024;
  bool short_read = false;
  for (uint32_t w : {8u, 4u, 0u}) {
    size_t id_at = 4 + w + 16 + 4;
    if (p.size() < id_at + 4) {
      short_read = true;
      continue;
    }
    uint32_t id = Le32(p, id_at);
    if (!KnownId(id, reply)) continue;
    if (4 + w + static_cast<uint64_t>(len) > p.size() && !cut_head) continue;  // must fit (or be cut)
    out->length = len;
    out->checksum_width = w;
    out->file_identifier = id;
    out->message_offset = o + 4 + w + 16;
    return ParseResult::kSuccess;
  }
  return short_read ? ParseResult::kNeedMoreData : ParseResult::kInvalid;
}

bool DetectRequest(std::string_view buf) {
  Packet p;
  return FindPacket(buf, false, &p) == ParseResult::kSuccess;
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  Packet p;
  ParseResult r = FindPacket(buf, false, &p);
  if (r != ParseResult::kSuccess) return r;
  out->protocol = L7Protocol::kFoundationdb;
  out->method = std::string(RequestName(p.file_identifier));
  out->truncated = out->truncated || p.message_offset - 16 + p.length > buf.size();
  return ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, uint16_t* error_code) {
  *error_code = 0;
  Packet p;
  ParseResult r = FindPacket(buf, true, &p);
  if (r != ParseResult::kSuccess) return r;
  *status = kStatusOk;
  // The message: from the root-offset field to the packet's end (or the bytes at hand).
  size_t end = p.message_offset + (p.length - 16);
  std::string_view m = buf.substr(p.message_offset, end > buf.size() ? std::string_view::npos : end - p.message_offset);
  size_t root = Le32(m, 0);
  size_t type_at = FieldOffset(m, root, 0);  // the ErrorOr union's type byte
  if (type_at == 0 || static_cast<uint8_t>(m[type_at]) != 1) return ParseResult::kSuccess;
  *status = kStatusFailed;
  // The Error table (union value: a u32 offset relative to itself), its field 0 = u16 error code.
  size_t value_at = FieldOffset(m, root, 1);
  if (value_at == 0 || value_at + 4 > m.size()) return ParseResult::kSuccess;
  uint64_t error_table = value_at + static_cast<uint64_t>(Le32(m, value_at));
  if (error_table >= m.size()) return ParseResult::kSuccess;
  size_t code_at = FieldOffset(m, static_cast<size_t>(error_table), 0);
  if (code_at != 0 && code_at + 2 <= m.size()) *error_code = Le16(m, code_at);
  return ParseResult::kSuccess;
}

}  // namespace coroot::agent::protocols::foundationdb
