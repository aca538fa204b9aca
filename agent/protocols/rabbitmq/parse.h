#pragma once
// AMQP 0-9-1 (the AMQP 0-9-1 specification, "General Frame Format" and class basic): a frame is
// u8 type, u16 channel, u32 size, payload, 0xCE. A method frame (type 1) payload starts with u16
// class id and u16 method id. Basic.Publish (60,40) is a produce, Basic.Deliver (60,60) a consume.
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::rabbitmq {

bool DetectRequest(std::string_view buf);

// method = produce|consume; path = routing key; statement = "exchange=<e> routing_key=<rk>".
ParseResult ParseMessage(std::string_view buf, L7Request* out);

// Method frames Basic.Publish (produce) or Basic.Deliver (otherwise) in buf, a syscall's head,
// walking frame by frame (content header and body frames between them are skipped); a frame
// whose class and method ids are past the end of buf ends the count.
size_t CountMessages(std::string_view buf, bool produce);

}  // namespace coroot::agent::protocols::rabbitmq
