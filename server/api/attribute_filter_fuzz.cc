// libFuzzer target: an `attr` filter of the read API comes from anyone's query string.
// AttributeFilterSql must never crash, and what it accepts must become one parenthesized
// condition in which the user's text appears only inside quoted literals: outside them, the SQL
// holds nothing but the map names, brackets, operators and match().
#include <cstdint>
#include <string>

#include "server/api/telemetry_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string filter(reinterpret_cast<const char*>(data), size);
  std::string sql;
  if (!coroot::server::AttributeFilterSql(filter, {"LogAttributes", "ResourceAttributes"}, &sql)) return 0;
  if (sql.empty() || sql.back() != ')' || (sql[0] != '(' && sql.rfind("NOT (", 0) != 0)) __builtin_trap();
  // Strip the quoted literals (QuoteString escapes ' and \ with a backslash).
  std::string outside;
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (quoted && sql[i] == '\\') {
      ++i;
    } else if (sql[i] == '\'') {
      quoted = !quoted;
    } else if (!quoted) {
      outside += sql[i];
    }
  }
  if (quoted) __builtin_trap();  // a literal left open
  for (char c : outside) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '(' || c == ')' || c == '[' ||
                         c == ']' || c == ' ' || c == '=' || c == ',';
    if (!allowed) __builtin_trap();
  }
  return 0;
}
