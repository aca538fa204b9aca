#include "agent/protocols/clickhouse/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::clickhouse {
namespace {

// Revisions at which ClientInfo / Query fields appeared (ClickHouse's protocol history).
constexpr uint64_t kRevQuotaKey = 54060;
constexpr uint64_t kRevVersionPatch = 54401;
constexpr uint64_t kRevSettingsAsStrings = 54429;
constexpr uint64_t kRevInterserverSecret = 54441;
constexpr uint64_t kRevOpenTelemetry = 54442;
constexpr uint64_t kRevDistributedDepth = 54448;
constexpr uint64_t kRevQueryStartTime = 54449;
constexpr uint64_t kRevParallelReplicas = 54453;

ParseResult ReadVarint(BinaryReader* r, uint64_t* v) {
  *v = 0;
  for (int i = 0; i < 10; i++) {
    uint8_t b = 0;
    L7_RETURN_IF_NOT_OK(r->ReadU8(&b));
    *v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return ParseResult::kSuccess;
  }
  return ParseResult::kInvalid;
}

ParseResult ReadString(BinaryReader* r, std::string_view* s, size_t max) {
  uint64_t n = 0;
  L7_RETURN_IF_NOT_OK(ReadVarint(r, &n));
  if (n > max) return ParseResult::kInvalid;
  return r->ReadBytes(static_cast<size_t>(n), s);
}

// Settings, secret, stage, compression, query — from r on. The query may be cut by the buffer end.
ParseResult ReadTail(BinaryReader* r, uint64_t revision, Query* out) {
  for (int i = 0; i < 1024; i++) {  // settings: name (empty ends), [flags], value
    std::string_view name, value;
    L7_RETURN_IF_NOT_OK(ReadString(r, &name, kMaxShortString));
    if (name.empty()) break;
    if (revision != 0 && revision < kRevSettingsAsStrings) return ParseResult::kInvalid;  // typed values
    uint64_t flags = 0;
    L7_RETURN_IF_NOT_OK(ReadVarint(r, &flags));
    L7_RETURN_IF_NOT_OK(ReadString(r, &value, 1 << 16));
    if (i == 1023) return ParseResult::kInvalid;
  }
  if (revision >= kRevInterserverSecret) {
    std::string_view secret;
    L7_RETURN_IF_NOT_OK(ReadString(r, &secret, kMaxShortString));
  }
  uint64_t stage = 0, compression = 0, qlen = 0;
  L7_RETURN_IF_NOT_OK(ReadVarint(r, &stage));
  L7_RETURN_IF_NOT_OK(ReadVarint(r, &compression));
  if (stage > 3 || compression > 1) return ParseResult::kInvalid;
  L7_RETURN_IF_NOT_OK(ReadVarint(r, &qlen));
  if (qlen == 0 || qlen > (256u << 20)) return ParseResult::kInvalid;
  std::string_view q;
  if (r->ReadBytes(static_cast<size_t>(qlen), &q) != ParseResult::kSuccess) {
    if (r->empty()) return ParseResult::kNeedMoreData;
    q = r->rest();
    out->truncated = true;
  }
  out->query = std::string(q);
  return out->truncated ? ParseResult::kNeedMoreData : ParseResult::kSuccess;
}

// ClientInfo after the address strings; with_start_time: an 8-byte start time comes first.
ParseResult ReadClientInfoRest(BinaryReader* r, bool with_start_time, Query* out) {
  if (with_start_time) L7_RETURN_IF_NOT_OK(r->Skip(8));
  uint8_t iface = 0;
  L7_RETURN_IF_NOT_OK(r->ReadU8(&iface));
  if (iface != 1) return ParseResult::kInvalid;  // only TCP clients (HTTP-initiated secondary queries: no)
  std::string_view os_user, host, name;
  uint64_t major = 0, minor = 0, rev = 0;
  L7_RETURN_IF_NOT_OK(ReadString(r, &os_user, kMaxShortString));
  L7_RETURN_IF_NOT_OK(ReadString(r, &host, kMaxShortString));
  L7_RETURN_IF_NOT_OK(ReadString(r, &name, kMaxShortString));
  L7_RETURN_IF_NOT_OK(ReadVarint(r, &major));
  L7_RETURN_IF_NOT_OK(ReadVarint(r, &minor));
  L7_RETURN_IF_NOT_OK(ReadVarint(r, &rev));
  if (rev < 54000 || rev > 60000 || with_start_time != (rev >= kRevQueryStartTime)) return ParseResult::kInvalid;
  out->client_name = std::string(name);
  out->revision = rev;
  if (rev >= kRevQuotaKey) {
    std::string_view quota;
    L7_RETURN_IF_NOT_OK(ReadString(r, &quota, kMaxShortString));
  }
  uint64_t v = 0;
  if (rev >= kRevDistributedDepth) L7_RETURN_IF_NOT_OK(ReadVarint(r, &v));
  if (rev >= kRevVersionPatch) L7_RETURN_IF_NOT_OK(ReadVarint(r, &v));
  if (rev >= kRevOpenTelemetry) {
    uint8_t has_trace = 0;
    L7_RETURN_IF_NOT_OK(r->ReadU8(&has_trace));
    if (has_trace > 1) return ParseResult::kInvalid;
    if (has_trace) {
      std::string_view state;
      uint8_t flags = 0;
      L7_RETURN_IF_NOT_OK(r->Skip(24));  // trace id, span id
      L7_RETURN_IF_NOT_OK(ReadString(r, &state, 4096));
      L7_RETURN_IF_NOT_OK(r->ReadU8(&flags));
    }
  }
  if (rev >= kRevParallelReplicas) {
    for (int i = 0; i < 3; i++) L7_RETURN_IF_NOT_OK(ReadVarint(r, &v));
  }
  return ParseResult::kSuccess;
}

bool Printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x09 || (c > 0x0d && c < 0x20)) return false;
  return true;
}

}  // namespace

