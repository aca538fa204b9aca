#pragma once
#include <string_view>
#include <vector>

#include "agent/protocols/postgres/types.h"
#include "agent/protocols/types.h"

namespace coroot::agent::protocols::postgres {

// The kernel's classifier: a 'Q' or 'C' message filling the buffer exactly, or a buffer that ends
// with Sync ('S', length 4).
bool DetectRequest(std::string_view buf);

// Splits a buffer into tagged messages. kSuccess when it ends on a message boundary; kNeedMoreData
// when the last message is cut (the complete ones are still returned); kInvalid on a length < 4.
ParseResult SplitMessages(std::string_view buf, std::vector<Message>* out);

// Decodes the frontend messages of one request buffer (Q / P B D E S H C).
ParseResult ParseRequest(std::string_view buf, Request* out);

// The first backend message that decides the outcome: 'E' → failed; 'T' 'D' 'C' 't' 'n' 'I' 's' '3' 'Z'
// → ok; ParseComplete '1', BindComplete '2', NoticeResponse 'N' and ParameterStatus 'S' are skipped.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status);

// The "message" field ('M') of an ErrorResponse body, if present.
std::string_view ErrorMessage(std::string_view error_body);

}  // namespace coroot::agent::protocols::postgres
