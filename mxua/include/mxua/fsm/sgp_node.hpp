#pragma once
// The SGP side of M3UA (RFC 4666 1.2, 4.3): one SgpNode serves every ASP
// association of a local SGP, because AS state spans associations; actions
// name their association. Also the responding half of an IPSP.
//
// A thin composition of the RFC's entities (mxua/fsm/sgp/):
//   AspTable               per-ASP state, ASPUP admission (4.3.1, 4.3.4.1)
//   ApplicationServer      one per routing context: AS state machine, T(r),
//                          pending queue, NTFY (4.3.2, 4.3.4.3, 4.3.4.5)
//   traffic distribution   override / loadshare / broadcast (4.3.4.3)
//   SgpSsnm                destination states, DAUD answers (4.5)
//   RoutingKeyManagement   REG / DEREG (4.4)
// The node decodes, dispatches, and keeps the timers of all of them
// (T(r) per AS, T(beat) per ASP) in one TimerSet: next_deadline() and
// on_timeout(now) are its whole timer interface.
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "mxua/fsm/data_verdict.hpp"
#include "mxua/fsm/sgp/application_server.hpp"
#include "mxua/fsm/sgp/asp_table.hpp"
#include "mxua/fsm/sgp/rkm.hpp"
#include "mxua/fsm/sgp/sgp_config.hpp"
#include "mxua/fsm/sgp/ssnm.hpp"
#include "rserpool/base/timer_set.hpp"

namespace mxua {

// Where route() sends one DATA message now: its AS and the ASPs (one for
// override and loadshare, every active ASP for broadcast). `asps` is valid
// until the node's next event.
struct RouteDecision {
  std::uint32_t routing_context = 0;
  TrafficMode mode = TrafficMode::Loadshare;
  std::span<const AssocId> asps;
};

class SgpNode {
 public:
  explicit SgpNode(SgpConfig cfg);

  // An association whose peer is not checked (an IPSP link, a test).
  Actions association_up(AssocId assoc, std::uint16_t outbound_streams, TimePoint now);
  // An association from these peer addresses (all of them, as the
  // transport reports them): bound to the configured peer every address
  // belongs to, or refused with AssociationRefused (sgp_peers.hpp) unless
  // unknown peers are accepted.
  Actions association_up(AssocId assoc, const std::vector<rserpool::IpAddress>& remote,
                         std::uint16_t outbound_streams, TimePoint now);
  Actions association_down(AssocId assoc, TimePoint now);
  Actions receive(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now) {
    Actions out;
    receive(assoc, stream, bytes, now, out);
    return out;
  }
  // Appends to `out`: a driver can reuse one vector for every message.
  void receive(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now, Actions& out);
  // receive()'s common case without an action list (issue 16): true, with
  // `indication` filled, exactly when receive() would give one
  // DataIndication and nothing else, with the same effect on the node;
  // false, and the node untouched, otherwise: the caller then calls
  // receive(). The verdict is handle_data()'s own (data_verdict()).
  bool receive_data_now(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now,
                        DataIndication& indication);

  // The substrate's timer convention (docs/architecture.md).
  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  // Grows whenever next_deadline() may have changed (TimerSet::changes()).
  std::uint64_t timer_changes() const noexcept { return timers_.changes(); }
  void on_timeout(TimePoint now, Actions& out);
  Actions on_timeout(TimePoint now) {
    Actions out;
    on_timeout(now, out);
    return out;
  }

  // SS7 -> ASP direction: picks the AS by RC or routing key and sends per its
  // traffic mode, queues while AS-PENDING, drops with a reason otherwise.
  void route(const DataView& d, TimePoint now, Actions& out);
  Actions route(const DataView& d, TimePoint now) {
    Actions out;
    route(d, now, out);
    return out;
  }
  // The decision route() would execute for this DATA now, without sending:
  // nullopt when it would not deliver (no AS, AS not ACTIVE).
  std::optional<RouteDecision> decide(const DataView& d) const;
  // route()'s common case without an action list (issue 16): true, with
  // `s` filled, exactly when route() would give that one SendData and
  // nothing else, broadcast excepted (ApplicationServer::route_now()); false, and the node
  // untouched, otherwise: the caller then calls route().
  bool route_now(const DataView& d, SendData& s) const;

