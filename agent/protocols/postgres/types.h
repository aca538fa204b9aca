#pragma once
// PostgreSQL frontend/backend protocol v3 message shapes (as documented in the PostgreSQL manual,
// "Frontend/Backend Protocol" → "Message Formats").
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coroot::agent::protocols::postgres {

// One tagged message: 1 type byte, int32 length (counting itself), body.
struct Message {
  char type = 0;
  std::string_view body;
};

// What a frontend buffer asks for, reduced to what the statement text needs.
struct Request {
  enum class Kind { kSimpleQuery, kExtendedQuery, kCloseOnly };
  Kind kind = Kind::kSimpleQuery;
  std::string query;  // 'Q' text, or the text of a 'P' in the same buffer
  struct Parse {
    std::string name;
    std::string query;
  };
  std::vector<Parse> parses;              // 'P' messages, in order
  bool has_bind = false;
  std::string bind_statement;             // the statement the (first) 'B' binds
  std::vector<std::string> closed_statements;  // 'C' 'S' <name>
  bool truncated = false;
};

inline constexpr size_t kMaxMessagesPerBuffer = 256;

}  // namespace coroot::agent::protocols::postgres