ParseResult ParseQuery(std::string_view buf, Query* out) {
  BinaryReader r(buf);
  uint64_t type = 0;
  L7_RETURN_IF_NOT_OK(ReadVarint(&r, &type));
  if (type != 1) return ParseResult::kInvalid;
  std::string_view qid;
  L7_RETURN_IF_NOT_OK(ReadString(&r, &qid, kMaxShortString));
  out->query_id = std::string(qid);
  L7_RETURN_IF_NOT_OK(r.ReadU8(&out->kind));
  if (out->kind > 2) return ParseResult::kInvalid;
  if (out->kind != 0) {
    std::string_view user, id, addr;
    L7_RETURN_IF_NOT_OK(ReadString(&r, &user, kMaxShortString));
    L7_RETURN_IF_NOT_OK(ReadString(&r, &id, kMaxShortString));
    L7_RETURN_IF_NOT_OK(ReadString(&r, &addr, kMaxShortString));
    // Whether an 8-byte start time precedes the interface byte depends on the revision, which
    // comes after it: try both layouts; the revision read must agree with the one chosen.
    BinaryReader without = r, with = r;
    Query a = *out, b = *out;
    if (ReadClientInfoRest(&without, false, &a) == ParseResult::kSuccess) {
      r = without;
      *out = std::move(a);
    } else if (ReadClientInfoRest(&with, true, &b) == ParseResult::kSuccess) {
      r = with;
      *out = std::move(b);
    } else {
      return buf.size() < 64 ? ParseResult::kNeedMoreData : ParseResult::kInvalid;
    }
  }
  ParseResult res = ReadTail(&r, out->revision, out);
  if (res == ParseResult::kInvalid) return res;
  if (!out->query.empty() && !Printable(out->query)) return ParseResult::kInvalid;
  return res;
}

