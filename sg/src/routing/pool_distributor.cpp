#include "sg/routing/pool_distributor.hpp"

#include <algorithm>

namespace sg {

using rserpool::PeIdentifier;

std::string_view to_string(DropReason r) noexcept {
  switch (r) {
    case DropReason::pool_unavailable: return "pool-unavailable";
    case DropReason::queue_full: return "queue-full";
    case DropReason::no_route: return "no-route";
    case DropReason::member_gone: return "member-gone";
  }
  return "unknown";
}

std::string_view to_string(MemberState s) noexcept {
  switch (s) {
    case MemberState::connecting: return "connecting";
    case MemberState::active: return "active";
    case MemberState::draining: return "draining";
    case MemberState::failed: return "failed";
  }
  return "unknown";
}

PoolDistributor::PoolDistributor(DistributorConfig config, MemberSelector& selector)
    : config_(config), selector_(selector) {}

void PoolDistributor::start(TimePoint now) { track_availability(now); }

std::vector<Action> PoolDistributor::reconfigure(const DistributorConfig& config, TimePoint /*now*/) {
  std::vector<Action> out;
  config_ = config;
  // pool_wait and drain deadlines are read when next_deadline() is asked;
  // the congestion state must follow the new thresholds at once.
  update_congestion(out);
  return out;
}

std::vector<Action> PoolDistributor::member_added(PeIdentifier pe, const rserpool::PolicyParameters& policy,
                                                  TimePoint now) {
  std::vector<Action> out;
  auto [it, inserted] = members_.try_emplace(pe);
  Member& m = it->second;
  m.policy = policy;
  if (inserted || m.state == MemberState::failed) {
    // A retry of a failed PE stays in its failure event (no second report)
    // until its association is up again.
    m.state = MemberState::connecting;
    out.push_back(action::Connect{pe});
    // Traffic waiting for any PE can queue behind this one now.
    flush_pool_wait(now, out);
  }
  return out;
}

std::vector<Action> PoolDistributor::member_removed(PeIdentifier pe, TimePoint now) {
  return drain(pe, config_.drain_deadline, now);
}

std::vector<Action> PoolDistributor::drain(PeIdentifier pe, Duration deadline, TimePoint now) {
  std::vector<Action> out;
  auto it = members_.find(pe);
  if (it == members_.end()) return out;
  Member& m = it->second;
  if (m.state == MemberState::draining) return out;
  const bool had_association = m.state == MemberState::active;
  if (!had_association) {
    // Never carried traffic (or already failed): nothing to drain. Anything
    // queued behind it goes elsewhere, in order.
    std::deque<MtpMessage> queued = std::move(m.queue);
    queued_total_ -= queued.size();
    orphan_flows_of(pe, m.latest_cookie);
    if (m.state == MemberState::connecting) out.push_back(action::Disconnect{pe});
    members_.erase(it);
    for (auto& msg : queued) {
      auto c = classify(msg);
      route(std::move(msg), c, now, out);
    }
    return out;
  }
  m.state = MemberState::draining;
  m.drain_deadline = now + deadline;
  ++counters_.drains;
  // Only calls are worth keeping on a leaving PE; other flows move now.
  for (const auto& f : flows_.flows_of(pe))
    if (!f.circuit) flows_.release(f);
  if (flows_.count_of(pe) == 0) finish_drain(pe, now, out);
  return out;
}

void PoolDistributor::finish_drain(PeIdentifier pe, TimePoint now, std::vector<Action>& out) {
  auto it = members_.find(pe);
  if (it == members_.end()) return;
  counters_.flows_moved += orphan_flows_of(pe, it->second.latest_cookie);
  out.push_back(action::Disconnect{pe});
  members_.erase(it);
  track_availability(now);
}

std::size_t PoolDistributor::orphan_flows_of(PeIdentifier pe, const std::optional<rserpool::Bytes>& cookie) {
  auto flows = flows_.take_flows_of(pe);
  // Nothing new to orphan (the PE's flows already went with an earlier
  // failure, and it is now being removed or retried): the estate and its
  // heir stay as they are, so the cookie is never echoed to a second heir.
  if (flows.empty()) return 0;
  Estate& estate = estates_[pe];
  if (cookie) estate.cookie = cookie;
  estate.heir.reset();  // a new failure picks a new heir and a new cookie
  estate.echoed_to.clear();
  for (const auto& f : flows) {
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

std::optional<PeIdentifier> PoolDistributor::heir_for(PeIdentifier origin) {
  auto it = estates_.find(origin);
  if (it == estates_.end()) return select_for_new_flow();
  if (!it->second.heir || !usable(*it->second.heir)) it->second.heir = select_for_new_flow();
  return it->second.heir;
}

std::vector<Action> PoolDistributor::association_up(PeIdentifier pe, TimePoint now) {
  std::vector<Action> out;
  auto it = members_.find(pe);
  if (it == members_.end()) {
    out.push_back(action::Disconnect{pe});
    return out;
  }
  Member& m = it->second;
  if (m.state == MemberState::connecting || m.state == MemberState::failed) m.state = MemberState::active;
  // Up again: the failure event (if any) is over; a later failure is news.
  m.failure_event = false;
  m.reported_unreachable = false;
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
  no_member_since_.reset();
  if (unavailable_signalled_) {
    unavailable_signalled_ = false;
    out.push_back(action::PoolAvailable{});
  }
  flush_pool_wait(now, out);
  update_congestion(out);
  return out;
}

std::vector<Action> PoolDistributor::association_failed(PeIdentifier pe, std::vector<MtpMessage> handed_back,
                                                        TimePoint now) {
  std::vector<Action> out;
  auto it = members_.find(pe);
  if (it == members_.end()) {
    // Unknown PE (already removed): its hand-back still must not be lost.
    for (auto& msg : handed_back) {
      auto c = classify(msg);
      ++counters_.resent_after_failover;
      route(std::move(msg), c, now, out);
    }
    return out;
  }
  Member& m = it->second;
  if (m.state == MemberState::failed && handed_back.empty()) return out;
  const bool was_draining = m.state == MemberState::draining;
  m.state = MemberState::failed;
  if (!m.failure_event) {
    m.failure_event = true;
    ++counters_.failovers;
  }
  if ((m.carried_traffic || !handed_back.empty()) && !m.reported_unreachable) {
    m.reported_unreachable = true;
    out.push_back(action::ReportUnreachable{pe});
  }
  counters_.flows_moved += orphan_flows_of(pe, m.latest_cookie);
  // Oldest first: what the transport gave back, then what never left.
  std::vector<MtpMessage> again = std::move(handed_back);
  for (auto& q : m.queue) again.push_back(std::move(q));
  queued_total_ -= m.queue.size();
  m.queue.clear();
  m.echo_before_data.clear();
  if (was_draining) members_.erase(it);
  track_availability(now);
  for (auto& msg : again) {
    auto c = classify(msg);
    ++counters_.resent_after_failover;
    route(std::move(msg), c, now, out);
  }
  update_congestion(out);
  return out;
}

void PoolDistributor::cookie_received(PeIdentifier pe, rserpool::Bytes cookie) {
  auto it = members_.find(pe);
  if (it != members_.end()) it->second.latest_cookie = std::move(cookie);
}

std::vector<Action> PoolDistributor::message(MtpMessage m, TimePoint now) {
  std::vector<Action> out;
  ++counters_.accepted;
  auto c = classify(m);
  route(std::move(m), c, now, out);
  return out;
}

void PoolDistributor::observe_from_member(PeIdentifier pe, const MtpMessage& m) {
  auto c = classify(m);
  if (!c.flow.circuit) return;
  if (c.event == CallEvent::release_complete) {
    flows_.release(c.flow);
    return;
  }
  if (!flows_.find(c.flow) && members_.count(pe) != 0) flows_.assign(c.flow, pe);
}

void PoolDistributor::route(MtpMessage m, const ClassifiedMessage& c, TimePoint now, std::vector<Action>& out) {
  std::optional<PeIdentifier> target = flows_.find(c.flow);
  if (target) {
    auto it = members_.find(*target);
    const bool usable = it != members_.end() && it->second.state != MemberState::failed;
    // A new call on a circuit still bound to a leaving PE goes elsewhere.
    const bool new_call_on_draining =
        usable && c.event == CallEvent::setup && it->second.state == MemberState::draining;
    if (!usable || new_call_on_draining) target.reset();
  }
  auto orphan = target ? orphans_.end() : orphans_.find(c.flow);
  if (!target) {
    target = orphan != orphans_.end() ? heir_for(orphan->second) : select_for_new_flow();
    if (!target) {
      if (!no_member_since_) no_member_since_ = now;
      if (pool_wait_.size() >= config_.max_queue) {
        ++counters_.dropped_queue_full;
        out.push_back(action::Drop{std::move(m), DropReason::queue_full});
        return;
      }
      pool_wait_.push_back(Waiting{std::move(m), now});
      ++queued_total_;
      ++counters_.queued;
      update_congestion(out);
      return;
    }
    flows_.assign(c.flow, *target);
    Member& member = members_.at(*target);
    if (orphan != orphans_.end()) {
      // The flow's previous PE failed: its heir gets the latest cookie once,
      // before any of the flow's data.
      const PeIdentifier origin = orphan->second;
      orphans_.erase(orphan);
      auto estate = estates_.find(origin);
      if (estate != estates_.end()) {
        if (estate->second.cookie && estate->second.echoed_to.insert(*target).second) {
          if (member.state == MemberState::active) {
            out.push_back(action::SendCookieEcho{*target, *estate->second.cookie});
            ++counters_.cookies_echoed;
          } else {
            member.echo_before_data.push_back(*estate->second.cookie);
          }
        }
        if (--estate->second.flows == 0) estates_.erase(estate);
      }
    }
  }
  Member& member = members_.at(*target);
  const bool call_over = c.event == CallEvent::release_complete;
  deliver(*target, member, std::move(m), out);
  if (call_over) {
    flows_.release(c.flow);
    if (member.state == MemberState::draining && flows_.count_of(*target) == 0) finish_drain(*target, now, out);
  }
}

void PoolDistributor::deliver(PeIdentifier pe, Member& member, MtpMessage m, std::vector<Action>& out) {
  member.carried_traffic = true;  // we tried to send to it: a failure is worth reporting
  if (member.state == MemberState::connecting) {
    if (member.queue.size() >= config_.max_queue) {
      ++counters_.dropped_queue_full;
      out.push_back(action::Drop{std::move(m), DropReason::queue_full});
      return;
    }
    member.queue.push_back(std::move(m));
    ++queued_total_;
    ++counters_.queued;
    update_congestion(out);
    return;
  }
  ++counters_.sent;
  out.push_back(action::SendData{pe, std::move(m)});
}

std::optional<PeIdentifier> PoolDistributor::select_for_new_flow() {
  candidates_.clear();
  // Prefer PEs whose association is up; a connecting PE takes new flows
  // only when none is up (its traffic queues until it is).
  for (const auto& [id, m] : members_)
    if (m.state == MemberState::active) candidates_.push_back(Candidate{id, &m.policy, flows_.count_of(id)});
  if (candidates_.empty())
    for (const auto& [id, m] : members_)
      if (m.state == MemberState::connecting) candidates_.push_back(Candidate{id, &m.policy, flows_.count_of(id)});
  if (candidates_.empty()) return std::nullopt;
  const PeIdentifier pick = selector_.pick(candidates_);
  // A selector must choose among the candidates; anything else is a bug we
  // contain rather than follow.
  const bool valid = std::any_of(candidates_.begin(), candidates_.end(), [&](const Candidate& c) { return c.id == pick; });
  return valid ? pick : candidates_.front().id;
}

bool PoolDistributor::has_active_member() const {
  return std::any_of(members_.begin(), members_.end(),
                     [](const auto& kv) { return kv.second.state == MemberState::active; });
}

void PoolDistributor::track_availability(TimePoint now) {
  if (has_active_member())
    no_member_since_.reset();
  else if (!no_member_since_)
    no_member_since_ = now;
}

bool PoolDistributor::has_usable_member() const {
  return std::any_of(members_.begin(), members_.end(), [](const auto& kv) {
    return kv.second.state == MemberState::active || kv.second.state == MemberState::connecting;
  });
}

void PoolDistributor::flush_pool_wait(TimePoint now, std::vector<Action>& out) {
  if (pool_wait_.empty() || !has_usable_member()) return;
  std::deque<Waiting> waiting = std::move(pool_wait_);
  pool_wait_.clear();
  queued_total_ -= waiting.size();
  for (auto& w : waiting) {
    auto c = classify(w.message);
    route(std::move(w.message), c, now, out);
  }
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

std::optional<TimePoint> PoolDistributor::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  if (no_member_since_ && !unavailable_signalled_) consider(*no_member_since_ + config_.pool_wait);
  if (!pool_wait_.empty()) consider(pool_wait_.front().since + config_.pool_wait);
  for (const auto& [id, m] : members_)
    if (m.drain_deadline && m.state == MemberState::draining) consider(*m.drain_deadline);
  return next;
}

std::vector<Action> PoolDistributor::advance(TimePoint now) {
  std::vector<Action> out;
  // A PE still connecting when the time is up does not count: the SS7
  // side hears DUNA now and DAVA once an association is up.
  if (no_member_since_ && !unavailable_signalled_ && now >= *no_member_since_ + config_.pool_wait) {
    if (has_active_member()) {
      no_member_since_.reset();
    } else {
      unavailable_signalled_ = true;
      out.push_back(action::PoolUnavailable{});
    }
  }
  while (!pool_wait_.empty() && now >= pool_wait_.front().since + config_.pool_wait) {
    ++counters_.dropped_pool_unavailable;
    out.push_back(action::Drop{std::move(pool_wait_.front().message), DropReason::pool_unavailable});
    pool_wait_.pop_front();
    --queued_total_;
  }
  std::vector<PeIdentifier> expired;
  for (const auto& [id, m] : members_)
    if (m.state == MemberState::draining && m.drain_deadline && now >= *m.drain_deadline) expired.push_back(id);
  for (auto id : expired) finish_drain(id, now, out);
  update_congestion(out);
  return out;
}

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

}  // namespace sg
