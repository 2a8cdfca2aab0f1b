#pragma once
// SGP side (RFC 4666 4.3.1-4.3.2): per-ASP state for every association, the
// AS state machine (AS-DOWN/INACTIVE/ACTIVE/PENDING, T(r), bounded queue),
// traffic modes, NTFY, SSNM with a destination-state table, RKM with a
// routing-key table. AS state spans associations, so one SgpNode serves all
// the ASP associations of a local SGP; actions name their association.
// Also the responding half of an IPSP (with one association).
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"
#include "mxua/fsm/destination_table.hpp"
#include "mxua/fsm/heartbeat.hpp"
#include "mxua/fsm/routing_key_table.hpp"

namespace mxua {

struct AsConfig {
  std::string name;
  std::uint32_t routing_context = 0;
  TrafficMode mode = TrafficMode::Loadshare;
  unsigned min_active_asps = 1;  // n: ASPs needed before AS-ACTIVE (loadshare start-up)
  std::optional<std::uint32_t> network_appearance;
  std::vector<RoutingKeyDestination> destinations;  // static routing key; empty: reachable by RC only
  std::vector<std::uint32_t> asp_ids;               // ASPs allowed to serve it; empty: any ASP
};

enum class RkmPermission : std::uint8_t { StaticOnly, DynamicPermitted };

struct SgpConfig {
  std::vector<AsConfig> application_servers;
  RkmPermission rkm = RkmPermission::StaticOnly;
  TrafficMode default_dynamic_mode = TrafficMode::Loadshare;
  std::uint32_t first_dynamic_rc = 0x10000;
  std::size_t max_dynamic_as = 256;
  Millis t_r{2000};
  std::size_t pending_queue_limit = 1024;
  std::optional<Millis> t_beat;
  bool require_asp_id = false;
  bool rc_required = false;  // ASPAC without RC -> ERR Missing Parameter
  bool err_on_unexpected_data = true;
  bool daud_unknown_is_available = false;  // else ERR Destination Status Unknown
  std::vector<std::uint32_t> blocked_asp_ids;  // management blocking: ERR 0x0d
  std::optional<std::uint32_t> asp_id;         // our own, sent in ASPUP ACK (IPSP)
  DecodeLimits limits;
};

// Where one DATA message goes (for the relay fast path).
struct RouteTarget {
  AssocId assoc = 0;
  std::uint16_t stream = 0;
  std::uint32_t routing_context = 0;
};

class SgpNode {
 public:
  explicit SgpNode(SgpConfig cfg);

  Actions association_up(AssocId assoc, std::uint16_t outbound_streams, TimePoint now);
  Actions association_down(AssocId assoc, TimePoint now);
  Actions receive(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now) {
    Actions out;
    receive(assoc, stream, bytes, now, out);
    return out;
  }
  // Appends to `out`: a driver can reuse one vector for every message.
  void receive(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now, Actions& out);
  Actions timer_expired(TimerId id, TimePoint now);

  // SS7 -> ASP direction: picks the AS by RC or routing key and sends per its
  // traffic mode, queues while AS-PENDING, drops with a reason otherwise.
  void route(const DataView& d, TimePoint now, Actions& out);
  Actions route(const DataView& d, TimePoint now) {
    Actions out;
    route(d, now, out);
    return out;
  }
  // The routing decision alone (override / loadshare), no encoding.
  std::optional<RouteTarget> decide(const DataView& d) const;

  // Destination state as seen by the SG: announced to the active ASPs
  // (DUNA / DAVA / DRST / SCON / DUPU) and used to answer DAUD.
  Actions announce(MaskedPointCode pc, DestinationAvailability a, TimePoint now);
  Actions announce_congestion(PointCode pc, std::uint8_t level, TimePoint now);
  Actions announce_user_unavailable(PointCode pc, UserCause uc, TimePoint now);

