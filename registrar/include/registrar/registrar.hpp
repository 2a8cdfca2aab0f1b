#pragma once
// The ENRP registrar (RFC 5352 server side + RFC 5353), sans-I/O.
//
// One object per registrar. The driver feeds events (association up/down,
// received bytes, timer fired) with the current virtual time and executes
// the returned actions (send bytes, arm/stop named timers, notifications).
// The core never reads a clock, never touches a socket, and draws all
// randomness (keep-alive jitter, random policies) from its seeded generator,
// so a run is a pure function of its inputs.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "registrar/actions.hpp"
#include "registrar/config.hpp"
#include "registrar/token_bucket.hpp"
#include "rserpool/core/handlespace.hpp"
#include "rserpool/core/random.hpp"
#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/enrp.hpp"

namespace rserpool::registrar {

struct Counters {
  // ASAP
  std::uint64_t registrations = 0, registrations_rejected = 0, reregistrations = 0;
  std::uint64_t deregistrations = 0, deregistrations_rejected = 0;
  std::uint64_t resolutions = 0, resolutions_unknown_pool = 0, resolutions_rate_limited = 0;
  std::uint64_t registrations_rate_limited = 0;
  // Registered user-transport addresses dropped because the registering
  // association does not carry them (check_pe_addresses).
  std::uint64_t foreign_addresses_removed = 0;
  std::uint64_t unreachable_reports = 0, unreachable_rate_limited = 0;
  std::uint64_t keep_alives_sent = 0, keep_alive_acks = 0, keep_alive_timeouts = 0;
  std::uint64_t expirations = 0, subscription_updates = 0;
  std::uint64_t asap_unexpected = 0, asap_errors_received = 0;
  // Decode failures by the cause answered (index = ErrorCause, 11 = silent).
  std::array<std::uint64_t, 12> asap_decode_errors{};
  std::array<std::uint64_t, 12> enrp_decode_errors{};
  // ENRP
  std::uint64_t enrp_received = 0, enrp_misaddressed = 0, enrp_errors_received = 0;
  std::uint64_t updates_sent = 0, updates_applied = 0, updates_ignored = 0;
  std::uint64_t checksum_mismatches = 0, resyncs = 0, takeovers_won = 0, takeovers_aborted = 0;
  std::uint64_t peers_dead = 0;
  // Initial synchronisation (RFC 5353 3.3): pages and PEs received from the mentor.
  std::uint64_t mentor_pages = 0, mentor_elements = 0;
};

// Where the initial handlespace download from a mentor (RFC 5353 3.3) stands.
struct MentorDownload {
  enum class State : std::uint8_t {
    none,         // no mentor chosen
    queued,       // the mentor is busy with our audit download; ours follows it
    downloading,  // HANDLE_TABLE_REQUEST W=0 pages in flight
    done,         // last page (M=0) received
    rejected,     // the mentor answered R=1 (itself still starting): the audit fills in
    stalled,      // the mentor stopped answering or died: the audit fills in
  };
  ServerIdentifier mentor = 0;
  State state = State::none;
  std::uint64_t pages = 0, elements = 0;
  TimePoint started{}, finished{};
};
std::string_view to_string(MentorDownload::State s) noexcept;

class Registrar {
 public:
  explicit Registrar(RegistrarConfig config);

  // Announces ourselves to the configured peers (reply-required PRESENCE),
  // asks the mentor for the peer list and the whole handlespace, arms timers.
  std::vector<Action> start(TimePoint now);

  // RFC 5353 3.3: learn the peer list (LIST_REQUEST) and the whole
  // handlespace (HANDLE_TABLE_REQUEST W=0, paged with the M bit) from
  // `mentor`. For a driver whose peers are configured by address: it calls
  // this once it knows which server id speaks for the mentor's address,
  // before delivering that server's first message. Until the last page, we
  // answer other servers' table requests with R=1. Ignored when a mentor
  // download already ran or runs. Equivalent to RegistrarConfig::mentor.
  std::vector<Action> start_mentor_download(ServerIdentifier mentor, TimePoint now);
  const MentorDownload& mentor_download() const noexcept { return mentor_; }

  // An ASAP association (PE or PU) is up. `peer_addresses` are the
  // association's peer addresses, `peer_port` its peer port: they become the
  // PE's ASAP transport and bound the addresses a PE may register.
  std::vector<Action> on_asap_association_up(AssociationId id, std::vector<IpAddress> peer_addresses,
                                             std::uint16_t peer_port, TimePoint now);
  std::vector<Action> on_asap_association_down(AssociationId id, TimePoint now);
  std::vector<Action> on_asap_message(AssociationId id, ByteView message, TimePoint now);

