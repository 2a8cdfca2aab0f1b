// Takeover of a dead peer's PEs (RFC 5353 3.9) with higher-id arbitration.
#include "registrar/takeover.hpp"

#include <algorithm>

namespace rserpool::registrar {

namespace enrp = wire::enrp;

namespace {
TimerKey expiry_key(ServerIdentifier target) { return TimerKey{TimerKind::takeover, target}; }
TimerKey orphan_key(ServerIdentifier target) { return TimerKey{TimerKind::orphan_check, target}; }
}  // namespace

void Takeover::peer_spoke(ServerIdentifier peer) {
  if (in_progress(peer)) abort(peer);
  timers_.cancel(orphan_key(peer));
}

void Takeover::peer_dead(ServerIdentifier peer, TimePoint now) {
  if (!in_progress(peer)) start(peer, now);
}

void Takeover::start(ServerIdentifier target, TimePoint now) {
  Attempt t;
  std::vector<ServerIdentifier> to = peering_.active_peer_ids();
  for (ServerIdentifier id : to) {
    if (id != target) t.awaiting.insert(id);
  }
  s_.notify(Event::takeover_started, {}, 0, target);
  const bool immediate = t.awaiting.empty();
  attempts_[target] = std::move(t);
  timers_.arm(expiry_key(target), now + s_.config.takeover_expire);
  timers_.cancel(orphan_key(target));
  // Every active peer and the target itself (which answers with PRESENCE
  // if it is alive after all).
  if (std::find(to.begin(), to.end(), target) == to.end()) to.insert(std::upper_bound(to.begin(), to.end(), target), target);
  for (ServerIdentifier id : to) s_.send_enrp(id, enrp::InitTakeover{s_.self(), id, target});
  if (immediate) execute(target, now);
}

void Takeover::abort(ServerIdentifier target) {
  if (attempts_.erase(target) == 0) return;
  timers_.cancel(expiry_key(target));
  ++s_.counters.takeovers_aborted;
  s_.notify(Event::takeover_aborted, {}, 0, target);
}

void Takeover::on_init_takeover(const enrp::InitTakeover& t, TimePoint now) {
  if (t.target_id == s_.self()) {
    // We are alive: tell everyone at once (RFC 5353 3.9.1).
    for (ServerIdentifier id : peering_.active_peer_ids()) peering_.send_presence(id, false);
    return;
  }
  if (in_progress(t.target_id)) {
    // Conflict (RFC 5353 3.9.1): a server whose own id is less than the
    // sender's aborts its attempt and acknowledges; the higher id wins.
    if (s_.self() > t.sender_id) return;
    abort(t.target_id);
  }
  peering_.stop_monitoring(t.target_id, now);
  // If the initiator never completes, the target's PEs would keep a dead
  // home: look again later.
  watch_orphans(t.target_id, now);
  s_.send_enrp(t.sender_id, enrp::InitTakeoverAck{s_.self(), t.sender_id, t.target_id});
}

void Takeover::on_init_takeover_ack(const enrp::InitTakeoverAck& t, TimePoint now) {
  auto it = attempts_.find(t.target_id);
  if (it == attempts_.end()) return;
  it->second.awaiting.erase(t.sender_id);
  if (it->second.awaiting.empty()) execute(t.target_id, now);
}

void Takeover::execute(ServerIdentifier target, TimePoint now) {
  attempts_.erase(target);
  timers_.cancel(expiry_key(target));
  timers_.cancel(orphan_key(target));
  ++s_.counters.takeovers_won;
  for (ServerIdentifier id : peering_.active_peer_ids()) {
    if (id != target) s_.send_enrp(id, enrp::TakeoverServer{s_.self(), id, target});
  }
  peering_.retire(target, now);
  s_.notify(Event::takeover_won, {}, 0, target);
  for (const auto* e : s_.handlespace.change_owner(target, s_.self())) {
    asap_.adopt_taken_over(e->pool_handle(), e->id(), now);
  }
}

void Takeover::on_takeover_server(const enrp::TakeoverServer& t, TimePoint now) {
  if (t.target_id == s_.self()) {
    // We were declared dead while alive; our PEs get H=1 keep-alives from
    // the new home and re-register there, whose ADD_PEs move them here too.
    return;
  }
  abort(t.target_id);
  timers_.cancel(orphan_key(t.target_id));
  peering_.retire(t.target_id, now);
  (void)s_.handlespace.change_owner(t.target_id, t.sender_id);
  s_.notify(Event::taken_over_by_peer, {}, 0, t.target_id);
}

void Takeover::watch_orphans(ServerIdentifier target, TimePoint since) {
  timers_.arm(orphan_key(target), since + 2 * s_.config.takeover_expire);
}

void Takeover::on_timeout(TimePoint now) {
  while (auto key = timers_.take_due(now)) {
    const ServerIdentifier target = key->peer;
    const bool silent_owner = !peering_.peer_active(target) && s_.handlespace.owned_count(target) > 0;
    if (key->kind == TimerKind::takeover) {
      // Not every ACK in time: abandoned (as rsplib does). A target still
      // silent and still owning PEs here gets a new round at once:
      // otherwise PEs registered with an infinite life would keep a dead
      // home forever when one ACK was lost.
      abort(target);
      if (silent_owner) start(target, now);
    } else if (key->kind == TimerKind::orphan_check) {
      // We acknowledged someone else's takeover of a silent peer, but its
      // PEs still name that peer as home long after: the initiator died or
      // lost the race without a winner. Take over ourselves.
      if (silent_owner && !in_progress(target) && peering_.knows(target)) start(target, now);
    }
  }
}

}  // namespace rserpool::registrar