  // Entry points for a composite endpoint that decoded the message already.
  void handle(AssocId assoc, const Message& m, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out);
  void handle_data(AssocId assoc, const DataView& d, std::uint16_t stream, ByteView raw, TimePoint now,
                   Actions& out);
  void seen(AssocId assoc, TimePoint now);

  // Introspection (CLI, tests).
  AspState asp_state(AssocId assoc, std::optional<std::uint32_t> rc = std::nullopt) const;
  std::optional<AsState> as_state(std::uint32_t rc) const;
  std::vector<AssocId> active_asps(std::uint32_t rc) const;
  std::size_t queued(std::uint32_t rc) const;
  const DropCounters& drops() const noexcept { return drops_; }
  const RoutingKeyTable& routing_keys() const noexcept { return rkt_; }
  DestinationTable& destinations() noexcept { return destinations_; }
  const SgpConfig& config() const noexcept { return cfg_; }

 private:
  struct Peer {
    AssocId assoc = 0;
    std::uint16_t outbound_streams = 2;
    bool up = false;  // ASP-INACTIVE or better
    std::optional<std::uint32_t> asp_id;
    Heartbeat beat;
  };
  struct As {
    AsConfig cfg;
    AsState state = AsState::Down;
    std::vector<AssocId> active;  // sorted: loadshare maps SLS over this order
    std::set<AssocId> registrants;
    std::deque<Data> queue;
    bool dynamic = false;
    bool tag_correlation = false;  // broadcast: next DATA carries a Correlation Id
  };

  Peer* peer(AssocId a);
  As* find_as(std::uint32_t rc);
  bool allowed(const As& as, const Peer& p) const;
  bool serves(const As& as, const Peer& p) const { return p.up && allowed(as, p); }
  bool is_active(const As& as, AssocId a) const;
  std::size_t members_up(const As& as) const;

  void send(AssocId a, std::uint16_t stream, const Message& m, Actions& out);
  void send_err(AssocId a, Err e, Actions& out);
  void drop(AssocId a, DropReason r, Actions& out, std::uint32_t n = 1);
  void ntfy(const As& as, AssocId to, Status st, std::optional<std::uint32_t> asp_id, Actions& out);
  void ntfy_all(const As& as, Status st, bool inactive_only, std::optional<AssocId> except,
                std::optional<std::uint32_t> asp_id, Actions& out);

  void activate(Peer& p, As& as, TimePoint now, Actions& out);
  void deactivate(Peer& p, As& as, bool failure, TimePoint now, Actions& out);
  void peer_down(Peer& p, bool failure, TimePoint now, Actions& out);
  bool recompute(As& as, TimePoint now, Actions& out);
  void set_as_state(As& as, AsState to, Actions& out);
  void deliver(As& as, const DataView& d, Actions& out);
  void flush(As& as, TimePoint now, Actions& out);
  void remove_as(std::uint32_t rc, Actions& out);

  void on_aspup(Peer& p, const AspUp& m, ByteView raw, TimePoint now, Actions& out);
  void on_aspdn(Peer& p, TimePoint now, Actions& out);
  void on_aspac(Peer& p, const AspAc& m, TimePoint now, Actions& out);
  void on_aspia(Peer& p, const AspIa& m, TimePoint now, Actions& out);
  void on_reg_req(Peer& p, const RegReq& m, TimePoint now, Actions& out);
  void on_dereg_req(Peer& p, const DeregReq& m, TimePoint now, Actions& out);
  void on_daud(Peer& p, const Daud& m, Actions& out);
  RegistrationResult register_key(Peer& p, const RoutingKey& k, Actions& out);

  SgpConfig cfg_;
  std::map<AssocId, Peer> peers_;
  std::map<std::uint32_t, As> as_;
  RoutingKeyTable rkt_;
  DestinationTable destinations_;
  DropCounters drops_;
  std::uint32_t next_dynamic_rc_;
  std::uint32_t next_correlation_id_ = 1;
  std::size_t dynamic_count_ = 0;
};

}  // namespace mxua
