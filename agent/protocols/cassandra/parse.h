#pragma once
// Cassandra native protocol v4 (native_protocol_v4.spec): a 9-byte frame header — version (0x04
// request, 0x84 response), flags, i16 stream, opcode, u32 body length — then the body.
#include <cstdint>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::cassandra {

enum Opcode : uint8_t {
  kError = 0x00,
  kQuery = 0x07,
  kResult = 0x08,
  kPrepare = 0x09,
  kExecute = 0x0A,
  kBatch = 0x0D,
};

// The kernel's classifier: a v4 request with opcode QUERY, EXECUTE or BATCH.
bool DetectRequest(std::string_view buf);

// method = QUERY|EXECUTE|BATCH|PREPARE; statement = the CQL text (QUERY, PREPARE) or
// "EXECUTE <prepared id hex>" or "BATCH".
ParseResult ParseRequest(std::string_view buf, L7Request* out, int16_t* stream);

// RESULT → ok, ERROR → failed; *stream is the stream id to match the request by.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, int16_t* stream);

}  // namespace coroot::agent::protocols::cassandra
