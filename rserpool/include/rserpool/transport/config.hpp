#pragma once
// Per-endpoint configuration, shared by both backends. Time values are
// plain std::chrono durations so configuration files can map onto them.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rserpool/base/ip_address.hpp"

namespace rserpool::transport {

struct TransportCounters;
struct AssociationInfo;

enum class TransportKind : std::uint8_t {
  sctp,       // kernel SCTP through lksctp, one-to-one sockets
  tcp,        // the TCP mapping (docs/transport.md)
  automatic,  // kernel SCTP when the kernel has it, otherwise TCP (with a warning)
};

std::string_view to_string(TransportKind k) noexcept;
// "sctp", "tcp" or "auto" (configuration files).
std::optional<TransportKind> parse_transport_kind(std::string_view text) noexcept;

using Millis = std::chrono::milliseconds;

// Kernel SCTP tuning. Defaults are the RFC 4960 (RFC 9260 section 16)
// protocol defaults except nodelay, which is on: signalling wants latency,
// not bundling. Every field is applied to the socket before bind / connect
// / listen, so accepted associations inherit them (docs/transport.md).
struct SctpOptions {
  bool nodelay = true;                   // SCTP_NODELAY
  // What one sendmmsg hands the kernel goes bundled into as few packets as
  // it fits (MSG_MORE on all but the last message): no message waits
  // longer, fewer packets and SACKs per message under load; two more
  // system calls per batch of two or more (sctp_association.cpp). Off by
  // default: with it on, the ASAP flood attack test against the co-located
  // registrar failed 1 run in 3 in UML (its answers stopped flowing and the
  // flooder was aborted as not reading; cause not found in stop 30).
  bool bundle = false;
  bool heartbeat_enabled = true;         // SCTP_PEER_ADDR_PARAMS spp_flags
  Millis heartbeat_interval{30000};      // spp_hbinterval (HB.interval)
  std::uint16_t path_max_retrans = 5;    // spp_pathmaxrxt (Path.Max.Retrans)
  std::uint16_t association_max_retrans = 10;  // SCTP_ASSOCINFO sasoc_asocmaxrxt (Association.Max.Retrans)
  Millis rto_initial{3000};              // SCTP_RTOINFO (RTO.Initial)
  Millis rto_min{1000};                  // RTO.Min
  Millis rto_max{60000};                 // RTO.Max
  std::uint16_t max_init_attempts = 8;   // SCTP_INITMSG sinit_max_attempts (Max.Init.Retransmits + 1)
  Millis max_init_timeout{60000};        // sinit_max_init_timeo (caps the INIT timer)
  // Our own delayed SACK (SCTP_DELAYED_SACK, RFC 9260 6.2): how long we may
  // hold a SACK (1..500 ms) and after how many packets we SACK at once (1:
  // every packet, no delay). Unset keeps the kernel's (Linux: 200 ms, every
  // second packet). A peer whose RTO floor is below our delay retransmits
  // what we already have.
  std::optional<Millis> sack_delay;
  std::optional<std::uint32_t> sack_frequency;
  // The socket's receive buffer (SO_RCVBUF, bytes as asked; Linux books
  // twice that). SCTP advertises its receive window (a_rwnd, RFC 9260
  // 6.2.1) from it, so it bounds what the kernel acknowledges to the peer
  // before this process has read it: what a killed gateway takes with it.
  // Set before connect/listen (an accepted association inherits the
  // listener's). Unset keeps the kernel's (net.core.rmem_default, then
  // SCTP's own sizing).
  std::optional<std::uint32_t> receive_buffer;

