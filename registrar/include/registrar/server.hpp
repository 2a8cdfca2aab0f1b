#pragma once
// The registrar on real sockets: an Asio driver that executes the actions
// of two sans-I/O cores, the Registrar (ASAP server, ENRP peering,
// takeover) and the PeerDirectory (which ENRP association speaks for which
// server, trust, routing, configured-peer connections, mentor choice). It
// owns the ASAP listener (PEs and PUs, PPID 11), the ENRP listener and the
// associations to and from peers (PPID 12), the connections to taken-over
// PEs (SendAsapToElement), and one OS timer per core armed at its
// next_deadline(). Time comes from the injected Clock. Everything runs on
// the io_context's thread; every accessor below must be called on that
// thread too (post to it from others).
//
// ENRP trust (the directory's rule): only associations whose peer addresses
// are configured peers or in `enrp_allowed` are accepted (unless
// `accept_unconfigured_peers`); refusals are counted and logged. The core
// would make any PRESENCE sender a peer, so this rule is the daemon's
// security boundary.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "registrar/outbound_queues.hpp"
#include "registrar/peer_directory.hpp"
#include "registrar/registrar.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/config.hpp"

namespace rserpool::registrar {

namespace detail {
struct ServerState;
}

struct ServerConfig {
  RegistrarConfig core;  // server id, timers (rfc_defaults()/aggressive())
  transport::TransportKind kind = transport::TransportKind::automatic;  // ASAP and ENRP transport
  std::vector<IpAddress> asap_addresses;  // empty: wildcard
  std::uint16_t asap_port = 3863;         // 0: ephemeral (tests)
  std::vector<IpAddress> enrp_addresses;  // empty: wildcard
  std::uint16_t enrp_port = 9901;         // 0: ephemeral
  // Configured peers, by address: their server ids are learnt when they
  // speak. Each one's own PEs reach us by the PRESENCE checksum audit.
  std::vector<TransportAddress> enrp_peers;
  // Initial synchronisation (RFC 5353 3.3): the whole handlespace is
  // downloaded from a mentor. `mentor`: the registrar at this ENRP address
  // (it is also a configured peer). Without it and with `mentor_from_peers`,
  // the first configured peer that answers. No candidate answering within
  // `mentor_wait`: we start alone (later arrivals reach us by the PRESENCE
  // checksum audit).
  std::optional<TransportAddress> mentor;
  bool mentor_from_peers = true;
  std::chrono::milliseconds mentor_wait{5000};
  bool accept_unconfigured_peers = false;    // ENRP allow-list (trust nobody by default)
  std::vector<IpAddress> enrp_allowed;       // extra addresses allowed to peer
  // Read-only ENRP clients (handlespace dumps such as rsplib's hsdump):
  // every address of their association must be listed here.
  std::vector<IpAddress> enrp_monitors;
  std::size_t max_enrp_links = 64;         // inbound ENRP associations at once (all roles)
  std::size_t max_monitor_links = 8;       // monitors among them
  bool aggressive_transport = false;         // SctpOptions/TcpMappingOptions::aggressive()
  // Set: the SCTP options of every association (the profile with the
  // operator's overrides applied), in place of the profile's.
  std::optional<transport::SctpOptions> sctp;
  // Delay between attempts to (re)connect a configured peer.
  std::chrono::milliseconds peer_reconnect_interval{1000};
  // ASAP_SERVER_ANNOUNCE (RFC 5352 3.6) over UDP to this group (rsplib's
  // default is 239.0.0.50:3863) or unicast address, every
  // `announce_interval`. None: off (the default; PEs are configured with
  // the registrar's address).
  std::optional<TransportAddress> announce_to;
  std::chrono::milliseconds announce_interval{2000};
  std::optional<IpAddress> announce_interface;  // outgoing interface for a multicast group
  // What is kept queued for a peer that does not read, per association and
  // in all; over the bound the association is aborted (outbound_queues.hpp).
  OutboundConfig outbound;
  // A second after associations went away, unused heap is given back to
  // the system (malloc_trim) when at least this much is unused or was
  // released, so RSS returns to its baseline after a flood. 0: never.
  std::size_t trim_after_released_bytes = 1024 * 1024;
  std::string name = "registrar";  // log prefix
  // Where time comes from (null: the process's steady clock).
  const Clock* clock = nullptr;
};

// What the driver itself counts (the core's protocol counters are in
// core().counters()).
struct ServerCounters {
  std::uint64_t asap_associations_accepted = 0, asap_associations_closed = 0;
  std::uint64_t asap_messages_received = 0, asap_messages_sent = 0, asap_send_failures = 0;
  std::uint64_t asap_wrong_ppid = 0;  // non-ASAP PPID on the ASAP port: dropped
  std::uint64_t element_connects = 0, element_connect_failures = 0;  // SendAsapToElement
  std::uint64_t enrp_associations_accepted = 0, enrp_associations_refused = 0, enrp_monitors_accepted = 0;
  std::uint64_t enrp_connects = 0, enrp_connect_failures = 0;
  std::uint64_t enrp_messages_received = 0, enrp_messages_sent = 0, enrp_send_failures = 0;
  std::uint64_t enrp_wrong_ppid = 0;
  std::uint64_t enrp_unroutable = 0;      // SendEnrp to a peer with no association and no address
  std::uint64_t enrp_sender_changed = 0;  // an association spoke for a second server id: closed
  std::uint64_t enrp_listed_servers_refused = 0;  // LIST_RESPONSE entries outside the allow-list
  std::uint64_t timers_fired = 0, notifications = 0;  // OS timers of the two cores
  // How often the two cores' OS timers were (re-)armed. They move only
  // earlier: events that push deadlines out (keep-alive answers,
  // re-registrations) leave this flat (issue 16).
  std::uint64_t timer_rearms = 0;
  std::uint64_t announces_sent = 0, announce_failures = 0;
  // Associations aborted because they held more than their bound (a peer
  // that does not read), by reason: messages, bytes, the total of all.
  std::uint64_t asap_aborted_send_queue = 0, enrp_aborted_send_queue = 0;
  std::uint64_t asap_aborted_by_caps = 0;  // refused at admission or evicted (AbortAsap)
  std::uint64_t memory_trims = 0;
};

// One ENRP peer as the driver sees it (for `show peers`).
struct PeerView {
  ServerIdentifier id = 0;                 // 0: configured, not heard from yet
  std::optional<TransportAddress> address;  // association's remote (or configured) address
  bool configured = false;
  bool association_up = false;
  bool active = false;  // the core's view (monitored, not declared dead)
  std::optional<TimePoint> last_heard;
  std::optional<std::uint16_t> last_checksum;  // from its last PRESENCE
  std::size_t owned_pes = 0;                   // PEs with this peer as home, in our handlespace
};

// Where the initial synchronisation stands (`show registrar`).
struct Synchronisation {
  enum class State : std::uint8_t {
    synchronised,     // no mentor to wait for, or the download ended (see `download`)
    awaiting_mentor,  // no mentor candidate has answered yet
    downloading,      // pages from the mentor in flight
  };
  State state = State::synchronised;
  bool mentor_timed_out = false;        // no candidate answered within mentor_wait
  std::optional<TransportAddress> mentor_address;  // configured `mentor`, if any
  MentorDownload download;              // the core's record (state none: no mentor used)
};

class RegistrarServer {
 public:
  // Opens the listeners (bind errors are returned as text), arms the core's
  // timers and starts connecting the configured peers.
  static Result<std::unique_ptr<RegistrarServer>, std::string> start(boost::asio::io_context& io, ServerConfig cfg);
  ~RegistrarServer();  // stop()
  RegistrarServer(const RegistrarServer&) = delete;
  RegistrarServer& operator=(const RegistrarServer&) = delete;

  // Closes the listeners and every association gracefully (queued messages
  // are still delivered), cancels timers. Idempotent.
  void stop();

  std::uint16_t asap_port() const;
  std::uint16_t enrp_port() const;
  transport::TransportKind kind() const;  // resolved: sctp or tcp
  const Registrar& core() const;          // handlespace, counters, peers
  ServerIdentifier id() const;
  const ServerConfig& config() const;
  // The driver's counters with the peer directory's decisions folded in.
  ServerCounters counters() const;
  const PeerDirectory& directory() const;
  std::vector<PeerView> peers() const;
  TimePoint now() const;  // the injected clock
  TimePoint started_at() const;
  std::size_t asap_association_count() const;
  // What the send queues hold for peers that have not read it yet (the
  // bounded total of outbound_queues.hpp), in bytes.
  std::size_t outbound_held_bytes() const;
  Synchronisation synchronisation() const;

  // Every core Notify (after it is logged), e.g. for metrics or a co-located user.
  void set_event_handler(std::function<void(const Notify&)> handler);

 private:
  explicit RegistrarServer(std::shared_ptr<detail::ServerState> state);
  std::shared_ptr<detail::ServerState> impl_;
};

}  // namespace rserpool::registrar
