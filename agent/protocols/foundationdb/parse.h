#pragma once
// FoundationDB's FlowTransport (the fdbserver <-> client wire), as its design notes
// (design/flow_transport.md in apple/foundationdb) and FlowTransport.actor.cpp describe it:
//
// - A connection opens with a ConnectPacket from each side: u32 length (LE, not counting itself),
//   u64 protocol version (LE; its top nibble holds flags, e.g. 0x1FDB00B072000000), then port,
//   connection id, addresses. Bytes 10..11 of it are therefore 0xDB, 0x?F.
// - Every later packet: u32 length (LE; counts the token and the message), a checksum (8 bytes,
//   XXH3-64, from 7.0 on; 4 bytes, CRC32C, up to 6.3; none on TLS connections), a 16-byte endpoint
//   token (the recipient), then the message as ObjectSerializer writes it (FDB's flatbuffers):
//   u32 root-table offset, u32 file_identifier, vtables and tables.
// - A file_identifier is a 24-bit type id; wrappers are composed into its top byte
//   (1 ReplyPromise, 2 ErrorOr, 3 VectorRef, 4 Optional). A reply goes out as
//   ErrorOr<EnsureTable<T>>: id (2 << 24) | T's id; its root table holds a union whose type byte is
//   1 for Error (alternative 0) and 2 for the value (alternative 1).
//
// Requests and replies are told apart by the file_identifier: a table of the common request types
// (GetValueRequest, GetKeyValuesRequest, CommitTransactionRequest, ...) and of their replies. The
// kernel (bpf/l7.bpf.c, foundationdb_*) does the same checks, in the same order.
#include <cstdint>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::foundationdb {

inline constexpr uint32_t kErrorOrWrapper = 2;  // top byte of an ErrorOr<T> reply's file_identifier
inline constexpr uint32_t kMinPacketLength = 16 + 8;  // token + root offset + file_identifier
inline constexpr uint32_t kMaxPacketLength = 1u << 27;  // well above FLOW_KNOBS->PACKET_LIMIT (100 MB)

// Name of a known request type ("GetValueRequest") or "" (id without wrapper bits).
std::string_view RequestName(uint32_t file_identifier);
// Name of a known reply type ("GetValueReply") or "" (the 24-bit base id).
std::string_view ReplyName(uint32_t base_identifier);

// Bytes of the ConnectPacket at the start of buf (4 + its length), or 0 when buf does not start with
// one (version bytes 10..11 = 0xDB, 0x?F, a length of 24..64).
size_t ConnectPacketSize(std::string_view buf);

// One packet's header as found: the checksum width tried (8, 4, 0: the first whose
// file_identifier is known wins), the file_identifier, and where the message starts.
struct Packet {
  uint32_t length = 0;
  uint32_t checksum_width = 0;
  uint32_t file_identifier = 0;
  size_t message_offset = 0;  // in buf: the root-offset field
};

// The first packet of buf (after a ConnectPacket, if any) when it carries a known request
// (reply = false) or a known ErrorOr reply (reply = true). The packet must fit in buf, unless buf
// is the 1024-byte head of a longer write.
ParseResult FindPacket(std::string_view buf, bool reply, Packet* out);

// The kernel's classifier: a known request type, as FindPacket finds it.
bool DetectRequest(std::string_view buf);

// method = the request type's name; statement empty (no spans for FoundationDB).
ParseResult ParseRequest(std::string_view buf, L7Request* out);

// A known reply: "failed" when its ErrorOr union holds an Error (type byte 1), else "ok" (also
// when the root table lies beyond the bytes at hand: only a visible Error makes a failure).
// *error_code = the Error's code when it is visible, else 0.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, uint16_t* error_code);

}  // namespace coroot::agent::protocols::foundationdb
