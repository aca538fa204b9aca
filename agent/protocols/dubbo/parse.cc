#include "agent/protocols/dubbo/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::dubbo {
namespace {

constexpr uint8_t kFlagRequest = 0x80;
constexpr uint8_t kFlagTwoWay = 0x40;
constexpr uint8_t kFlagEvent = 0x20;
constexpr uint8_t kSerializationHessian2 = 2;
constexpr uint32_t kMaxBody = 8u << 20;  // Dubbo's default payload limit

ParseResult Header(BinaryReader* r, uint8_t* flags, uint8_t* status, uint64_t* id, uint32_t* len) {
  uint16_t magic = 0;
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&magic));
  if (magic != 0xdabb) return ParseResult::kInvalid;
  L7_RETURN_IF_NOT_OK(r->ReadU8(flags));
  L7_RETURN_IF_NOT_OK(r->ReadU8(status));
  L7_RETURN_IF_NOT_OK(r->ReadBE64(id));
  L7_RETURN_IF_NOT_OK(r->ReadBE32(len));
  if (*len > kMaxBody) return ParseResult::kInvalid;
  return ParseResult::kSuccess;
}

// A hessian2 string in its compact forms: 0x00-0x1f (length in the byte), 0x30-0x33 (length in
// 2 bytes), 'S' (u16 length). Lengths count UTF-16 units; these names are ASCII, so bytes.
ParseResult HessianString(BinaryReader* r, std::string_view* s) {
  uint8_t tag = 0;
  L7_RETURN_IF_NOT_OK(r->ReadU8(&tag));
  size_t n = 0;
  if (tag <= 0x1f) {
    n = tag;
  } else if (tag >= 0x30 && tag <= 0x33) {
    uint8_t lo = 0;
    L7_RETURN_IF_NOT_OK(r->ReadU8(&lo));
    n = (static_cast<size_t>(tag - 0x30) << 8) | lo;
  } else if (tag == 'S') {
    uint16_t len = 0;
    L7_RETURN_IF_NOT_OK(r->ReadBE16(&len));
    n = len;
  } else if (tag == 'N') {  // null (e.g. no service version)
    *s = {};
    return ParseResult::kSuccess;
  } else {
    return ParseResult::kInvalid;
  }
  L7_RETURN_IF_NOT_OK(r->ReadBytes(n, s));
  for (unsigned char c : *s)
    if (c < 0x20 || c >= 0x7f) return ParseResult::kInvalid;
  return ParseResult::kSuccess;
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  BinaryReader r(buf);
  uint8_t flags = 0, status = 0;
  uint64_t id = 0;
  uint32_t len = 0;
  if (Header(&r, &flags, &status, &id, &len) != ParseResult::kSuccess) return false;
  return (flags & kFlagRequest) && (flags & kFlagTwoWay) && !(flags & kFlagEvent);
}

ParseResult ParseRequest(std::string_view buf, L7Request* out, uint64_t* request_id) {
  BinaryReader r(buf);
  uint8_t flags = 0, status = 0;
  uint32_t len = 0;
  L7_RETURN_IF_NOT_OK(Header(&r, &flags, &status, request_id, &len));
  if (!(flags & kFlagRequest) || (flags & kFlagEvent)) return ParseResult::kInvalid;
  out->protocol = L7Protocol::kDubbo2;
  out->truncated = out->truncated || r.remaining() < len;
  if ((flags & 0x1f) != kSerializationHessian2) return ParseResult::kSuccess;
  BinaryReader body(r.rest().substr(0, len));
  std::string_view version, path, service_version, method;
  if (HessianString(&body, &version) != ParseResult::kSuccess || HessianString(&body, &path) != ParseResult::kSuccess ||
      HessianString(&body, &service_version) != ParseResult::kSuccess ||
      HessianString(&body, &method) != ParseResult::kSuccess)
    return ParseResult::kSuccess;  // the header stands; the names are a bonus
  out->method = std::string(path) + "/" + std::string(method);
  out->statement = out->method;
  return ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, uint64_t* request_id) {
  BinaryReader r(buf);
  uint8_t flags = 0, st = 0;
  uint32_t len = 0;
  L7_RETURN_IF_NOT_OK(Header(&r, &flags, &st, request_id, &len));
  if (flags & kFlagRequest) return ParseResult::kInvalid;
  switch (st) {
    case 20:
      *status = kStatusOk;
      return ParseResult::kSuccess;
    case 30: case 31: case 40: case 50: case 60: case 70: case 80: case 90: case 100:
      *status = kStatusFailed;
      return ParseResult::kSuccess;
    default:
      return ParseResult::kInvalid;
  }
}

}  // namespace coroot::agent::protocols::dubbo
