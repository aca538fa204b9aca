#pragma once
// Postgres statement text across requests: Parse messages are remembered per connection so a later
// Bind/Execute of the same statement is reported with its SQL; Close forgets them.
#include <string>

#include "agent/protocols/postgres/types.h"
#include "agent/protocols/statement_cache.h"

namespace coroot::agent::protocols::postgres {

// Applies the request to the connection's statements and returns the statement text to report:
// the query; or the prepared text for a Bind; or "EXECUTE <name> /* unknown */" when its Parse was
// not seen. Close-only requests return "CLOSE <name>".
std::string StitchStatement(const Request& req, StatementCache* statements);

}  // namespace coroot::agent::protocols::postgres
