#include "agent/protocols/cassandra/parse.h"

#include "agent/protocols/byte_reader.h"
#include "lib/base/strings.h"

namespace coroot::agent::protocols::cassandra {
namespace {

constexpr uint32_t kMaxBody = 256u << 20;  // the protocol's default frame limit
constexpr size_t kMaxIdBytesShown = 32;

ParseResult Header(BinaryReader* r, uint8_t* version, int16_t* stream, uint8_t* opcode, uint32_t* len) {
  uint8_t flags = 0;
  uint16_t s = 0;
  L7_RETURN_IF_NOT_OK(r->ReadU8(version));
  L7_RETURN_IF_NOT_OK(r->ReadU8(&flags));
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&s));
  L7_RETURN_IF_NOT_OK(r->ReadU8(opcode));
  L7_RETURN_IF_NOT_OK(r->ReadBE32(len));
  *stream = static_cast<int16_t>(s);
  if (*len > kMaxBody) return ParseResult::kInvalid;
  return ParseResult::kSuccess;
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  BinaryReader r(buf);
  uint8_t version = 0, opcode = 0;
  int16_t stream = 0;
  uint32_t len = 0;
  if (Header(&r, &version, &stream, &opcode, &len) != ParseResult::kSuccess) return false;
  return version == 0x04 && stream >= 0 && (opcode == kQuery || opcode == kExecute || opcode == kBatch);
}

ParseResult ParseRequest(std::string_view buf, L7Request* out, int16_t* stream) {
  BinaryReader r(buf);
  uint8_t version = 0, opcode = 0;
  uint32_t len = 0;
  L7_RETURN_IF_NOT_OK(Header(&r, &version, stream, &opcode, &len));
  if (version != 0x04 || *stream < 0) return ParseResult::kInvalid;
  out->protocol = L7Protocol::kCassandra;
  bool cut = r.remaining() < len;
  BinaryReader body(r.rest().substr(0, len));
  switch (opcode) {
    case kQuery:
    case kPrepare: {
      out->method = opcode == kQuery ? "QUERY" : "PREPARE";
      uint32_t qlen = 0;
      L7_RETURN_IF_NOT_OK(body.ReadBE32(&qlen));
      if (qlen > len) return ParseResult::kInvalid;
      std::string_view q;
      if (body.ReadBytes(qlen, &q) != ParseResult::kSuccess) {
        if (!cut) return ParseResult::kInvalid;
        q = body.rest();
        out->truncated = true;
      }
      out->statement = std::string(q);
      break;
    }
    case kExecute: {
      out->method = "EXECUTE";
      uint16_t idlen = 0;
      std::string_view id;
      L7_RETURN_IF_NOT_OK(body.ReadBE16(&idlen));
      L7_RETURN_IF_NOT_OK(body.ReadBytes(idlen, &id));
      // Prepared ids are 16-byte MD5s; a longer one is shown by its first 32 bytes.
      out->statement = "EXECUTE " + HexEncode(id.substr(0, kMaxIdBytesShown));
      break;
    }
    case kBatch:
      out->method = "BATCH";
      out->statement = "BATCH";
      break;
    default:
      return ParseResult::kInvalid;
  }
  out->truncated = out->truncated || cut;
  return cut ? ParseResult::kNeedMoreData : ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, int16_t* stream) {
  BinaryReader r(buf);
  uint8_t version = 0, opcode = 0;
  uint32_t len = 0;
  L7_RETURN_IF_NOT_OK(Header(&r, &version, stream, &opcode, &len));
  if (version != 0x84) return ParseResult::kInvalid;
  if (opcode == kResult) {
    *status = kStatusOk;
  } else if (opcode == kError) {
    *status = kStatusFailed;
  } else {
    return ParseResult::kInvalid;
  }
  return ParseResult::kSuccess;
}

}  // namespace coroot::agent::protocols::cassandra
