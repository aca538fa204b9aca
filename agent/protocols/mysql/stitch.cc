#include "agent/protocols/mysql/stitch.h"

namespace coroot::agent::protocols::mysql {

std::string StitchStatement(const Request& req, uint32_t prepared_id, StatementCache* statements) {
  switch (req.command) {
    case kComQuery:
      return req.query;
    case kComStmtPrepare:
      if (prepared_id != 0) statements->Put(std::to_string(prepared_id), req.query);
      return req.query;
    case kComStmtExecute: {
      if (const std::string* text = statements->Get(std::to_string(req.statement_id))) return *text;
      return "EXECUTE " + std::to_string(req.statement_id) + " /* unknown */";
    }
    case kComStmtClose:
      statements->Erase(std::to_string(req.statement_id));
      return "CLOSE " + std::to_string(req.statement_id);
    default:
      return {};
  }
}

}  // namespace coroot::agent::protocols::mysql