  // One ENRP message. `from` is the server the driver knows is at the other
  // end of the association (0 if unknown); it addresses ENRP_ERRORs for
  // messages whose sender field cannot be read.
  std::vector<Action> on_enrp_message(ByteView message, TimePoint now, ServerIdentifier from = 0);

  // A timer fired. Stale or early fires are harmless: the core processes
  // whatever is due at `now`.
  std::vector<Action> on_timer(TimerKey key, TimePoint now);

  ServerIdentifier id() const noexcept { return config_.server_id; }
  const RegistrarConfig& config() const noexcept { return config_; }
  const core::Handlespace& handlespace() const noexcept { return hs_; }
  const Counters& counters() const noexcept { return counters_; }
  std::vector<ServerIdentifier> active_peers() const;
  bool peer_active(ServerIdentifier peer) const;
  bool takeover_in_progress(ServerIdentifier target) const { return takeovers_.count(target) != 0; }
  // Deadlines currently armed (what the driver should hold), for tests.
  const std::map<TimerKey, TimePoint>& timers() const noexcept { return armed_; }

 private:
  struct PeKey {
    PoolHandle pool;
    PeIdentifier id = 0;
  };
  struct PeKeyLess {
    bool operator()(const PeKey& a, const PeKey& b) const noexcept {
      if (a.id != b.id) return a.id < b.id;
      return core::PoolHandleLess{}(a.pool, b.pool);
    }
  };
  // Points at a key of owned_ (map nodes never move), so recording which
  // association a PE registered over allocates no copy of its pool handle.
  // Lookups take a PeKey.
  struct PeKeyPtrLess {
    using is_transparent = void;
    bool operator()(const PeKey* a, const PeKey* b) const noexcept { return PeKeyLess{}(*a, *b); }
    bool operator()(const PeKey* a, const PeKey& b) const noexcept { return PeKeyLess{}(*a, b); }
    bool operator()(const PeKey& a, const PeKey* b) const noexcept { return PeKeyLess{}(a, *b); }
  };
  using ElementSet = std::set<const PeKey*, PeKeyPtrLess>;
  // Agenda entries point at the keys of owned_ (map nodes never move), so
  // re-arming an audit allocates nothing.
  struct AgendaLess {
    bool operator()(const std::pair<TimePoint, const PeKey*>& a,
                    const std::pair<TimePoint, const PeKey*>& b) const noexcept {
      if (a.first != b.first) return a.first < b.first;
      return PeKeyLess{}(*a.second, *b.second);
    }
  };
  // What we keep about a PE we are home for, beside the handlespace entry.
  struct OwnedPe {
    std::optional<AssociationId> association;  // none: taken over, not yet heard from
    std::optional<TimePoint> ack_deadline;     // keep-alive outstanding
    TimePoint next_audit{};
    TimePoint agenda_at{};
    bool in_agenda = false;  // agenda_ holds {agenda_at, its key}
  };
  struct Subscription {
    std::uint32_t items = 0;
  };
  struct AsapAssociation {
    std::vector<IpAddress> addresses;
    std::uint16_t port = 0;
    std::map<PoolHandle, Subscription, core::PoolHandleLess> subscriptions;
    ElementSet elements;  // PEs registered over it: keys of owned_, removed by disown()
    TokenBucket resolutions, unreachables, registrations;
  };
  struct Peer {
    bool configured = false;
    bool active = true;
    TimePoint last_heard{};
    std::optional<TimePoint> reply_deadline;  // reply-required PRESENCE out
    std::optional<ServerInformation> info;
    TimePoint inactive_since{};  // when we stopped monitoring it
    // Our download from this peer (resync W=1, or mentor W=0).
    bool downloading = false;
    bool download_own_only = false;
    TimePoint download_deadline{};
    // The peer's download from us.
    bool serving = false;
    bool serving_own_only = false;
    core::HandleTableCursor serve_cursor;
    TimePoint serve_last{};
  };
  struct Takeover {
    std::set<ServerIdentifier> awaiting;
    TimePoint expires{};
  };

