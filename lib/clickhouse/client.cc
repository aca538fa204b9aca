#include "lib/clickhouse/client.h"

#include <cctype>

#include "lib/base/strings.h"

namespace coroot::clickhouse {

int ParseErrorCode(std::string_view message) {
  // Both dialects start with it: 18.16 "Code: 62, e.displayText() = ...", current "Code: 62. DB::Exception: ...".
  auto pos = message.find("Code: ");
  if (pos == std::string_view::npos) return 0;
  // The code is the digits right after "Code: ", followed by '.' or ','.
  int code = 0;
  size_t digits = 0;
  for (size_t i = pos + 6; i < message.size() && std::isdigit(static_cast<unsigned char>(message[i])); ++i, ++digits) {
    code = code * 10 + (message[i] - '0');
    if (code > 1000000) return 0;
  }
  return digits > 0 ? code : 0;
}

namespace {

// ClickHouse's error-code registry (src/Common/ErrorCodes.cpp), only the codes we classify.
StatusCode CodeFor(int code, StatusCode fallback) {
  switch (code) {
    // The statement or its input is wrong: retrying the same thing will not help.
    case 6:    // CANNOT_PARSE_TEXT
    case 16:   // NO_SUCH_COLUMN_IN_TABLE
    case 26:   // CANNOT_PARSE_QUOTED_STRING
    case 27:   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    case 33:   // CANNOT_READ_ALL_DATA (truncated binary input)
    case 36:   // BAD_ARGUMENTS
    case 41:   // CANNOT_PARSE_DATETIME
    case 42:   // NUMBER_OF_ARGUMENTS_DOESNT_MATCH
    case 43:   // ILLEGAL_TYPE_OF_ARGUMENT
    case 44:   // ILLEGAL_COLUMN
    case 46:   // UNKNOWN_FUNCTION
    case 47:   // UNKNOWN_IDENTIFIER
    case 48:   // NOT_IMPLEMENTED
    case 50:   // UNKNOWN_TYPE
    case 53:   // TYPE_MISMATCH
    case 60:   // UNKNOWN_TABLE
    case 62:   // SYNTAX_ERROR
    case 73:   // UNKNOWN_FORMAT
    case 81:   // UNKNOWN_DATABASE
    case 115:  // UNKNOWN_SETTING
    case 117:  // INCORRECT_DATA
    case 277:  // INDEX_NOT_USED
    case 376:  // CANNOT_PARSE_UUID
      return StatusCode::kInvalidArgument;
    case 57:  // TABLE_ALREADY_EXISTS
    case 82:  // DATABASE_ALREADY_EXISTS
      return StatusCode::kAlreadyExists;
    case 192:  // UNKNOWN_USER
    case 193:  // WRONG_PASSWORD
    case 194:  // REQUIRED_PASSWORD
    case 195:  // IP_ADDRESS_NOT_ALLOWED
    case 497:  // ACCESS_DENIED
    case 516:  // AUTHENTICATION_FAILED
      return StatusCode::kPermissionDenied;
    case 159:  // TIMEOUT_EXCEEDED
      return StatusCode::kDeadlineExceeded;
    case 241:  // MEMORY_LIMIT_EXCEEDED
    case 252:  // TOO_MANY_PARTS
    case 396:  // TOO_MANY_ROWS_OR_BYTES
      return StatusCode::kResourceExhausted;
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 209:  // SOCKET_TIMEOUT
    case 210:  // NETWORK_ERROR
    case 242:  // TABLE_IS_READ_ONLY (replica lost ZooKeeper)
    case 999:  // KEEPER_EXCEPTION
      return StatusCode::kUnavailable;
    default:
      return fallback;
  }
}

}  // namespace

Status ErrorFromMessage(std::string_view message, StatusCode fallback) {
  std::string text = Trim(message);
  if (text.empty()) text = "ClickHouse returned an error without a message";
  return Status(CodeFor(ParseErrorCode(text), fallback), text);
}

std::string QuoteString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    switch (c) {
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
  return out + "'";
}

std::string QuoteIdentifier(std::string_view s) {
  std::string out = "`";
  for (char c : s) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out + "`";
}

}  // namespace coroot::clickhouse
