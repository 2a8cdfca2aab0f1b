#pragma once
// ENRP messages (RFC 5353 section 2) as C++ values, and their codec.
// Every ENRP message carries the sending and receiving server IDs after the
// common header; the receiving ID is 0 when group-cast. Same conventions as
// asap.hpp.
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/wire/decode_error.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::wire::enrp {

enum class MessageType : std::uint8_t {
  presence = 0x01,
  handle_table_request = 0x02,
  handle_table_response = 0x03,
  handle_update = 0x04,
  list_request = 0x05,
  list_response = 0x06,
  init_takeover = 0x07,
  init_takeover_ack = 0x08,
  takeover_server = 0x09,
  error = 0x0a,
};

std::string_view to_string(MessageType t) noexcept;

// Flag bits. The PRESENCE reply-required bit is not drawn in RFC 5353;
// 0x01 is where rsplib and Wireshark put it.
inline constexpr std::uint8_t kReplyRequiredFlag = 0x01;   // PRESENCE
inline constexpr std::uint8_t kOwnChildrenOnlyFlag = 0x01;  // W, HANDLE_TABLE_REQUEST
inline constexpr std::uint8_t kRejectFlag = 0x01;          // R, HANDLE_TABLE_RESPONSE, LIST_RESPONSE
inline constexpr std::uint8_t kMoreToSendFlag = 0x02;      // M, HANDLE_TABLE_RESPONSE
inline constexpr std::uint8_t kTakeoverSuggestedFlag = 0x01;  // T, HANDLE_UPDATE (enrp-takeover draft)

enum class UpdateAction : std::uint16_t { add_pe = 0x0000, del_pe = 0x0001 };

struct Presence {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  bool reply_required = false;
  std::uint16_t pe_checksum = 0;  // of the PEs the sender owns (computed by the handlespace)
  // Mandatory when answering a reply-required PRESENCE.
  std::optional<ServerInformation> server_information;
  friend bool operator==(const Presence&, const Presence&) = default;
};

struct HandleTableRequest {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  bool own_children_only = false;  // W flag
  friend bool operator==(const HandleTableRequest&, const HandleTableRequest&) = default;
};

// One pool in a HANDLE_TABLE_RESPONSE: a Pool Handle TLV followed by its PEs.
struct PoolEntry {
  PoolHandle pool_handle;
  std::vector<PoolElementParameter> pool_elements;  // at least one
  friend bool operator==(const PoolEntry&, const PoolEntry&) = default;
};

struct HandleTableResponse {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  bool more_to_send = false;  // M flag
  bool rejected = false;      // R flag (no entries then)
  std::vector<PoolEntry> pools;
  friend bool operator==(const HandleTableResponse&, const HandleTableResponse&) = default;
};

struct HandleUpdate {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  bool takeover_suggested = false;  // T flag
  UpdateAction action = UpdateAction::add_pe;
  PoolHandle pool_handle;
  PoolElementParameter pool_element;
  friend bool operator==(const HandleUpdate&, const HandleUpdate&) = default;
};

struct ListRequest {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  friend bool operator==(const ListRequest&, const ListRequest&) = default;
};

struct ListResponse {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  bool rejected = false;  // R flag (no entries then)
  std::vector<ServerInformation> servers;
  friend bool operator==(const ListResponse&, const ListResponse&) = default;
};

struct InitTakeover {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  ServerIdentifier target_id = 0;
  friend bool operator==(const InitTakeover&, const InitTakeover&) = default;
};

struct InitTakeoverAck {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  ServerIdentifier target_id = 0;
  friend bool operator==(const InitTakeoverAck&, const InitTakeoverAck&) = default;
};

struct TakeoverServer {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  ServerIdentifier target_id = 0;
  friend bool operator==(const TakeoverServer&, const TakeoverServer&) = default;
};

struct Error {
  ServerIdentifier sender_id = 0;
  ServerIdentifier receiver_id = 0;
  std::vector<OperationErrorCause> causes;
  friend bool operator==(const Error&, const Error&) = default;
};

using Message = std::variant<Presence, HandleTableRequest, HandleTableResponse, HandleUpdate, ListRequest,
                             ListResponse, InitTakeover, InitTakeoverAck, TakeoverServer, Error>;

MessageType message_type(const Message& m) noexcept;
ServerIdentifier sender_id(const Message& m) noexcept;

// Appends one message, padded to a multiple of 4. Throws std::length_error
// if it would not fit the 16-bit length (split HANDLE_TABLE_RESPONSEs and
// set M before that).
void encode_into(const Message& m, Bytes& out);
Bytes encode(const Message& m);

Result<Decoded<Message>, DecodeError> decode(ByteView data);

// The ENRP_ERROR for a message that failed to decode (nullopt: drop
// silently, or the failed message was an ENRP_ERROR). `own_id` goes in the
// sender field; the peer's ID, when the failed message let us read it, in
// the receiver field.
std::optional<Error> error_reply(const DecodeError& e, ServerIdentifier own_id, ServerIdentifier peer_id = 0);
std::optional<Error> error_reply(const Decoded<Message>& d, ServerIdentifier own_id);

}  // namespace rserpool::wire::enrp

namespace rserpool {
using EnrpMessage = wire::enrp::Message;
}
