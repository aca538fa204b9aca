#pragma once
// The D-Bus wire format, as much as a client asking systemd for unit properties needs (written
// from the D-Bus specification): method calls out; replies and errors in, with every length and
// nesting level checked, so a hostile or broken peer gets an error, never a crash.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::containers::dbus {

enum MessageType : uint8_t { kMethodCall = 1, kMethodReturn = 2, kError = 3, kSignal = 4 };

// Largest message accepted (the spec allows 128 MiB; systemd's GetAll of a unit is ~20 KiB).
constexpr size_t kMaxMessage = 4u << 20;

// A little-endian METHOD_CALL with the given header fields and an already-marshalled body.
std::string MethodCall(uint32_t serial, std::string_view path, std::string_view interface, std::string_view member,
                       std::string_view destination, std::string_view signature, std::string_view body);
// Appends a STRING at the end of a body being built (bodies start 8-aligned).
void AppendString(std::string* body, std::string_view s);

struct Message {
  uint8_t type = 0;
  uint32_t serial = 0;
  uint32_t reply_serial = 0;
  std::string error_name;
  std::string signature;
  bool big_endian = false;
  std::string body;
};

// How many bytes the message at the start of buf takes: 0 when more bytes are needed to tell, an
// error when its header is invalid or it is larger than kMaxMessage.
StatusOr<size_t> MessageSize(std::string_view buf);
// One whole message (buf.size() == MessageSize(buf)).
StatusOr<Message> ParseMessage(std::string_view buf);

// A property value this client reads; values of every other type are skipped.
using PropertyValue = std::variant<std::string, std::vector<std::string>, uint64_t, bool>;
// The a{sv} body of org.freedesktop.DBus.Properties.GetAll: strings (s, o, g), string arrays (as),
// unsigned/signed integers and booleans by name; other values are skipped by their signature.
StatusOr<std::map<std::string, PropertyValue>> ParseProperties(const Message& reply);

// The first string of an ERROR reply's body (its human-readable message), or "".
std::string ErrorText(const Message& reply);

}  // namespace coroot::agent::containers::dbus
