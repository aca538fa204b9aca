#pragma once
// MongoDB wire protocol (mongodb.com "MongoDB Wire Protocol"): a 16-byte little-endian header
// (messageLength, requestID, responseTo, opCode); OP_MSG (2013) = flagBits, then sections — kind 0:
// one BSON document, kind 1: int32 size, cstring identifier, documents. BSON per bsonspec.org.
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::mongo {

inline constexpr int32_t kOpMsg = 2013;
inline constexpr int32_t kOpCompressed = 2012;
inline constexpr int kMaxDepth = 16;               // nested documents rendered
inline constexpr size_t kMaxRenderedBytes = 4096;  // text kept per statement

struct Header {
  int32_t length = 0, request_id = 0, response_to = 0, op_code = 0;
};

ParseResult ParseHeader(std::string_view buf, Header* out);

// The kernel's classifier: OP_MSG / OP_COMPRESSED with responseTo == 0 and a length matching the
// buffer (or a cut 1024-byte head).
bool DetectRequest(std::string_view buf);
// A reply: responseTo != 0.
bool DetectResponse(std::string_view buf);

// Renders one BSON document as relaxed extended JSON text, e.g.
// {"find": "users", "filter": {"age": {"$gt": 30}}, "$db": "shop"}. Bounded by kMaxDepth and
// kMaxRenderedBytes (cut text ends with "..."). A document cut by the buffer's end renders what is
// there and returns kNeedMoreData.
ParseResult RenderBson(std::string_view doc, std::string* out);

// statement = the kind-0 body rendered (plus kind-1 sections as `identifier: [docs]`); method =
// the command name (the body's first key). OP_COMPRESSED yields method "compressed" only.
ParseResult ParseRequest(std::string_view buf, L7Request* out);

}  // namespace coroot::agent::protocols::mongo
