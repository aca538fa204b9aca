#include "agent/protocols/rabbitmq/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::rabbitmq {
namespace {

constexpr uint8_t kFrameMethod = 1;
constexpr uint8_t kFrameEnd = 0xCE;
constexpr uint16_t kClassBasic = 60;
constexpr uint16_t kMethodPublish = 40;
constexpr uint16_t kMethodDeliver = 60;

ParseResult ShortString(BinaryReader* r, std::string_view* s) {
  uint8_t n = 0;
  L7_RETURN_IF_NOT_OK(r->ReadU8(&n));
  return r->ReadBytes(n, s);
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  L7Request r;
  return ParseMessage(buf, &r) == ParseResult::kSuccess;
}

ParseResult ParseMessage(std::string_view buf, L7Request* out) {
  BinaryReader r(buf);
  uint8_t type = 0, end = 0;
  uint16_t channel = 0, cls = 0, method = 0;
  uint32_t size = 0;
  L7_RETURN_IF_NOT_OK(r.ReadU8(&type));
  L7_RETURN_IF_NOT_OK(r.ReadBE16(&channel));
  L7_RETURN_IF_NOT_OK(r.ReadBE32(&size));
  if (type != kFrameMethod || size < 4) return ParseResult::kInvalid;
  std::string_view payload;
  L7_RETURN_IF_NOT_OK(r.ReadBytes(size, &payload));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&end));
  if (end != kFrameEnd) return ParseResult::kInvalid;
  BinaryReader p(payload);
  L7_RETURN_IF_NOT_OK(p.ReadBE16(&cls));
  L7_RETURN_IF_NOT_OK(p.ReadBE16(&method));
  if (cls != kClassBasic || (method != kMethodPublish && method != kMethodDeliver)) return ParseResult::kInvalid;
  std::string_view exchange, routing_key;
  if (method == kMethodPublish) {
    uint16_t reserved = 0;
    if (p.ReadBE16(&reserved) != ParseResult::kSuccess || ShortString(&p, &exchange) != ParseResult::kSuccess ||
        ShortString(&p, &routing_key) != ParseResult::kSuccess)
      return ParseResult::kInvalid;
  } else {
    std::string_view consumer_tag;
    uint64_t delivery_tag = 0;
    uint8_t redelivered = 0;
    if (ShortString(&p, &consumer_tag) != ParseResult::kSuccess || p.ReadBE64(&delivery_tag) != ParseResult::kSuccess ||
        p.ReadU8(&redelivered) != ParseResult::kSuccess || ShortString(&p, &exchange) != ParseResult::kSuccess ||
        ShortString(&p, &routing_key) != ParseResult::kSuccess)
      return ParseResult::kInvalid;
  }
  out->protocol = L7Protocol::kRabbitmq;
  out->method = std::string(method == kMethodPublish ? kMethodProduce : kMethodConsume);
  out->path = std::string(routing_key);
  out->statement = "exchange=" + std::string(exchange) + " routing_key=" + std::string(routing_key);
  return ParseResult::kSuccess;
}

size_t CountMessages(std::string_view buf, bool produce) {
  const uint16_t want = produce ? kMethodPublish : kMethodDeliver;
  size_t n = 0;
  uint64_t pos = 0;
  while (pos + 11 <= buf.size()) {
    BinaryReader r(buf.substr(pos));
    uint8_t type = 0;
    uint16_t channel = 0, cls = 0, method = 0;
    uint32_t size = 0;
    if (r.ReadU8(&type) != ParseResult::kSuccess || r.ReadBE16(&channel) != ParseResult::kSuccess ||
        r.ReadBE32(&size) != ParseResult::kSuccess)
      break;
    if (type < 1 || type > 8) break;  // method, header, body, heartbeat (8): anything else is no frame
    if (type == kFrameMethod) {
      if (r.ReadBE16(&cls) != ParseResult::kSuccess || r.ReadBE16(&method) != ParseResult::kSuccess) break;
      if (cls == kClassBasic && method == want) n++;
    }
    uint64_t end = pos + 7 + uint64_t{size};
    if (end < buf.size() && static_cast<uint8_t>(buf[end]) != kFrameEnd) break;
    pos = end + 1;
  }
  return n;
}

}  // namespace coroot::agent::protocols::rabbitmq
