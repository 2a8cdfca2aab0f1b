#include "sg/routing/pool_distributor.hpp"

#include <algorithm>

namespace sg {

using rserpool::PeIdentifier;

std::string_view to_string(DropReason r) noexcept {
  switch (r) {
    case DropReason::pool_unavailable: return "pool-unavailable";
    case DropReason::queue_full: return "queue-full";
    case DropReason::fenced_member: return "fenced-pe";
    case DropReason::foreign_call: return "foreign-call";
    case DropReason::Count_: break;
  }
  return "unknown";
}

std::string_view to_string(PlacementMode m) noexcept {
  switch (m) {
    case PlacementMode::rendezvous: return "rendezvous";
    case PlacementMode::policy: return "policy";
  }
  return "unknown";
}

std::string_view to_string(MemberState s) noexcept {
  switch (s) {
    case MemberState::connecting: return "connecting";
    case MemberState::active: return "active";
    case MemberState::suspect: return "suspect";
    case MemberState::draining: return "draining";
    case MemberState::failed: return "failed";
  }
  return "unknown";
}

std::string_view to_string(MemberNews n) noexcept {
  switch (n) {
    case MemberNews::joined: return "joined the pool";
    case MemberNews::moved: return "registered a new user transport: reconnecting";
    case MemberNews::suspected: return "left the handlespace while its link is up: suspected, no new flows";
    case MemberNews::proven_alive: return "link stayed up through the suspicion: alive, draining";
    case MemberNews::relisted: return "listed again: back in service";
    case MemberNews::draining: return "draining";
    case MemberNews::drained: return "drain finished";
    case MemberNews::fenced: return "fenced: calls failed over, association aborted until the registrar shows it alive";
    case MemberNews::audit_passed: return "still listed after the registrar's audit: reconnecting";
    case MemberNews::retrying: return "retrying";
    case MemberNews::removed: return "removed";
  }
  return "unknown";
}

namespace {

// Which of `handed_back` (oldest first) are copies kept in `kept` (send
// order): walked from the newest, as the transport hands back the tail of
// what it was given. The first message that is not a kept copy was sent
// before the copies were taken, and so was everything older: stop there, so
// that an ambiguity (equal bytes) costs a duplicate, never a loss.
std::vector<bool> copies_in(const std::vector<MtpMessage>& handed_back, const std::deque<MtpMessage>& kept) {
  std::vector<bool> is_copy(handed_back.size(), false);
  auto k = kept.rbegin();
  for (std::size_t i = handed_back.size(); i-- > 0;) {
    auto found = std::find(k, kept.rend(), handed_back[i]);
    if (found == kept.rend()) break;
    is_copy[i] = true;
    k = std::next(found);
  }
  return is_copy;
}

// Appends `cookie` unless the list has it already (a cookie echoed twice
// changes nothing at the heir; sent once, it is counted once).
void add_cookie(std::vector<rserpool::Bytes>& cookies, rserpool::Bytes cookie) {
  if (std::find(cookies.begin(), cookies.end(), cookie) == cookies.end()) cookies.push_back(std::move(cookie));
}

}  // namespace

std::vector<rserpool::Bytes> PoolDistributor::cookies_of(const Member& m) {
  std::vector<rserpool::Bytes> cookies;
  if (m.latest_cookie) cookies.push_back(*m.latest_cookie);
  for (const auto& c : m.inherited) add_cookie(cookies, c);
  return cookies;
}

PoolDistributor::PoolDistributor(DistributorConfig config, MemberSelector& selector, DistributorProfile profile)
    : config_(config), profile_(profile), selector_(selector) {}

void PoolDistributor::start(TimePoint now) { track_availability(now); }

std::vector<Action> PoolDistributor::reconfigure(const DistributorConfig& config, TimePoint /*now*/) {
  std::vector<Action> out;
  config_ = config;
  // Running clocks follow the new pool-wait; drain deadlines already set
  // stay (they were promised); the congestion state follows the new
  // thresholds at once.
  if (no_member_since_ && !unavailable_signalled_)
    timers_.arm(TimerKey{TimerKind::availability}, availability_deadline(*no_member_since_));
  arm_pool_wait();
  update_congestion(out);
  return out;
}

// --- Membership -------------------------------------------------------------

std::vector<Action> PoolDistributor::handlespace(std::span<const rserpool::PoolElementParameter> list,
                                                 TimePoint now) {
  std::vector<Action> out;
  const auto changes = membership_.update(list);
  if (changes.empty()) return out;
  membership_moved(now);
  const auto selectable = membership_.selectable();
  selector_.members_changed(membership_.overall_policy(), selectable);
  // The whole list first, then the waiting traffic: placed after the first
  // joiner alone, a shared placement would hash over part of the pool and
  // disagree with a mate that saw the list whole (found by the seeded
  // simulation, tests/sg_sim/seed_world.cpp).
  applying_list_ = true;
  for (const auto& ch : changes) {
    switch (ch.what) {
      case MembershipChange::left: loss_notice(ch.pe, now, out); break;
      case MembershipChange::joined: join(ch.pe, now, out); break;
      case MembershipChange::moved: moved(ch.pe, now, out); break;
      case MembershipChange::policy_changed:
        if (auto it = members_.find(ch.pe); it != members_.end()) it->second.policy = membership_.listed(ch.pe)->policy;
        break;
    }
  }
  applying_list_ = false;
  flush_pool_wait(now, out);
  update_congestion(out);
  return out;
}

void PoolDistributor::membership_moved(TimePoint now) {
  if (settled_) return;
  if (!selector_.shared()) {
    // Only a shared placement needs to see the pool whole (a switch to one
    // later finds the gateway running, its view complete).
    settled_ = true;
    return;
  }
  if (membership_.listed_count() == 0) {
    timers_.cancel(TimerKey{TimerKind::settle});
    return;
  }
  // Settled once the list has stayed the same for placement_settle, and at
  // the latest three settle times (never more than half the pool-wait, which
  // the held messages must survive) after the first list: a PE that keeps
  // flapping must not hold the calls in progress back for good.
  if (!first_listed_) first_listed_ = now;
  const Duration settle = config_.placement_settle;
  const Duration bound = std::min<Duration>(3 * settle, config_.pool_wait / 2);
  timers_.arm(TimerKey{TimerKind::settle}, std::min(now + settle, *first_listed_ + bound));
}

std::vector<Action> PoolDistributor::list_complete(TimePoint now) {
  std::vector<Action> out;
  if (settled_ || membership_.listed_count() == 0) return out;
  settled_ = true;
  timers_.cancel(TimerKey{TimerKind::settle});
  flush_pool_wait(now, out);
  update_congestion(out);
  return out;
}

void PoolDistributor::join(PeIdentifier pe, TimePoint now, std::vector<Action>& out) {
  const auto* listing = membership_.listed(pe);
  auto [it, inserted] = members_.try_emplace(pe);
  Member& m = it->second;
  m.policy = listing->policy;
  m.transport = listing->user_transport;
  if (inserted) {
    out.push_back(action::News{pe, MemberNews::joined});
    connect(pe, m, now, out);
    return;
  }
  // Still known: it left while we had an association (suspected, or being
  // drained) and registered again.
  if (m.state == MemberState::suspect) {
    prove_alive(pe, now, out);
  } else if (m.state == MemberState::draining) {
    m.state = MemberState::active;
    timers_.cancel(TimerKey{TimerKind::drain, pe});
    out.push_back(action::News{pe, MemberNews::relisted});
    became_active(now, out);
  }
}

void PoolDistributor::loss_notice(PeIdentifier pe, TimePoint now, std::vector<Action>& out) {
  auto it = members_.find(pe);
  if (it == members_.end()) return;
  Member& m = it->second;
  switch (m.state) {
    case MemberState::connecting:
    case MemberState::failed:
      // No association that could still hold calls: forget it.
      out.push_back(action::News{pe, MemberNews::removed});
      remove_member(pe, now, out);
      return;
    case MemberState::active:
      // The registrar may have seen its death before our link did (its
      // own ASAP association dropped first): suspect, do not drain yet. An
      // estate it is heir of stays with it (what it is sent is kept): a new
      // heir now would give the cookie a second living heir if it lives
      // (seed 1095), and split a dead heir's inherited calls from the
      // orphans still waiting (seeds 2733, 3381).
      m.state = MemberState::suspect;
      ++counters_.suspicions;
      timers_.arm(TimerKey{TimerKind::suspicion, pe}, now + profile_.membership.suspicion);
      out.push_back(action::News{pe, MemberNews::suspected});
      track_availability(now);
      return;
    case MemberState::suspect:
    case MemberState::draining: return;
  }
}

void PoolDistributor::moved(PeIdentifier pe, TimePoint now, std::vector<Action>& out) {
  auto it = members_.find(pe);
  if (it == members_.end()) return;
  Member& m = it->second;
  const auto* listing = membership_.listed(pe);
  m.policy = listing->policy;
  m.transport = listing->user_transport;
  out.push_back(action::News{pe, MemberNews::moved});
  switch (m.state) {
    case MemberState::connecting: connect(pe, m, now, out); return;
    case MemberState::active:
    case MemberState::suspect:
    case MemberState::draining:
      // The association leads to the old registration: its calls fail over.
      fail_member(pe, {}, Loss::cut_off, now, out);
      break;
    case MemberState::failed: break;
  }
  // A new registration is the registrar's word that it lives: no audit wait.
  auto again = members_.find(pe);
  if (again == members_.end() || again->second.state != MemberState::failed) return;
  again->second.audit_passed = true;
  timers_.cancel(TimerKey{TimerKind::audit, pe});
  timers_.cancel(TimerKey{TimerKind::retry, pe});
  connect(pe, again->second, now, out);
}

void PoolDistributor::connect(PeIdentifier pe, Member& m, TimePoint now, std::vector<Action>& out) {
  m.state = MemberState::connecting;
  out.push_back(action::Connect{pe, m.transport});
  // Traffic waiting for any PE can queue behind this one now (after the
  // whole list, when a list is being applied).
  if (!applying_list_) flush_pool_wait(now, out);
}

rserpool::Result<std::vector<Action>, PoolDistributor::DrainRefusal> PoolDistributor::drain(
    PeIdentifier pe, std::optional<Duration> deadline, TimePoint now) {
  auto it = members_.find(pe);
  if (it == members_.end()) return rserpool::unexpected(DrainRefusal::unknown_pe);
  Member& m = it->second;
  if (m.state == MemberState::draining || (m.state == MemberState::suspect && m.drain_requested))
    return rserpool::unexpected(DrainRefusal::already_draining);
  std::vector<Action> out;
  membership_.set_operator_drained(pe);
  const auto selectable = membership_.selectable();
  selector_.members_changed(membership_.overall_policy(), selectable);
  const Duration d = deadline.value_or(config_.drain_deadline);
  switch (m.state) {
    case MemberState::connecting:
    case MemberState::failed:
      // Never carried traffic (or already failed over): nothing to drain.
      remove_member(pe, now, out);
      break;
    case MemberState::suspect: m.drain_requested = d; break;  // once it proves alive
    case MemberState::active: start_drain(pe, d, now, out); break;
    case MemberState::draining: break;
  }
  update_congestion(out);
  return out;
}

void PoolDistributor::start_drain(PeIdentifier pe, Duration deadline, TimePoint now, std::vector<Action>& out) {
  Member& m = members_.at(pe);
  m.state = MemberState::draining;
  ++counters_.drains;
  timers_.arm(TimerKey{TimerKind::drain, pe}, now + deadline);
  out.push_back(action::News{pe, MemberNews::draining});
  // Only calls are worth keeping on a leaving PE; other flows move now.
  for (const auto& f : flows_.flows_of(pe))
    if (!f.circuit) flows_.release(f);
  if (flows_.count_of(pe) == 0) finish_drain(pe, now, out);
  track_availability(now);
}

void PoolDistributor::finish_drain(PeIdentifier pe, TimePoint now, std::vector<Action>& out) {
  auto it = members_.find(pe);
  if (it == members_.end()) return;
  const std::size_t moved = orphan_flows_of(pe, cookies_of(it->second));
  counters_.flows_moved += moved;
  if (moved != 0) {
    // Its calls move to an heir: the old controller must not answer them
    // any more. What the association hands back comes through handed_back().
    ++counters_.fenced;
    out.push_back(action::Fence{pe});
  } else {
    out.push_back(action::Disconnect{pe});
  }
  out.push_back(action::News{pe, MemberNews::drained});
  std::vector<MtpMessage> held(std::make_move_iterator(it->second.queue.begin()),
                               std::make_move_iterator(it->second.queue.end()));
  queued_total_ -= held.size();
  cancel_member_timers(pe);
  members_.erase(it);
  track_availability(now);
  reroute(std::move(held), now, out);
}

void PoolDistributor::prove_alive(PeIdentifier pe, TimePoint now, std::vector<Action>& out) {
  Member& m = members_.at(pe);
  timers_.cancel(TimerKey{TimerKind::suspicion, pe});
  m.since_notice.clear();
  ++counters_.suspicions_cleared;
  const bool listed = membership_.listed(pe) != nullptr;
  const auto drain_requested = m.drain_requested;
  m.drain_requested.reset();
  m.state = MemberState::active;
  out.push_back(action::News{pe, listed ? MemberNews::relisted : MemberNews::proven_alive});
  // Messages held while the copies were at their bound go first, in order.
  while (!m.queue.empty()) {
    MtpMessage msg = std::move(m.queue.front());
    m.queue.pop_front();
    --queued_total_;
    deliver(pe, m, std::move(msg), out);
  }
  if (listed && !drain_requested) {
    became_active(now, out);
    return;
  }
  if (listed) {
    // The operator asked for a drain while it was suspected.
    membership_.set_operator_drained(pe);
    const auto selectable = membership_.selectable();
    selector_.members_changed(membership_.overall_policy(), selectable);
  }
  // Alive, but no longer in the pool: a graceful departure.
  start_drain(pe, drain_requested.value_or(config_.drain_deadline), now, out);
}

void PoolDistributor::remove_member(PeIdentifier pe, TimePoint now, std::vector<Action>& out) {
  auto it = members_.find(pe);
  if (it == members_.end()) return;
  Member& m = it->second;
  std::vector<MtpMessage> queued(std::make_move_iterator(m.queue.begin()), std::make_move_iterator(m.queue.end()));
  queued_total_ -= queued.size();
  orphan_flows_of(pe, cookies_of(m));
  if (m.state == MemberState::connecting) out.push_back(action::Disconnect{pe});
  cancel_member_timers(pe);
  members_.erase(it);
  track_availability(now);
  // Anything queued behind it goes elsewhere, in order.
  reroute(std::move(queued), now, out);
}

void PoolDistributor::cancel_member_timers(PeIdentifier pe) {
  for (auto kind : {TimerKind::drain, TimerKind::suspicion, TimerKind::audit, TimerKind::retry})
    timers_.cancel(TimerKey{kind, pe});
}

// --- Association events -----------------------------------------------------

std::vector<Action> PoolDistributor::association_up(PeIdentifier pe, TimePoint now) {
  std::vector<Action> out;
  auto it = members_.find(pe);
  if (it == members_.end()) {
    out.push_back(action::Disconnect{pe});
    return out;
  }
  Member& m = it->second;
  if (m.state != MemberState::connecting) return out;
  m.state = MemberState::active;
  // Up again: the failure event (if any) is over; a later failure is news.
  m.failure_event = false;
  m.reported_unreachable = false;
  m.audit_passed = false;
  m.backoff = Duration{0};
  timers_.cancel(TimerKey{TimerKind::audit, pe});
  timers_.cancel(TimerKey{TimerKind::retry, pe});
  // Cookies first: the new PE must have the call state before any data.
  for (auto& cookie : m.echo_before_data) {
    out.push_back(action::SendCookieEcho{pe, std::move(cookie)});
    ++counters_.cookies_echoed;
  }
  m.echo_before_data.clear();
  while (!m.queue.empty()) {
    out.push_back(action::SendData{pe, std::move(m.queue.front())});
    m.queue.pop_front();
    --queued_total_;
    ++counters_.sent;
    m.carried_traffic = true;
  }
  became_active(now, out);
  flush_pool_wait(now, out);
  update_congestion(out);
  return out;
}

std::vector<Action> PoolDistributor::association_failed(PeIdentifier pe, std::vector<MtpMessage> handed_back,
                                                        TimePoint now) {
  std::vector<Action> out;
  auto it = members_.find(pe);
  if (it == members_.end() || it->second.state == MemberState::failed) {
    // Not an association we count on (the PE was removed, or failed over
    // already): its hand-back still must not be lost.
    reroute_counted(std::move(handed_back), now, out);
    update_congestion(out);
    return out;
  }
  fail_member(pe, std::move(handed_back), Loss::failed, now, out);
  return out;
}

std::vector<Action> PoolDistributor::handed_back(PeIdentifier /*pe*/, std::vector<MtpMessage> messages,
                                                TimePoint now) {
  // An association we closed or cut off gave back what it had not
  // delivered: re-routed like a failover's hand-back (a fence we ordered
  // never follows a loss notice, so there are no kept copies to match).
  std::vector<Action> out;
  reroute_counted(std::move(messages), now, out);
  update_congestion(out);
  return out;
}

std::vector<Action> PoolDistributor::association_closed(PeIdentifier pe, std::vector<MtpMessage> leftovers,
                                                        TimePoint now) {
  std::vector<Action> out;
  auto it = members_.find(pe);
  if (it == members_.end() || it->second.state == MemberState::failed) {
    reroute_counted(std::move(leftovers), now, out);
    update_congestion(out);
    return out;
  }
  fail_member(pe, std::move(leftovers), Loss::closed, now, out);
  return out;
}

void PoolDistributor::fail_member(PeIdentifier pe, std::vector<MtpMessage> handed_back, Loss loss, TimePoint now,
                                  std::vector<Action>& out) {
  Member& m = members_.at(pe);
  const MemberState was = m.state;
  m.state = MemberState::failed;
  if (!m.failure_event) {
    m.failure_event = true;
    ++counters_.failovers;
  }
  // RFC 5351 3.6 / RFC 5352 3.5: tell the registrar, once per failure event,
  // and only about a PE we tried to use.
  if (loss == Loss::failed && (m.carried_traffic || !handed_back.empty()) && !m.reported_unreachable) {
    m.reported_unreachable = true;
    m.reported_at = now;
    out.push_back(action::ReportUnreachable{pe});
  }
  // Its own cookie, then those it inherited and has not covered with one of
  // its own: an heir that fails before its association came up, or before
  // it sent a cookie of its own, never passed on the calls it was to adopt
  // (seeds 4031, 2733, 3381).
  const std::size_t moved = orphan_flows_of(pe, cookies_of(m));
  m.inherited.clear();
  m.spoke_for_inherited = false;
  // The estates it was heir of go to its heir with its own: the calls it
  // inherited (bound to it now) and the orphans still on their way to it
  // need the same state, and both gateways of a pair fold at their own
  // detection of this failure, over the same survivors.
  const std::size_t folded = fold_estates_into(pe);
  counters_.flows_moved += moved + folded;
  // The heir is chosen now, over the survivors of this moment, not when the
  // first orphan is routed: a mate chooses at its own failure detection, and
  // a PE joining in between would otherwise give the two gateways different
  // heirs (found by the seeded simulation, tests/sg_sim/seed_world.cpp).
  if (moved + folded != 0) (void)heir_for(pe);
  if (was != MemberState::connecting && loss != Loss::closed) {
    // Fencing: its calls belong to an heir now. The association is aborted
    // (a no-op when it is down already) and whatever it still delivers is
    // dropped; it is reconnected only once the registrar shows it alive.
    ++counters_.fenced;
    out.push_back(action::Fence{pe});
    out.push_back(action::News{pe, MemberNews::fenced});
  }
  // Oldest first: what the transport gave back and was sent before any
  // loss notice, the copies kept since the notice, then what never left.
  std::vector<MtpMessage> again;
  if (!m.since_notice.empty()) {
    const auto is_copy = copies_in(handed_back, m.since_notice);
    for (std::size_t i = 0; i < handed_back.size(); ++i)
      if (!is_copy[i]) again.push_back(std::move(handed_back[i]));
    counters_.kept_since_notice += m.since_notice.size();
    for (auto& c : m.since_notice) again.push_back(std::move(c));
    m.since_notice.clear();
  } else {
    again = std::move(handed_back);
  }
  for (auto& q : m.queue) again.push_back(std::move(q));
  queued_total_ -= m.queue.size();
  m.queue.clear();
  m.echo_before_data.clear();
  m.drain_requested.reset();
  timers_.cancel(TimerKey{TimerKind::suspicion, pe});
  timers_.cancel(TimerKey{TimerKind::drain, pe});

  const bool listed = membership_.listed(pe) != nullptr;
  if (!listed || was == MemberState::draining || membership_.operator_drained(pe)) {
    // Leaving anyway: no reconnection.
    cancel_member_timers(pe);
    members_.erase(pe);
  } else if (m.reported_unreachable && !m.audit_passed) {
    // The home registrar audits a reported PE (ENDPOINT_KEEP_ALIVE) and
    // removes it when the audit fails: wait for its verdict.
    timers_.arm(TimerKey{TimerKind::audit, pe}, m.reported_at + profile_.membership.audit_bound);
  } else {
    const auto& mc = profile_.membership;
    m.backoff = m.backoff == Duration{0} ? mc.retry_initial : std::min(m.backoff * 2, mc.retry_max);
    timers_.arm(TimerKey{TimerKind::retry, pe}, now + m.backoff);
  }
  track_availability(now);
  reroute_counted(std::move(again), now, out);
  update_congestion(out);
}

void PoolDistributor::cookie_received(PeIdentifier pe, rserpool::Bytes cookie) {
  auto it = members_.find(pe);
  // A fenced PE's state is not the pool's any more: its calls have an heir.
  if (it == members_.end() || it->second.state == MemberState::failed) return;
  Member& m = it->second;
  m.latest_cookie = std::move(cookie);
  // It has answered one of the calls it inherited, so it adopted them
  // before this cookie (a controller sends its cookie before the replies it
  // covers): its own cookie speaks for them from now on.
  if (m.spoke_for_inherited) {
    m.inherited.clear();
    m.spoke_for_inherited = false;
  }
}

// --- Traffic ------------------------------------------------------------------

std::vector<Action> PoolDistributor::message(MtpMessage m, TimePoint now) {
  std::vector<Action> out;
  const auto c = classify(m);
  message(std::move(m), c, now, out);
  return out;
}

void PoolDistributor::message(MtpMessage m, const ClassifiedMessage& c, TimePoint now, std::vector<Action>& out) {
  ++counters_.accepted;
  // A new call on the circuit (not one re-sent after a failover): what the
  // PE it was once taken from says about the circuit may count again.
  if (c.event == CallEvent::setup && !taken_from_.empty()) taken_from_.erase(c.flow);
  route(std::move(m), c, now, out);
}

std::optional<PeIdentifier> PoolDistributor::message_now(const ClassifiedMessage& c) {
  // Only where route() takes the bound flow's PE and deliver() sends at
  // once: an active member is neither leaving (its new calls go elsewhere)
  // nor connecting or suspect (those queue or keep copies), and a bound
  // flow is no orphan. The one state message() changes besides the
  // counters, a new call clearing taken_from_, is left to it.
  if (c.event == CallEvent::setup && !taken_from_.empty()) return std::nullopt;
  const auto target = flows_.find(c.flow);
  if (!target) return std::nullopt;
  auto it = members_.find(*target);
  if (it == members_.end() || it->second.state != MemberState::active) return std::nullopt;
  ++counters_.accepted;
  it->second.carried_traffic = true;
  ++counters_.sent;
  // route(): an active member is not draining, so a release ends only the call.
  if (c.event == CallEvent::release_complete) flows_.release(c.flow);
  return target;
}

PoolDistributor::FromMember PoolDistributor::from_member(PeIdentifier pe, const MtpMessage& m, TimePoint now) {
  FromMember r;
  auto it = members_.find(pe);
  if (it != members_.end() && it->second.state == MemberState::failed) {
    // Sent before the abort took effect: the calls it speaks of are the
    // heir's now. Forwarding it would answer them twice.
    ++counters_.drops[static_cast<std::size_t>(DropReason::fenced_member)];
    r.forward = false;
    r.flow = classify(m).flow;
    return r;
  }
  const auto c = classify(m);
  r.flow = c.flow;
  if (!c.flow.circuit) return r;
  auto owner = flows_.find(c.flow);
  r.owner = owner;
  if (auto t = taken_from_.find(c.flow);
      t != taken_from_.end() && t->second == pe && profile_.membership.drop_stale_of_taken_calls) {
    if (c.event == CallEvent::setup) {
      taken_from_.erase(t);  // a new call of its own on the circuit
    } else if (!owner && reclaim_as_heir(pe, c.flow, r.actions)) {
      // Taken from it, and it is the heir of that estate with its cookie
      // (its own, given back: it came back first, or alone): the call is
      // its own again (issue 13: its ANM on a ringing call was dropped, and
      // the SS7 side, which sends nothing until then, failed the call).
      taken_from_.erase(t);
      owner = pe;
    } else {
      // A call taken from it at its failure, finished by the heir or not.
      ++counters_.drops[static_cast<std::size_t>(DropReason::foreign_call)];
      r.forward = false;
      r.reason = DropReason::foreign_call;
      return r;
    }
  }
  if (owner && *owner != pe && profile_.membership.drop_stale_of_taken_calls) {
    // The circuit's call is another PE's: the heir's, when this one was
    // fenced and has since registered anew, and now sends what it still
    // held for its old association (answers, releases). Forwarding would
    // answer the call twice or release the heir's call (issue 14 item 6).
    ++counters_.drops[static_cast<std::size_t>(DropReason::foreign_call)];
    r.forward = false;
    r.reason = DropReason::foreign_call;
    return r;
  }
  if (it != members_.end() && owner == pe && !it->second.inherited.empty()) {
    // One of the calls it inherited (taken from another PE): it adopted them.
    if (auto t = taken_from_.find(c.flow); t != taken_from_.end() && t->second != pe)
      it->second.spoke_for_inherited = true;
  }
  if (c.event == CallEvent::release_complete) {
    flows_.release(c.flow);
    if (it != members_.end() && it->second.state == MemberState::suspect) {
      // A suspect that completes a release did process what we sent on
      // that circuit: those copies need no second delivery.
      auto& kept = it->second.since_notice;
      std::erase_if(kept, [&](const MtpMessage& k) { return classify(k).flow == c.flow; });
    }
    if (it != members_.end() && it->second.state == MemberState::draining && flows_.count_of(pe) == 0)
      finish_drain(pe, now, r.actions);
    return r;
  }
  if (!owner && it != members_.end()) flows_.assign(c.flow, pe);
  return r;
}

bool PoolDistributor::reclaim_as_heir(PeIdentifier pe, const FlowKey& flow, std::vector<Action>& out) {
  auto orphan = orphans_.find(flow);
  if (orphan == orphans_.end()) return false;
  auto estate = estates_.find(orphan->second);
  if (estate == estates_.end() || estate->second.heir != pe || !estate->second.echoed_to.contains(pe)) return false;
  auto member = members_.find(pe);
  if (member == members_.end()) return false;
  // What route() does when one of the flow's messages picks the heir (the
  // cookie went already: echoed_to holds it, nothing is echoed again).
  flows_.assign(flow, pe);
  adopt_orphan(orphan, pe, member->second, out);
  return true;
}

void PoolDistributor::adopt_orphan(std::unordered_map<FlowKey, PeIdentifier, FlowKeyHash>::iterator orphan,
                                   PeIdentifier heir, Member& member, std::vector<Action>& out) {
  const PeIdentifier origin = orphan->second;
  orphans_.erase(orphan);
  auto estate = estates_.find(origin);
  if (estate == estates_.end()) return;
  echo_estate(estate->second, heir, member, out);
  if (--estate->second.flows == 0) estates_.erase(estate);
}

void PoolDistributor::reroute(std::vector<MtpMessage> messages, TimePoint now, std::vector<Action>& out) {
  for (auto& msg : messages) {
    const auto c = classify(msg);
    route(std::move(msg), c, now, out);
  }
}

void PoolDistributor::reroute_counted(std::vector<MtpMessage> messages, TimePoint now, std::vector<Action>& out) {
  counters_.resent_after_failover += messages.size();
  reroute(std::move(messages), now, out);
}

void PoolDistributor::route(MtpMessage m, const ClassifiedMessage& c, TimePoint now, std::vector<Action>& out) {
  std::optional<PeIdentifier> target = flows_.find(c.flow);
  if (target) {
    auto it = members_.find(*target);
    const bool usable = it != members_.end() && it->second.state != MemberState::failed;
    // A new call on a circuit still bound to a leaving (or suspected) PE
    // goes elsewhere; the rest of its calls stays.
    const bool leaving = usable && (it->second.state == MemberState::draining ||
                                    it->second.state == MemberState::suspect);
    if (!usable || (leaving && c.event == CallEvent::setup)) target.reset();
  }
  auto orphan = target ? orphans_.end() : orphans_.find(c.flow);
  if (!target) {
    // A call this gateway did not set up (its mate placed it, or this
    // gateway before a restart): with a shared placement it is placed where
    // they placed it, provided the pool is seen whole; until the PE list has
    // settled after start-up it waits, in order, with the pool-wait traffic.
    const bool in_progress = c.flow.circuit && c.event != CallEvent::setup && selector_.shared();
    const bool new_call_waits = c.flow.circuit && c.event == CallEvent::setup && hold_new_calls_;
    if (orphan == orphans_.end() && (in_progress || new_call_waits) && !settled_ && has_usable_member()) {
      if (!rerouting_waiting_) ++counters_.held_for_settle;  // once per message, not per flush
      hold(std::move(m), now, out);
      return;
    }
    if (orphan != orphans_.end()) {
      target = heir_for(orphan->second);
    } else {
      target = select(Placement{in_progress ? Placement::Purpose::call_in_progress : Placement::Purpose::new_flow,
                                c.flow, 0});
      if (target && in_progress) ++counters_.calls_taken_over;
    }
    if (!target) {
      track_availability(now);
      hold(std::move(m), now, out);
      return;
    }
    flows_.assign(c.flow, *target);
    // Given back to the PE it was taken from (its own estate's heir: it
    // came back first, or alone): the call is its own again, and so are its
    // answers on it (issue 13: its RLC was dropped as another's, and the
    // call failed at the SS7 side).
    if (!taken_from_.empty())
      if (auto t = taken_from_.find(c.flow); t != taken_from_.end() && t->second == *target) taken_from_.erase(t);
    Member& member = members_.at(*target);
    // The flow's previous PE failed: its heir gets the latest cookie once,
    // before any of the flow's data.
    if (orphan != orphans_.end()) adopt_orphan(orphan, *target, member, out);
  }
  Member& member = members_.at(*target);
  const bool call_over = c.event == CallEvent::release_complete;
  deliver(*target, member, std::move(m), out);
  if (call_over) {
    flows_.release(c.flow);
    if (member.state == MemberState::draining && flows_.count_of(*target) == 0) finish_drain(*target, now, out);
  }
}

void PoolDistributor::hold(MtpMessage m, TimePoint now, std::vector<Action>& out) {
  if (pool_wait_.size() >= config_.max_queue) {
    drop(std::move(m), DropReason::queue_full, out);
    return;
  }
  pool_wait_.push_back(Waiting{std::move(m), rerouting_waiting_ ? waiting_since_ : now});
  ++queued_total_;
  if (!rerouting_waiting_) ++counters_.queued;
  if (pool_wait_.size() == 1) arm_pool_wait();
  update_congestion(out);
}

void PoolDistributor::deliver(PeIdentifier pe, Member& member, MtpMessage m, std::vector<Action>& out) {
  member.carried_traffic = true;  // we tried to send to it: a failure is worth reporting
  // A suspect keeps a copy of everything it is sent; at the copies' bound
  // (or behind messages held there already) the rest waits for the verdict.
  const bool hold = member.state == MemberState::connecting ||
                    (member.state == MemberState::suspect &&
                     (!member.queue.empty() || member.since_notice.size() >= config_.max_queue));
  if (hold) {
    if (member.queue.size() >= config_.max_queue) {
      drop(std::move(m), DropReason::queue_full, out);
      return;
    }
    member.queue.push_back(std::move(m));
    ++queued_total_;
    ++counters_.queued;
    update_congestion(out);
    return;
  }
  if (member.state == MemberState::suspect) member.since_notice.push_back(m);
  ++counters_.sent;
  out.push_back(action::SendData{pe, std::move(m)});
}

void PoolDistributor::drop(MtpMessage m, DropReason r, std::vector<Action>& out) {
  ++counters_.drops[static_cast<std::size_t>(r)];
  out.push_back(action::Drop{std::move(m), r});
}

// --- Selection and heirs ----------------------------------------------------

std::size_t PoolDistributor::orphan_flows_of(PeIdentifier pe, std::vector<rserpool::Bytes> cookies) {
  auto flows = flows_.take_flows_of(pe);
  // Nothing new to orphan (the PE's flows already went with an earlier
  // failure, and it is now being removed or retried): the estate and its
  // heir stay as they are, so the cookie is never echoed to a second heir.
  if (flows.empty()) return 0;
  Estate& estate = estates_[pe];
  if (!cookies.empty()) estate.cookies = std::move(cookies);
  estate.heir.reset();  // a new failure picks a new heir and a new cookie
  estate.echoed_to.clear();
  for (const auto& f : flows) {
    taken_from_[f] = pe;
    auto [it, inserted] = orphans_.try_emplace(f, pe);
    if (!inserted) {
      // Already an orphan of an earlier failure: it now belongs here.
      auto old = estates_.find(it->second);
      if (old != estates_.end() && --old->second.flows == 0) estates_.erase(old);
      it->second = pe;
    }
    ++estate.flows;
  }
  if (estate.flows == 0) estates_.erase(pe);
  return flows.size();
}

bool PoolDistributor::usable(PeIdentifier pe) const {
  auto it = members_.find(pe);
  return it != members_.end() &&
         (it->second.state == MemberState::active || it->second.state == MemberState::connecting);
}

bool PoolDistributor::keeps_estates(PeIdentifier pe) const {
  auto it = members_.find(pe);
  return usable(pe) || (it != members_.end() && it->second.state == MemberState::suspect);
}

std::size_t PoolDistributor::fold_estates_into(PeIdentifier pe) {
  std::size_t folded = 0;
  for (auto it = estates_.begin(); it != estates_.end();) {
    if (it->first == pe || it->second.heir != pe) {
      ++it;
      continue;
    }
    const PeIdentifier origin = it->first;
    Estate& into = estates_[pe];  // std::map: `it` stays valid
    if (folded == 0) {
      // New contents: a new heir, and every cookie goes to it.
      into.heir.reset();
      into.echoed_to.clear();
    }
    for (auto& c : it->second.cookies) add_cookie(into.cookies, std::move(c));
    for (auto& [flow, from] : orphans_) {
      if (from != origin) continue;
      from = pe;
      ++into.flows;
      ++folded;
    }
    it = estates_.erase(it);
  }
  return folded;
}

void PoolDistributor::echo_estate(Estate& estate, PeIdentifier target, Member& member, std::vector<Action>& out) {
  if (estate.cookies.empty() || !estate.echoed_to.insert(target).second) return;
  for (const auto& cookie : estate.cookies) {
    add_cookie(member.inherited, cookie);
    // A suspect's link is up: it gets the cookie now, like its data (kept).
    if (member.state == MemberState::active || member.state == MemberState::suspect) {
      out.push_back(action::SendCookieEcho{target, cookie});
      ++counters_.cookies_echoed;
    } else {
      member.echo_before_data.push_back(cookie);
    }
  }
  member.spoke_for_inherited = false;
}

std::optional<PeIdentifier> PoolDistributor::heir_for(PeIdentifier origin) {
  // The estate's heir is chosen once (and again only if it leaves without
  // failing: drained, or removed before its association came up; a failed
  // heir's estates are folded into its own); with a shared placement it is a function of the failed PE
  // and the survivors, so a mated gateway echoes the cookie to the same one.
  const Placement what{Placement::Purpose::heir, FlowKey{}, origin};
  auto it = estates_.find(origin);
  if (it == estates_.end()) return select(what);
  if (!it->second.heir || !keeps_estates(*it->second.heir)) it->second.heir = select(what);
  return it->second.heir;
}

std::optional<PeIdentifier> PoolDistributor::select(const Placement& what) {
  candidates_.clear();
  auto offer = [&](PeIdentifier id, const Member& m) {
    candidates_.push_back(Candidate{id, &m.policy, flows_.count_of(id)});
  };
  if (what.purpose == Placement::Purpose::call_in_progress) {
    // Where its placing gateway put it: a suspected or draining PE keeps
    // its calls in progress, so it is a candidate here too.
    for (const auto& [id, m] : members_)
      if (m.state != MemberState::failed) offer(id, m);
  } else if (selector_.shared()) {
    // The same choice as a mated gateway whose associations are in another
    // state: every PE we count on, whether its association is up yet or not.
    // Not a PE reconnecting after it failed here (failure_event): it must
    // prove alive first (M3UA ACTIVE). A hung controller's kernel accepts
    // the association its stopped process never serves; new flows waiting
    // behind it would stall (the fence is lifted by the registrar's audit,
    // which a busy registrar may pass late).
    for (const auto& [id, m] : members_)
      if (m.state == MemberState::active || (m.state == MemberState::connecting && !m.failure_event)) offer(id, m);
  } else {
    // Prefer PEs whose association is up; a connecting PE takes new flows
    // only when none is up (its traffic queues until it is). Suspected and
    // draining PEs take none.
    for (const auto& [id, m] : members_)
      if (m.state == MemberState::active) offer(id, m);
    if (candidates_.empty())
      for (const auto& [id, m] : members_)
        if (m.state == MemberState::connecting) offer(id, m);
  }
  if (candidates_.empty()) return std::nullopt;
  const PeIdentifier pick = selector_.pick(what, candidates_);
  // A selector must choose among the candidates; anything else is a bug we
  // contain rather than follow.
  const bool valid =
      std::any_of(candidates_.begin(), candidates_.end(), [&](const Candidate& c) { return c.id == pick; });
  return valid ? pick : candidates_.front().id;
}

// --- Availability, queues, congestion ---------------------------------------

bool PoolDistributor::has_active_member() const {
  return std::any_of(members_.begin(), members_.end(),
                     [](const auto& kv) { return kv.second.state == MemberState::active; });
}

bool PoolDistributor::has_usable_member() const {
  return std::any_of(members_.begin(), members_.end(), [](const auto& kv) {
    return kv.second.state == MemberState::active || kv.second.state == MemberState::connecting;
  });
}

void PoolDistributor::track_availability(TimePoint now) {
  if (has_active_member()) {
    no_member_since_.reset();
    timers_.cancel(TimerKey{TimerKind::availability});
  } else if (!no_member_since_) {
    no_member_since_ = now;
    if (!unavailable_signalled_) timers_.arm(TimerKey{TimerKind::availability}, availability_deadline(now));
  }
}

// A pool that has had an active PE since start-up and lost it holds its
// traffic for pool_wait before the SS7 side hears of it (a PE usually comes
// back within that time, and the waiting traffic follows it). One that has
// had none since start-up cannot reach any controller yet: it is
// unavailable at once (the timer is due now), so that an ASP activating at
// the SGP hears DUNA right after its ASPAC ACK (RFC 4666 4.5.1) and an STP
// with another route (the mate of a pair) sends the traffic there instead
// of into a queue that may outlive pool_wait (a restarted gateway whose
// registrar has nothing to download while the ENRP link to its mate's is
// cut: seeds 3353, 4938, ... of the seeded simulation).
TimePoint PoolDistributor::availability_deadline(TimePoint empty_since) const {
  return ever_active_ ? empty_since + config_.pool_wait : empty_since;
}

void PoolDistributor::became_active(TimePoint now, std::vector<Action>& out) {
  ever_active_ = true;
  no_member_since_.reset();
  timers_.cancel(TimerKey{TimerKind::availability});
  if (unavailable_signalled_) {
    unavailable_signalled_ = false;
    out.push_back(action::PoolAvailable{});
  }
  flush_pool_wait(now, out);
}

void PoolDistributor::arm_pool_wait() {
  if (pool_wait_.empty())
    timers_.cancel(TimerKey{TimerKind::pool_wait});
  else
    timers_.arm(TimerKey{TimerKind::pool_wait}, pool_wait_.front().since + config_.pool_wait);
}

void PoolDistributor::flush_pool_wait(TimePoint now, std::vector<Action>& out) {
  if (pool_wait_.empty() || !has_usable_member()) return;
  std::deque<Waiting> waiting = std::move(pool_wait_);
  pool_wait_.clear();
  queued_total_ -= waiting.size();
  arm_pool_wait();
  rerouting_waiting_ = true;
  for (auto& w : waiting) {
    const auto c = classify(w.message);
    waiting_since_ = w.since;  // a message that waits again keeps its age
    route(std::move(w.message), c, now, out);
  }
  rerouting_waiting_ = false;
}

void PoolDistributor::update_congestion(std::vector<Action>& out) {
  if (!congested_ && queued_total_ >= config_.congestion_onset) {
    congested_ = true;
    out.push_back(action::Congestion{true});
  } else if (congested_ && queued_total_ <= config_.congestion_abatement) {
    congested_ = false;
    out.push_back(action::Congestion{false});
  }
}

// --- Time ---------------------------------------------------------------------

std::vector<Action> PoolDistributor::on_timeout(TimePoint now) {
  std::vector<Action> out;
  while (auto key = timers_.take_due(now)) {
    const PeIdentifier pe = key->pe;
    auto it = members_.find(pe);
    switch (key->kind) {
      case TimerKind::availability:
        // A PE still connecting when the time is up does not count: the SS7
        // side hears DUNA now and DAVA once an association is up.
        if (has_active_member()) {
          no_member_since_.reset();
        } else if (!unavailable_signalled_) {
          unavailable_signalled_ = true;
          out.push_back(action::PoolUnavailable{!ever_active_});
        }
        break;
      case TimerKind::settle:
        settled_ = true;
        flush_pool_wait(now, out);
        break;
      case TimerKind::pool_wait:
        while (!pool_wait_.empty() && now >= pool_wait_.front().since + config_.pool_wait) {
          MtpMessage m = std::move(pool_wait_.front().message);
          pool_wait_.pop_front();
          --queued_total_;
          drop(std::move(m), DropReason::pool_unavailable, out);
        }
        arm_pool_wait();
        break;
      case TimerKind::drain:
        if (it != members_.end() && it->second.state == MemberState::draining) finish_drain(pe, now, out);
        break;
      case TimerKind::suspicion:
        // Its link stayed up: the registrar's notice was a departure, not a death.
        if (it != members_.end() && it->second.state == MemberState::suspect) prove_alive(pe, now, out);
        break;
      case TimerKind::audit:
        if (it != members_.end() && it->second.state == MemberState::failed && membership_.listed(pe)) {
          it->second.audit_passed = true;
          ++counters_.audits_passed;
          ++counters_.reconnect_attempts;
          out.push_back(action::News{pe, MemberNews::audit_passed});
          connect(pe, it->second, now, out);
        }
        break;
      case TimerKind::retry:
        if (it != members_.end() && it->second.state == MemberState::failed && membership_.listed(pe) &&
            !membership_.operator_drained(pe)) {
          ++counters_.reconnect_attempts;
          out.push_back(action::News{pe, MemberNews::retrying});
          connect(pe, it->second, now, out);
        }
        break;
    }
  }
  update_congestion(out);
  return out;
}

// --- Inspection -----------------------------------------------------------------

std::optional<MemberState> PoolDistributor::state_of(PeIdentifier pe) const {
  auto it = members_.find(pe);
  if (it == members_.end()) return std::nullopt;
  return it->second.state;
}

std::vector<PeIdentifier> PoolDistributor::members() const {
  std::vector<PeIdentifier> ids;
  ids.reserve(members_.size());
  for (const auto& [id, m] : members_) ids.push_back(id);
  return ids;
}

std::size_t PoolDistributor::queue_depth(PeIdentifier pe) const {
  auto it = members_.find(pe);
  return it == members_.end() ? 0 : it->second.queue.size();
}

std::size_t PoolDistributor::kept_depth(PeIdentifier pe) const {
  auto it = members_.find(pe);
  return it == members_.end() ? 0 : it->second.since_notice.size();
}

}  // namespace sg