  // asap_server.cpp
  void handle_asap(AssociationId aid, AsapAssociation& a, wire::asap::Message&& m, TimePoint now);
  void on_registration(AssociationId aid, AsapAssociation& a, wire::asap::Registration& r, TimePoint now);
  void on_deregistration(AssociationId aid, AsapAssociation& a, const wire::asap::Deregistration& d);
  void on_handle_resolution(AssociationId aid, AsapAssociation& a, const wire::asap::HandleResolution& r,
                            TimePoint now);
  void on_keep_alive_ack(AssociationId aid, const wire::asap::EndpointKeepAliveAck& k, TimePoint now);
  void on_endpoint_unreachable(AsapAssociation& a, const wire::asap::EndpointUnreachable& u, TimePoint now);
  void send_resolution(AssociationId aid, const PoolHandle& pool, std::uint32_t items, bool accepted);
  void send_keep_alive(const PeKey& key, OwnedPe& st, bool home, TimePoint now);
  void process_keep_alive_agenda(TimePoint now);
  void process_expiry(TimePoint now);
  void adopt(const PeKey& key, std::optional<AssociationId> aid, TimePoint now);
  void disown(const PeKey& key);
  void reschedule(const PeKey& owned_key, OwnedPe& st);  // owned_key: the key inside owned_
  void remove_owned(const PeKey& key, Event why);
  void flush_subscriptions();
  TimePoint jittered_audit(TimePoint now);

  // enrp_peering.cpp
  void handle_enrp(wire::enrp::Message&& m, TimePoint now);
  Peer& touch_peer(ServerIdentifier id, TimePoint now);
  void send_enrp(ServerIdentifier peer, wire::enrp::Message m);
  void send_presence(ServerIdentifier peer, bool reply_required, bool with_info);
  void broadcast_update(wire::enrp::UpdateAction action, const PoolHandle& pool, const PoolElementParameter& pe);
  void on_presence(const wire::enrp::Presence& p, TimePoint now);
  void on_table_request(const wire::enrp::HandleTableRequest& r, TimePoint now);
  void on_table_response(const wire::enrp::HandleTableResponse& r, TimePoint now);
  void on_handle_update(const wire::enrp::HandleUpdate& u, TimePoint now);
  void on_list_response(const wire::enrp::ListResponse& r, TimePoint now);
  void on_init_takeover(const wire::enrp::InitTakeover& t, TimePoint now);
  void on_init_takeover_ack(const wire::enrp::InitTakeoverAck& t, TimePoint now);
  void on_takeover_server(const wire::enrp::TakeoverServer& t, TimePoint now);
  void apply_peer_element(ServerIdentifier sender, const PoolHandle& pool, const PoolElementParameter& pe,
                          TimePoint now);
  void start_download(ServerIdentifier peer, bool own_only, TimePoint now);
  void start_takeover(ServerIdentifier target, TimePoint now);
  void execute_takeover(ServerIdentifier target, TimePoint now);
  void abort_takeover(ServerIdentifier target);
  void process_peers(TimePoint now);
  void heartbeat(TimePoint now);
  bool initial_download_pending() const;
  void begin_mentor_download(ServerIdentifier mentor, TimePoint now);
  void mentor_download_ended(ServerIdentifier peer, MentorDownload::State how, TimePoint now);

  // registrar.cpp
  void notify(Event e, PoolHandle pool = {}, PeIdentifier pe = 0, ServerIdentifier server = 0);
  // Only subscribers care which pools changed (pushes at finish()).
  void pool_changed(const PoolHandle& pool) {
    if (!subscribers_.empty() && subscribers_.count(pool) != 0) changed_pools_.insert(pool);
  }
  void begin_event() { out_.reserve(4); }  // one allocation for a typical event's actions
  void run_due(TimePoint now);
  std::vector<Action> finish(TimePoint now);
  void arm(TimerKey key, TimePoint at) { want_.emplace_back(key, at); }

  RegistrarConfig config_;
  core::Handlespace hs_;
  core::Random rng_;
  Counters counters_;
  std::vector<Action> out_;
  std::map<AssociationId, AsapAssociation> associations_;
  std::map<PeKey, OwnedPe, PeKeyLess> owned_;
  std::set<std::pair<TimePoint, const PeKey*>, AgendaLess> agenda_;
  std::map<PoolHandle, std::set<AssociationId>, core::PoolHandleLess> subscribers_;
  std::set<PoolHandle, core::PoolHandleLess> changed_pools_;
  std::map<ServerIdentifier, Peer> peers_;
  std::map<ServerIdentifier, Takeover> takeovers_;
  std::map<TimerKey, TimePoint> armed_;
  std::vector<std::pair<TimerKey, TimePoint>> want_;  // finish()'s scratch, kept for its capacity
  TimePoint next_heartbeat_{};
  bool started_ = false;
  MentorDownload mentor_;
};

}  // namespace rserpool::registrar
