#pragma once
// A message-oriented association, whatever carries it (kernel SCTP or the
// TCP mapping). Everything runs on the io_context thread that created it;
// notifications are delivered from that thread, never from inside send(),
// close() or abort().
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/message.hpp"

namespace rserpool::transport {

struct TransportCounters;

struct AssociationInfo {
  TransportKind kind = TransportKind::tcp;   // never automatic once created
  std::uint16_t inbound_streams = 0;         // negotiated
  std::uint16_t outbound_streams = 0;        // negotiated
  std::vector<TransportAddress> local;       // bound addresses
  // Peer addresses: for SCTP every address of the association (from
  // sctp_getpaddrs: all the peer listed in its INIT/INIT-ACK), so an owner
  // can check each of them, not "any one matches". Filled in before the
  // listener's accept filter and accept handler run.
  std::vector<TransportAddress> remote;
};

class Association;

// What the kernel uses for one SCTP association (read back with
// getsockopt), which may differ from what EndpointConfig::sctp asked for:
// kernel limits, values the peer's INIT changed, RTO as measured.
struct SctpParameters {
  std::chrono::milliseconds rto_initial{0}, rto_min{0}, rto_max{0};
  std::chrono::milliseconds rto{0};   // primary path, current
  std::chrono::milliseconds srtt{0};  // primary path, smoothed round-trip time
  std::chrono::milliseconds heartbeat_interval{0};
  bool heartbeat_enabled = false;
  std::uint16_t path_max_retrans = 0;
  std::uint16_t association_max_retrans = 0;
  std::chrono::milliseconds sack_delay{0};  // 0 with sack_frequency 1: every packet SACKed at once
  std::uint32_t sack_frequency = 0;
  bool nodelay = false;
  std::uint32_t receive_buffer = 0;       // SO_RCVBUF as the kernel books it (twice what was asked)
  std::uint32_t peer_receive_window = 0;  // the peer's current a_rwnd (SCTP_STATUS sstat_rwnd)
  bool bundle = false;                    // ours, not the kernel's: SctpOptions::bundle
  // The association's traffic so far, as the kernel counts it
  // (SCTP_GET_ASSOC_STATS): packets against DATA chunks shows how much
  // bundling there is, and SACKs what it costs the peer.
  std::uint64_t packets_out = 0, packets_in = 0;
  std::uint64_t data_chunks_out = 0, data_chunks_in = 0;  // ordered and unordered
  std::uint64_t sacks_out = 0, sacks_in = 0;
  std::uint64_t retransmitted_chunks = 0;
};

// The send queue when send() started refusing (queue_full).
struct SendQueueStatus {
  std::size_t messages = 0;       // queued at that moment
  std::size_t bytes = 0;
  std::size_t message_limit = 0;  // EndpointConfig::send_queue_limit
  std::size_t byte_limit = 0;     // EndpointConfig::send_queue_bytes
};

// Notifications. Order per association: on_up, then any number of
// on_message / on_restart / on_send_failed / on_send_queue_full, then
// exactly one on_down (also when the association never came up:
// DownReason::connect_failed). After on_down the association drops its
// handler. Undelivered messages are always handed back through
// on_send_failed *before* on_down.
class AssociationHandler {
 public:
  virtual ~AssociationHandler() = default;
  virtual void on_up(Association& /*assoc*/, const AssociationInfo& /*info*/) {}
  virtual void on_message(Association& /*assoc*/, Message&& /*msg*/) {}
  // SCTP restart (the peer's endpoint came back with the same addresses);
  // messages queued before it may be lost, as with any SCTP restart.
  virtual void on_restart(Association& /*assoc*/, const AssociationInfo& /*info*/) {}
  // Messages accepted by send() and not delivered, in the order they were
  // sent, with their ppid/stream/unordered so they can be re-sent elsewhere.
  virtual void on_send_failed(Association& /*assoc*/, std::vector<Message>&& /*unsent*/) {}
  // The peer does not read: the send queue is at its bound and send()
  // refuses with queue_full. Reported once per episode (again only after
  // the queue drained to half its bounds). With PeerNotReading::abort the
  // transport aborts the association right after this call; otherwise the
  // owner decides (abort() it, or wait and re-send later).
  virtual void on_send_queue_full(Association& /*assoc*/, const SendQueueStatus& /*status*/) {}
  virtual void on_down(Association& /*assoc*/, DownReason /*reason*/) {}
};

class Association : public std::enable_shared_from_this<Association> {
 public:
  virtual ~Association() = default;
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;

  // Queues one message. Allowed before on_up (held until the association
  // is up). Errors are immediate refusals; accepted messages are either
  // delivered or handed back through on_send_failed. `msg` is taken only
  // when accepted: after a refusal the caller still holds it as it was, so a
  // relay can hand a refused message back from its own bytes instead of
  // keeping a spare copy of every message (issue 16).
  virtual Result<void, SendError> send(Message&& msg) = 0;
  // For a caller that keeps its message: a copy is queued.
  Result<void, SendError> send(const Message& msg) {
    Message copy = msg;
    return send(std::move(copy));
  }
  // Graceful: stop accepting sends, deliver what is queued, then close.
  virtual void close() = 0;
  // Immediate: SCTP ABORT / TCP reset. Hands back what this side still
  // holds: the TCP mapping everything unacknowledged; kernel SCTP only what
  // never reached the kernel (Linux drops its queue with a one-to-one socket).
  virtual void abort() = 0;

  virtual bool is_up() const noexcept = 0;
  virtual const AssociationInfo& info() const noexcept = 0;
  // Messages accepted by send() and not yet known to be delivered: for the
  // TCP mapping the not-yet-acknowledged ones, for SCTP those still in user
  // space (the kernel's queue is not visible).
  virtual std::size_t queued() const noexcept = 0;
  // Payload bytes of those messages.
  virtual std::size_t queued_bytes() const noexcept { return 0; }
  // Kernel SCTP only (nullopt for the TCP mapping, and before the socket
  // exists): the effective protocol parameters, for operators and tests.
  virtual std::optional<SctpParameters> sctp_parameters() const { return std::nullopt; }

  std::uint64_t id() const noexcept { return id_; }
  TransportCounters& counters() const noexcept { return *counters_; }
  // Replaces the handler (e.g. a listener's user taking ownership). A null
  // handler silences notifications; undelivered messages are then dropped
  // and counted as send-failed.
  void set_handler(std::shared_ptr<AssociationHandler> h) { handler_ = std::move(h); }

 protected:
  Association(std::shared_ptr<TransportCounters> counters, std::shared_ptr<AssociationHandler> handler);
  std::shared_ptr<AssociationHandler> handler_;
  std::shared_ptr<TransportCounters> counters_;

 private:
  std::uint64_t id_;
};

}  // namespace rserpool::transport