namespace {

// The kernel's detector (bpf/l7.bpf.c is_clickhouse_query), mirrored: ClientInfo strings with a
// one-byte length (< 128), a TCP client, and a 3-byte revision in 54000..60000 that agrees with
// the layout tried (an 8-byte start time before the interface from revision 54449 on).
bool ShortString(BinaryReader* r) {
  uint8_t n = 0;
  return r->ReadU8(&n) == ParseResult::kSuccess && n < 128 && r->Skip(n) == ParseResult::kSuccess;
}

bool DetectClientInfo(BinaryReader r, bool with_start_time) {
  uint8_t iface = 0, major = 0, minor = 0, b[3] = {};
  if (with_start_time && r.Skip(8) != ParseResult::kSuccess) return false;
  if (r.ReadU8(&iface) != ParseResult::kSuccess || iface != 1) return false;
  for (int i = 0; i < 3; i++)
    if (!ShortString(&r)) return false;
  if (r.ReadU8(&major) != ParseResult::kSuccess || r.ReadU8(&minor) != ParseResult::kSuccess) return false;
  for (auto& x : b)
    if (r.ReadU8(&x) != ParseResult::kSuccess) return false;
  if (((major | minor) & 0x80) || !(b[0] & 0x80) || !(b[1] & 0x80) || (b[2] & 0x80)) return false;
  uint32_t rev = (b[0] & 0x7fu) | ((b[1] & 0x7fu) << 7) | (uint32_t{b[2]} << 14);
  return rev >= 54000 && rev <= 60000 && with_start_time == (rev >= kRevQueryStartTime);
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  if (buf.size() < 24) return false;
  BinaryReader r(buf);
  uint8_t type = 0, qid_len = 0, kind = 0;
  if (r.ReadU8(&type) != ParseResult::kSuccess || type != 1) return false;
  if (r.ReadU8(&qid_len) != ParseResult::kSuccess || (qid_len != 0 && qid_len != 36)) return false;
  if (r.Skip(qid_len) != ParseResult::kSuccess) return false;
  if (r.ReadU8(&kind) != ParseResult::kSuccess || (kind != 1 && kind != 2)) return false;
  for (int i = 0; i < 3; i++)  // initial user, initial query id, initial address
    if (!ShortString(&r)) return false;
  return DetectClientInfo(r, false) || DetectClientInfo(r, true);
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  Query q;
  ParseResult res = ParseQuery(buf, &q);
  if (res == ParseResult::kInvalid || q.query.empty()) return res == ParseResult::kInvalid ? res : ParseResult::kNeedMoreData;
  out->protocol = L7Protocol::kClickhouse;
  out->method = "query";
  out->statement = std::move(q.query);
  out->truncated = out->truncated || q.truncated;
  return res;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status) {
  BinaryReader r(buf);
  uint64_t type = 0;
  L7_RETURN_IF_NOT_OK(ReadVarint(&r, &type));
  switch (type) {
    case 2:
      *status = kStatusFailed;
      return ParseResult::kSuccess;
    case 1: case 3: case 5: case 6: case 7: case 8: case 10: case 11: case 14:
      *status = kStatusOk;
      return ParseResult::kSuccess;
    default:
      return ParseResult::kInvalid;
  }
}

ParseResult ParseException(std::string_view buf, int32_t* code, std::string_view* message) {
  BinaryReader r(buf);
  uint64_t type = 0;
  uint32_t c = 0;
  std::string_view name;
  L7_RETURN_IF_NOT_OK(ReadVarint(&r, &type));
  if (type != 2) return ParseResult::kInvalid;
  L7_RETURN_IF_NOT_OK(r.ReadLE32(&c));
  *code = static_cast<int32_t>(c);
  L7_RETURN_IF_NOT_OK(ReadString(&r, &name, kMaxShortString));
  return ReadString(&r, message, 1 << 20);
}

}  // namespace coroot::agent::protocols::clickhouse
