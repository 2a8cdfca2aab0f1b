#pragma once
// The takeover entity of a registrar (RFC 5353 section 3.9): when a peer is
// declared dead, INIT_TAKEOVER to every active peer and the target; all
// INIT_TAKEOVER_ACKs in -> TAKEOVER_SERVER to all, the target's PEs become
// ours and get "adopt me as home" keep-alives (ENDPOINT_KEEP_ALIVE H=1).
// Arbitration (3.9.1): of two servers taking over the same target, the one
// with the lower id aborts and acknowledges; the target speaking aborts.
// TAKEOVER-EXPIRE-INTERVAL without every ACK abandons the attempt (as
// rsplib does) and, if the target is still silent and still owns PEs,
// starts a new one; a peer that acknowledged someone else's takeover and
// still sees the target owning PEs 2 x TAKEOVER-EXPIRE-INTERVAL later (the
// initiator died too) takes over itself.
#include <map>
#include <optional>
#include <set>

#include "registrar/asap_server.hpp"
#include "registrar/core_shared.hpp"
#include "registrar/enrp_peering.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/wire/enrp.hpp"

namespace rserpool::registrar {

class Takeover final : public TakeoverHooks {
 public:
  Takeover(CoreShared& shared, EnrpPeering& peering, AsapServer& asap) : s_(shared), peering_(peering), asap_(asap) {}
  Takeover(const Takeover&) = delete;
  Takeover& operator=(const Takeover&) = delete;

  void on_init_takeover(const wire::enrp::InitTakeover& t, TimePoint now);
  void on_init_takeover_ack(const wire::enrp::InitTakeoverAck& t, TimePoint now);
  void on_takeover_server(const wire::enrp::TakeoverServer& t, TimePoint now);
  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  void on_timeout(TimePoint now);

  // TakeoverHooks
  void peer_spoke(ServerIdentifier peer) override;
  void peer_dead(ServerIdentifier peer, TimePoint now) override;

  bool in_progress(ServerIdentifier target) const { return attempts_.count(target) != 0; }
  std::optional<TimePoint> deadline(const TimerKey& key) const { return timers_.deadline(key); }

 private:
  struct Attempt {
    std::set<ServerIdentifier> awaiting;  // active peers whose ACK is missing
  };
  void start(ServerIdentifier target, TimePoint now);
  void abort(ServerIdentifier target);
  void execute(ServerIdentifier target, TimePoint now);
  void watch_orphans(ServerIdentifier target, TimePoint since);

  CoreShared& s_;
  EnrpPeering& peering_;
  AsapServer& asap_;
  std::map<ServerIdentifier, Attempt> attempts_;
  TimerSet<TimerKey> timers_;  // takeover(target), orphan_check(target)
};

}  // namespace rserpool::registrar
