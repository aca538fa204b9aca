#pragma once
// MySQL prepared statements across requests: COM_STMT_PREPARE text is remembered under the id the
// server assigned (reported by the kernel with the event, or read from the PREPARE_OK reply);
// COM_STMT_EXECUTE reports that text; COM_STMT_CLOSE forgets it.
#include <cstdint>
#include <string>

#include "agent/protocols/mysql/parse.h"
#include "agent/protocols/statement_cache.h"

namespace coroot::agent::protocols::mysql {

// prepared_id: the statement id of a successful COM_STMT_PREPARE (0 = unknown, nothing stored).
std::string StitchStatement(const Request& req, uint32_t prepared_id, StatementCache* statements);

}  // namespace coroot::agent::protocols::mysql
