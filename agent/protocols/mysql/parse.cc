#include "agent/protocols/mysql/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::mysql {
namespace {

// Reads the packet header; *payload is what of the payload the buffer holds (maybe cut).
ParseResult ReadHeader(BinaryReader* r, uint32_t* len, uint8_t* seq, std::string_view* payload, bool* cut) {
  L7_RETURN_IF_NOT_OK(r->ReadLE24(len));
  L7_RETURN_IF_NOT_OK(r->ReadU8(seq));
  *cut = r->remaining() < *len;
  return r->ReadBytes(*cut ? r->remaining() : *len, payload);
}

bool IsKnownCommand(uint8_t c) {
  return c == kComQuery || c == kComStmtPrepare || c == kComStmtExecute || c == kComStmtClose;
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  BinaryReader r(buf);
  uint32_t len = 0;
  uint8_t seq = 0, cmd = 0;
  if (r.ReadLE24(&len) != ParseResult::kSuccess || r.ReadU8(&seq) != ParseResult::kSuccess) return false;
  if (seq != 0 || len < 1 || r.ReadU8(&cmd) != ParseResult::kSuccess) return false;
  if (!IsKnownCommand(cmd)) return false;
  if ((cmd == kComStmtExecute || cmd == kComStmtClose) && len < 5) return false;
  return true;
}

ParseResult ParseRequest(std::string_view buf, Request* out) {
  BinaryReader r(buf);
  uint32_t len = 0;
  uint8_t seq = 0;
  std::string_view payload;
  bool cut = false;
  L7_RETURN_IF_NOT_OK(ReadHeader(&r, &len, &seq, &payload, &cut));
  if (seq != 0 || len < 1) return ParseResult::kInvalid;
  BinaryReader p(payload);
  L7_RETURN_IF_NOT_OK(p.ReadU8(&out->command));
  switch (out->command) {
    case kComQuery:
    case kComStmtPrepare:
      out->query = std::string(p.rest());
      break;
    case kComStmtExecute:
    case kComStmtClose:
      if (len < 5) return ParseResult::kInvalid;
      L7_RETURN_IF_NOT_OK(p.ReadLE32(&out->statement_id));
      break;
    default:
      return ParseResult::kInvalid;
  }
  out->truncated = cut;
  return cut ? ParseResult::kNeedMoreData : ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status) {
  BinaryReader r(buf);
  uint32_t len = 0;
  uint8_t seq = 0, first = 0;
  L7_RETURN_IF_NOT_OK(r.ReadLE24(&len));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&seq));
  if (seq == 0 || len == 0) return ParseResult::kInvalid;
  L7_RETURN_IF_NOT_OK(r.ReadU8(&first));
  if (first == 0xff) {
    *status = kStatusFailed;
  } else if (first == 0x00 || first == 0xfe || len == 1) {
    *status = kStatusOk;
  } else if (first <= 0xfa && len == 2) {
    // A result-set header: the column count, followed by MariaDB's "metadata follows" byte when
    // the client negotiated metadata caching (MariaDB 10.6+ with libmariadb).
    *status = kStatusOk;
  } else {
    return ParseResult::kInvalid;
  }
  return ParseResult::kSuccess;
}

ParseResult ParsePrepareOk(std::string_view buf, uint32_t* statement_id) {
  BinaryReader r(buf);
  uint32_t len = 0;
  uint8_t seq = 0, first = 0;
  L7_RETURN_IF_NOT_OK(r.ReadLE24(&len));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&seq));
  if (seq == 0 || len < 12) return ParseResult::kInvalid;
  L7_RETURN_IF_NOT_OK(r.ReadU8(&first));
  if (first != 0x00) return ParseResult::kInvalid;
  return r.ReadLE32(statement_id);
}

ParseResult ParseError(std::string_view buf, uint16_t* code, std::string_view* message) {
  BinaryReader r(buf);
  uint32_t len = 0;
  uint8_t seq = 0, first = 0;
  L7_RETURN_IF_NOT_OK(r.ReadLE24(&len));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&seq));
  if (len < 3) return ParseResult::kInvalid;
  std::string_view payload;
  L7_RETURN_IF_NOT_OK(r.ReadBytes(len, &payload));
  BinaryReader p(payload);
  L7_RETURN_IF_NOT_OK(p.ReadU8(&first));
  if (first != 0xff) return ParseResult::kInvalid;
  L7_RETURN_IF_NOT_OK(p.ReadLE16(code));
  uint8_t marker = 0;
  if (p.PeekU8(&marker) == ParseResult::kSuccess && marker == '#') L7_RETURN_IF_NOT_OK(p.Skip(6));
  *message = p.rest();
  return ParseResult::kSuccess;
}

}  // namespace coroot::agent::protocols::mysql
