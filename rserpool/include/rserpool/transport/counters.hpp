#pragma once
// Plain counters an operator can read in the CLI. One io_context thread
// touches them, so no atomics.
#include <array>
#include <cstdint>

#include "rserpool/transport/message.hpp"

namespace rserpool::transport {

struct TransportCounters {
  std::uint64_t associations_accepted = 0;
  std::uint64_t associations_connected = 0;  // outgoing associations that came up
  std::uint64_t associations_restarted = 0;
  std::array<std::uint64_t, kDownReasonCount> closed{};  // indexed by DownReason
  std::uint64_t malformed_frames = 0;   // TCP mapping: bad header, type, order
  std::uint64_t oversized_frames = 0;   // inbound message above max_message_size
  std::uint64_t oversized_sends = 0;    // send() refused: message_too_large
  std::uint64_t messages_in = 0;
  std::uint64_t bytes_in = 0;           // payload bytes
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t send_failed_messages = 0;  // handed back through on_send_failed
  std::uint64_t heartbeats_sent = 0;       // TCP mapping HEARTBEAT frames
  // Hostile or broken peers and local limits.
  std::uint64_t send_queue_refused = 0;    // send() refused with queue_full (messages)
  std::uint64_t send_queue_full = 0;       // episodes reported through on_send_queue_full
  std::uint64_t associations_refused = 0;  // accepted, then refused by the listener's accept filter
  std::uint64_t accept_errors = 0;         // accept() failures (EMFILE, ENFILE, ENOBUFS ...): each pauses accepting
  std::uint64_t self_connections = 0;      // a connect that reached our own address and port: aborted, a connect failure

  std::uint64_t closed_by(DownReason r) const noexcept { return closed[static_cast<std::size_t>(r)]; }
  void count_close(DownReason r) noexcept { ++closed[static_cast<std::size_t>(r)]; }
};

}  // namespace rserpool::transport
