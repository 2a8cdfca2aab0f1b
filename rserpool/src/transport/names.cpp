// Text for enums that appear in logs and the CLI.
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/message.hpp"
#include "rserpool/transport/tcp_frame.hpp"
#include "rserpool/transport/tcp_mapping_session.hpp"

namespace rserpool::transport {

std::string_view to_string(DownReason r) noexcept {
  switch (r) {
    case DownReason::peer_closed: return "peer-closed";
    case DownReason::aborted: return "aborted";
    case DownReason::communication_lost: return "communication-lost";
    case DownReason::heartbeat_timeout: return "heartbeat-timeout";
    case DownReason::protocol_error: return "protocol-error";
    case DownReason::local_close: return "local-close";
    case DownReason::connect_failed: return "connect-failed";
    case DownReason::peer_not_reading: return "peer-not-reading";
  }
  return "unknown";
}

std::string_view to_string(SendError e) noexcept {
  switch (e) {
    case SendError::not_connected: return "not-connected";
    case SendError::invalid_stream: return "invalid-stream";
    case SendError::message_too_large: return "message-too-large";
    case SendError::queue_full: return "queue-full";
  }
  return "unknown";
}

std::string_view to_string(PeerNotReading p) noexcept {
  switch (p) {
    case PeerNotReading::report: return "report";
    case PeerNotReading::abort: return "abort";
  }
  return "unknown";
}

std::string_view to_string(TransportKind k) noexcept {
  switch (k) {
    case TransportKind::sctp: return "sctp";
    case TransportKind::tcp: return "tcp";
    case TransportKind::automatic: return "auto";
  }
  return "unknown";
}

std::optional<TransportKind> parse_transport_kind(std::string_view text) noexcept {
  if (text == "sctp") return TransportKind::sctp;
  if (text == "tcp") return TransportKind::tcp;
  if (text == "auto") return TransportKind::automatic;
  return std::nullopt;
}

namespace tcpmap {

std::string_view to_string(FrameType t) noexcept {
  switch (t) {
    case FrameType::init: return "INIT";
    case FrameType::data: return "DATA";
    case FrameType::data_ack: return "DATA-ACK";
    case FrameType::heartbeat: return "HEARTBEAT";
    case FrameType::heartbeat_ack: return "HEARTBEAT-ACK";
    case FrameType::shutdown: return "SHUTDOWN";
  }
  return "unknown";
}

std::string_view to_string(FrameError e) noexcept {
  switch (e) {
    case FrameError::bad_version: return "bad version";
    case FrameError::unknown_type: return "unknown frame type";
    case FrameError::oversized: return "oversized frame";
    case FrameError::bad_length: return "control frame with payload";
    case FrameError::reserved_flags: return "reserved flags set";
  }
  return "unknown";
}

std::string_view to_string(SessionError e) noexcept {
  switch (e) {
    case SessionError::malformed_frame: return "malformed frame";
    case SessionError::oversized_frame: return "oversized frame";
    case SessionError::data_before_init: return "frame before INIT";
    case SessionError::duplicate_init: return "duplicate INIT";
    case SessionError::invalid_stream: return "DATA on invalid stream";
    case SessionError::bad_sequence: return "DATA out of sequence";
    case SessionError::bad_ack: return "DATA-ACK for unsent data";
    case SessionError::data_after_shutdown: return "DATA after SHUTDOWN";
  }
  return "unknown";
}

}  // namespace tcpmap
}  // namespace rserpool::transport
