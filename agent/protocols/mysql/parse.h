#pragma once
// MySQL / MariaDB client/server protocol (MySQL's "Client/Server Protocol" documentation):
// packets are a 3-byte little-endian length, a sequence id, then the payload.
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::mysql {

enum Command : uint8_t {
  kComQuery = 0x03,
  kComStmtPrepare = 0x16,
  kComStmtExecute = 0x17,
  kComStmtClose = 0x19,
};

struct Request {
  uint8_t command = 0;
  std::string query;          // COM_QUERY / COM_STMT_PREPARE text (possibly cut)
  uint32_t statement_id = 0;  // COM_STMT_EXECUTE / COM_STMT_CLOSE
  bool truncated = false;
};

// The kernel's classifier: header with sequence 0 and one of the four commands above.
bool DetectRequest(std::string_view buf);
ParseResult ParseRequest(std::string_view buf, Request* out);

// Response packets have sequence > 0: OK (0x00) / EOF (0xfe) / a 1-byte packet (column count) /
// a 2-byte column count + MariaDB metadata flag → ok; ERR (0xff) → failed.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status);

// COM_STMT_PREPARE_OK: 0x00, u32 statement id, u16 columns, u16 params, ...
ParseResult ParsePrepareOk(std::string_view buf, uint32_t* statement_id);

// ERR packet: 0xff, u16 code, '#' + 5-byte SQL state, message.
ParseResult ParseError(std::string_view buf, uint16_t* code, std::string_view* message);

}  // namespace coroot::agent::protocols::mysql
