#include "agent/protocols/postgres/stitch.h"

namespace coroot::agent::protocols::postgres {

std::string StitchStatement(const Request& req, StatementCache* statements) {
  for (const auto& name : req.closed_statements) statements->Erase(name);
  for (const auto& p : req.parses) statements->Put(p.name, p.query);
  switch (req.kind) {
    case Request::Kind::kSimpleQuery:
      return req.query;
    case Request::Kind::kCloseOnly:
      return req.closed_statements.empty() ? std::string("CLOSE") : "CLOSE " + req.closed_statements.front();
    case Request::Kind::kExtendedQuery:
      break;
  }
  if (!req.has_bind) return req.query;  // Parse (+Describe) only: the text being prepared
  if (const std::string* text = statements->Get(req.bind_statement)) return *text;
  return "EXECUTE " + req.bind_statement + " /* unknown */";
}

}  // namespace coroot::agent::protocols::postgres
