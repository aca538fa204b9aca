#pragma once
// NATS client protocol (docs.nats.io "Client Protocol"): text control lines ending in CRLF.
// PUB/HPUB are what a client sends (produce), MSG/HMSG what it receives (consume).
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::nats {

inline constexpr size_t kMaxSubjectLength = 1024;

bool DetectRequest(std::string_view buf);

// method = "produce" (PUB/HPUB) or "consume" (MSG/HMSG); path = subject; statement = the verb.
ParseResult ParseMessage(std::string_view buf, L7Request* out);

// Messages of one direction (PUB/HPUB when produce, MSG/HMSG otherwise) whose control line is
// complete in buf, a syscall's head: a batch of them is one read or write. Other control lines
// (PING, PONG, +OK, SUB, ...) between them are skipped; anything unparsable ends the count.
size_t CountMessages(std::string_view buf, bool produce);

}  // namespace coroot::agent::protocols::nats
