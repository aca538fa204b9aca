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

}  // namespace coroot::agent::protocols::nats
