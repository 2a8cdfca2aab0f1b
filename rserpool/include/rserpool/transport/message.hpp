#pragma once
// The unit every transport mapping carries: one user message with the SCTP
// per-message attributes (payload protocol identifier, stream, unordered).
// ASAP, ENRP and M3UA all depend on these, whatever the backend.
#include <cstdint>
#include <string_view>

#include "rserpool/base/bytes.hpp"

namespace rserpool::transport {

struct Message {
  std::uint32_t ppid = 0;
  std::uint16_t stream = 0;
  bool unordered = false;
  Bytes payload;

  friend bool operator==(const Message&, const Message&) = default;
};

// Why an association went down. SCTP reports most of these through
// SCTP_ASSOC_CHANGE; the TCP mapping derives them from its own framing.
enum class DownReason : std::uint8_t {
  peer_closed,         // graceful shutdown initiated by the peer
  aborted,             // peer sent ABORT / TCP reset / vanished without SHUTDOWN
  communication_lost,  // retransmissions exhausted (SCTP COMM_LOST without ABORT)
  heartbeat_timeout,   // TCP mapping: nothing heard for heartbeat_timeout
  protocol_error,      // malformed, oversized or out-of-order input
  local_close,         // close() or abort() on this side
  connect_failed,      // association never came up
  peer_not_reading,    // aborted by us: the send queue stayed full (EndpointConfig::peer_not_reading)
};
inline constexpr std::size_t kDownReasonCount = 8;

std::string_view to_string(DownReason r) noexcept;

// Synchronous refusals of send(); later failures arrive as send-failed.
enum class SendError : std::uint8_t {
  not_connected,      // closing, closed, or down
  invalid_stream,     // stream >= negotiated (or configured) outbound streams
  message_too_large,  // payload > max_message_size
  queue_full,         // send_queue_limit messages or send_queue_bytes already waiting
};

std::string_view to_string(SendError e) noexcept;

}  // namespace rserpool::transport