  // For links whose far end must be declared dead within about a second
  // (SG <-> gateway controllers, registrars), tuned against real peers:
  //
  // - RTO floor 250 ms: the other side of such a link is often not ours
  //   (osmo-stp, rsplib, any Linux peer) and holds its SACK for the common
  //   200 ms when a single packet arrives. A floor below that makes an
  //   idle-ish association retransmit what the peer already has (the
  //   earlier 50 ms floor: 67-72 spurious retransmissions in 15 s, each
  //   50-60 ms after its original; docs/performance.md). rto_max 300 ms
  //   keeps the exponential back-off short on a LAN.
  // - Our own delayed SACK matched to that floor: 50 ms (a fifth of it),
  //   every second packet, so a peer using this profile never waits on our
  //   SACK long enough to retransmit, and SACK traffic stays halved under
  //   load.
  // - Dead-peer detection stays fast through heartbeats: Linux arms the
  //   heartbeat timer for max(hbinterval + rto/2, 200 ms) plus up to one RTO
  //   of jitter, doubles the RTO (up to rto_max) on each unanswered one, and
  //   fails the association at the first timer that finds
  //   association_max_retrans unanswered. With hbinterval 50 ms each period
  //   is 200-500 ms, so a dead peer (host gone) is declared about 1-2 s
  //   after it died; a killed process is seen at once (its kernel sends
  //   ABORT or SHUTDOWN); a hung one needs an application heartbeat (M3UA
  //   BEAT, ASAP keep-alive, the session silence timeout). One or two lost
  //   retransmissions must not be fatal: with a single one allowed, peers
  //   whose SACKs were late by 200-300 ms under load lost healthy
  //   associations, so this profile allows three.
  static SctpOptions aggressive() {
    SctpOptions o;
    o.heartbeat_interval = Millis{50};
    o.rto_initial = Millis{300};
    o.rto_min = Millis{250};
    o.rto_max = Millis{300};
    o.path_max_retrans = 2;
    o.association_max_retrans = 3;
    o.max_init_attempts = 3;
    o.max_init_timeout = Millis{500};
    o.sack_delay = Millis{50};
    o.sack_frequency = 2;
    return o;
  }
};

// TCP mapping tuning (framing, heartbeat and acknowledgement rules are in
// docs/transport.md).
struct TcpMappingOptions {
  Millis heartbeat_interval{1000};  // probe after this much silence from the peer
  Millis heartbeat_timeout{3000};   // down after this much silence (also bounds INIT and connect)
  // Messages written but not yet acknowledged (the window); they count
  // against send_queue_limit / send_queue_bytes too.
  std::size_t max_unacked = 1024;

  static TcpMappingOptions aggressive() {
    TcpMappingOptions o;
    o.heartbeat_interval = Millis{100};
    o.heartbeat_timeout = Millis{400};
    return o;
  }
};

inline constexpr std::size_t kDefaultMaxMessageSize = 65536 + 1024;  // 64 KiB plus headroom

// What the transport does when a peer does not read: the send queue reached
// send_queue_limit or send_queue_bytes and send() refuses (queue_full).
enum class PeerNotReading : std::uint8_t {
  report,  // tell the owner (AssociationHandler::on_send_queue_full) and keep the association
  abort,   // tell the owner, then abort the association (DownReason::peer_not_reading)
};
std::string_view to_string(PeerNotReading p) noexcept;

// Decides from an accepted association's addresses (every peer address of
// an SCTP association, from sctp_getpaddrs) whether to keep it; false
// aborts it at once (SCTP ABORT / TCP RST) and counts it
// (TransportCounters::associations_refused). Runs before the listener's
// accept handler, on the io_context thread.
using AcceptFilter = std::function<bool(const AssociationInfo&)>;

struct EndpointConfig {
  // Several addresses give SCTP multi-homing (sctp_bindx / sctp_connectx).
  // TCP binds the first local address and tries the remote ones in order.
  // Empty local_addresses: wildcard (dual-stack where the host allows it).
  std::vector<IpAddress> local_addresses;
  std::uint16_t local_port = 0;  // 0: ephemeral (a listener reports its port)
  std::vector<IpAddress> remote_addresses;
  std::uint16_t remote_port = 0;

  TransportKind kind = TransportKind::automatic;
  SctpOptions sctp;
  TcpMappingOptions tcp;

  std::size_t max_message_size = kDefaultMaxMessageSize;
  std::uint16_t out_streams = 16;  // requested outbound streams
  std::uint16_t in_streams = 16;   // maximum inbound streams accepted
  // Per association, what send() accepted and the peer has not taken yet
  // (SCTP: the user-space queue; TCP mapping: unwritten plus written and
  // unacknowledged). Beyond either bound send() refuses with queue_full, and
  // the owner hears of it once per episode (on_send_queue_full). A message
  // larger than send_queue_bytes is still accepted into an empty queue.
  std::size_t send_queue_limit = 4096;          // messages
  std::size_t send_queue_bytes = 1024 * 1024;   // payload bytes
  PeerNotReading peer_not_reading = PeerNotReading::report;
  // Listener only (see AcceptFilter); empty: keep every association.
  AcceptFilter accept_filter;
  // SO_REUSEPORT (kernel SCTP and the TCP mapping), so an association can be
  // started from the port (and the same addresses) a listener of ours is
  // bound to, as rsplib's one-to-many ENRP socket does, and a PE can register
  // from the port it accepts a taking-over registrar on. Both sockets must
  // set it.
  bool reuse_port = false;

  // Shared by the listener and every association it creates; created on
  // demand when null. Not thread-safe: one io_context thread per endpoint.
  std::shared_ptr<TransportCounters> counters;
  std::string name;  // used in log lines
};

}  // namespace rserpool::transport
