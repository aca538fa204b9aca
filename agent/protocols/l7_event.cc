#include "agent/protocols/l7_event.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols {

const char* ParseResultName(ParseResult r) {
  switch (r) {
    case ParseResult::kSuccess: return "success";
    case ParseResult::kNeedMoreData: return "need_more_data";
    case ParseResult::kInvalid: return "invalid";
  }
  return "?";
}

ParseResult DecodeL7Event(std::string_view raw, L7Event* out) {
  BinaryReader r(raw);
  uint32_t status = 0, stmt = 0;
  uint8_t proto = 0, method = 0, inbound = 0, pad = 0;
  L7_RETURN_IF_NOT_OK(r.ReadLE64(&out->fd));
  L7_RETURN_IF_NOT_OK(r.ReadLE64(&out->connection_timestamp));
  L7_RETURN_IF_NOT_OK(r.ReadLE32(&out->pid));
  L7_RETURN_IF_NOT_OK(r.ReadLE32(&status));
  L7_RETURN_IF_NOT_OK(r.ReadLE64(&out->duration_ns));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&proto));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&method));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&inbound));
  L7_RETURN_IF_NOT_OK(r.ReadU8(&pad));
  L7_RETURN_IF_NOT_OK(r.ReadLE32(&stmt));
  L7_RETURN_IF_NOT_OK(r.ReadLE64(&out->payload_size));
  if (proto == 0 || proto > kMaxProtocolId) return ParseResult::kInvalid;
  out->status = static_cast<int32_t>(status);
  out->protocol = static_cast<L7Protocol>(proto);
  out->method = method;
  out->is_inbound = inbound != 0;
  out->statement_id = stmt;
  size_t n = out->payload_size < kMaxPayloadSize ? static_cast<size_t>(out->payload_size) : kMaxPayloadSize;
  if (n > r.remaining()) n = r.remaining();
  (void)r.ReadBytes(n, &out->payload);
  return ParseResult::kSuccess;
}

}  // namespace coroot::agent::protocols