  // Destination state as seen by the SG: announced to the active ASPs
  // (DUNA / DAVA / DRST / SCON / DUPU) and used to answer DAUD.
  Actions announce(MaskedPointCode pc, DestinationAvailability a, TimePoint now);
  Actions announce_congestion(PointCode pc, std::uint8_t level, TimePoint now);
  Actions announce_user_unavailable(PointCode pc, UserCause uc, TimePoint now);

  // Entry points for a composite endpoint that decoded the message already.
  void handle(AssocId assoc, const Message& m, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out);
  void handle_data(AssocId assoc, const DataView& d, std::uint16_t stream, ByteView raw, TimePoint now,
                   Actions& out);
  // What handle_data() does with a DATA from `asp` on `stream`: deliver it
  // for an AS (its RC), or refuse it (drop reason, ERR).
  DataVerdict data_verdict(const Asp& asp, const DataView& d, std::uint16_t stream) const;
  void seen(AssocId assoc, TimePoint now);

  // Introspection (CLI, tests).
  AspState asp_state(AssocId assoc, std::optional<std::uint32_t> rc = std::nullopt) const;
  std::optional<AsState> as_state(std::uint32_t rc) const;
  std::vector<AssocId> active_asps(std::uint32_t rc) const;
  std::size_t queued(std::uint32_t rc) const;
  const ApplicationServer* application_server(std::uint32_t rc) const;
  const AsMap& application_servers() const noexcept { return as_; }
  const AspTable& asps() const noexcept { return asps_; }
  const SgpPeers& peers() const noexcept { return peers_; }
  // The configured peer an association is bound to.
  std::optional<PeerId> peer_of(AssocId assoc) const;
  std::uint64_t refused_associations() const noexcept { return refused_; }
  // Idle (ASP-DOWN) associations closed to make room for a newcomer of the same peer.
  std::uint64_t evicted_associations() const noexcept { return evicted_; }
  // Associations reset for DATA before ASP Up (SgpConfig::reset_on_data_before_asp_up).
  std::uint64_t stale_asp_resets() const noexcept { return stale_asp_resets_; }
  const DropCounters& drops() const noexcept { return drops_; }
  const ErrCounters& errors() const noexcept { return errs_; }
  const RoutingKeyTable& routing_keys() const noexcept { return rkm_.keys(); }
  DestinationTable& destinations() noexcept { return ssnm_.destinations(); }
  const SgpConfig& config() const noexcept { return cfg_; }
  const rserpool::TimerSet<TimerKey>& timers() const noexcept { return timers_; }

 private:
  Actions up(AssocId assoc, std::optional<PeerId> peer, std::uint16_t outbound_streams, TimePoint now);
  SgpContext context(TimePoint now, Actions& out) { return SgpContext{asps_, timers_, cfg_, drops_, now, out}; }
  ApplicationServer* find_as(std::uint32_t rc);
  const ApplicationServer* find_as(std::uint32_t rc) const;
  std::optional<std::uint32_t> as_for(const DataView& d) const;
  bool active_anywhere(AssocId a) const;
  void sync_beat(Asp& asp);

  void send_err(AssocId a, Err e, Actions& out);
  void drop(AssocId a, DropReason r, Actions& out, std::uint32_t n = 1);
  void asp_down(Asp& asp, bool failure, TimePoint now, Actions& out);
  void withdraw_registrations(Asp& asp, TimePoint now, Actions& out);
  void remove_as(std::uint32_t rc, TimePoint now, Actions& out);

  void on_aspup(Asp& asp, const AspUp& m, ByteView raw, TimePoint now, Actions& out);
  void on_aspdn(Asp& asp, TimePoint now, Actions& out);
  void on_aspac(Asp& asp, const AspAc& m, TimePoint now, Actions& out);
  void on_aspia(Asp& asp, const AspIa& m, TimePoint now, Actions& out);
  void on_reg_req(Asp& asp, const RegReq& m, TimePoint now, Actions& out);
  void on_dereg_req(Asp& asp, const DeregReq& m, TimePoint now, Actions& out);

  SgpConfig cfg_;
  SgpPeers peers_;
  AspTable asps_;
  AsMap as_;
  RoutingKeyManagement rkm_;
  SgpSsnm ssnm_;
  rserpool::TimerSet<TimerKey> timers_;
  DropCounters drops_;
  ErrCounters errs_;
  std::uint64_t refused_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t stale_asp_resets_ = 0;
};

}  // namespace mxua
