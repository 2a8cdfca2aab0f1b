#include "rserpool/asap/pool_user.hpp"

#include <algorithm>

namespace rserpool::asap {

namespace {
Timer t1(std::uint32_t key) { return Timer{TimerKind::t1_enrp_request, key}; }
Timer refresh(std::uint32_t key) { return Timer{TimerKind::cache_refresh, key}; }
constexpr Duration kMinRefresh = std::chrono::milliseconds(100);
// Reports waiting for a home registrar: more distinct failures than this
// while no registrar is reachable are not worth remembering.
constexpr std::size_t kMaxUnsentReports = 256;
bool lists(const std::vector<PoolElementParameter>& list, PeIdentifier id) {
  return std::any_of(list.begin(), list.end(), [id](const auto& pe) { return pe.id == id; });
}
}  // namespace

PoolUser::PoolUser(PoolUserConfig config)
    : config_(std::move(config)), rng_(config_.seed), hunt_(config_.hunt, rng_) {}

std::optional<TimePoint> PoolUser::next_deadline() const {
  auto own = timers_.next_deadline();
  auto hunt = hunt_.next_deadline();
  if (!own) return hunt;
  if (!hunt) return own;
  return std::min(*own, *hunt);
}

void PoolUser::on_timeout(TimePoint now, Actions& out) {
  while (auto t = timers_.take_due(now)) on_timer(*t, now, out);
  if (!hunt_.on_timeout(now, out)) return;
  // A whole hunt round without a registrar: requests that never left fail
  // now instead of hanging (the hunt itself goes on).
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.sent) {
      ++it;
      continue;
    }
    out.push_back(ResolutionFailed{it->first, ResolutionFailure::no_registrar, {}});
    it = requests_.erase(it);
  }
}

Duration PoolUser::refresh_period() const noexcept {
  return std::max(Duration(config_.stale_cache * 9 / 10), kMinRefresh);
}

void PoolUser::watch(const PoolHandle& pool, TimePoint now, Actions& out) {
  auto [it, inserted] = watches_.try_emplace(pool, 0);
  if (inserted) it->second = next_key_++;
  timers_.arm(refresh(it->second), now + refresh_period());
  if (!is_fresh(pool, now)) resolve(pool, now, out);
}

void PoolUser::unwatch(const PoolHandle& pool) {
  auto it = watches_.find(pool);
  if (it == watches_.end()) return;
  timers_.cancel(refresh(it->second));
  watches_.erase(it);
}

bool PoolUser::is_cached(const PoolHandle& pool) const { return cache_.contains(pool); }

bool PoolUser::is_subscribed(const PoolHandle& pool) const {
  auto it = cache_.find(pool);
  return it != cache_.end() && it->second.subscribed;
}

bool PoolUser::is_fresh(const PoolHandle& pool, TimePoint now) const {
  auto it = cache_.find(pool);
  if (it == cache_.end()) return false;
  return it->second.subscribed || now - it->second.fetched < config_.stale_cache;
}

std::optional<PoolElementParameter> PoolUser::cached_pe(const PoolHandle& pool, PeIdentifier pe) const {
  auto it = cache_.find(pool);
  if (it == cache_.end()) return std::nullopt;
  for (const auto& p : it->second.list)
    if (p.id == pe) return p;
  return std::nullopt;
}

std::vector<PoolElementParameter> PoolUser::cached_list(const PoolHandle& pool) const {
  auto it = cache_.find(pool);
  if (it == cache_.end()) return {};
  return it->second.list;
}

void PoolUser::expire_failures(Entry& e, TimePoint now) const {
  std::erase_if(e.failures, [&](const Failure& f) {
    return now - f.at >= config_.stale_cache || !lists(e.list, f.pe);
  });
}

std::optional<PoolElementParameter> PoolUser::select(const PoolHandle& pool,
                                                     std::span<const PeIdentifier> also_excluded,
                                                     TimePoint now) {
  auto it = cache_.find(pool);
  if (it == cache_.end()) return std::nullopt;
  Entry& e = it->second;
  expire_failures(e, now);
  scratch_.assign(also_excluded.begin(), also_excluded.end());
  for (const auto& f : e.failures) scratch_.push_back(f.pe);
  const auto index = e.selector.select(e.list, scratch_, rng_);
  if (!index) return std::nullopt;
  e.current = e.list[*index].id;
  return e.list[*index];
}

std::optional<PoolElementParameter> PoolUser::get_primary_server(const PoolHandle& pool, TimePoint now,
                                                                 Actions& out) {
  // C1-C4: a fresh entry answers without asking; a stale one answers and
  // is refreshed in parallel; a miss asks and answers later.
  if (!is_fresh(pool, now)) resolve(pool, now, out);
  auto pe = select(pool, {}, now);
  if (!pe && is_cached(pool)) resolve(pool, now, out);  // every listed PE failed
  return pe;
}

std::optional<PoolElementParameter> PoolUser::get_next_server(const PoolHandle& pool, TimePoint now,
                                                              Actions& out) {
  auto it = cache_.find(pool);
  if (it != cache_.end() && it->second.current) report_failure(pool, *it->second.current, now, out);
  return get_primary_server(pool, now, out);
}

void PoolUser::report_failure(const PoolHandle& pool, PeIdentifier pe, TimePoint now, Actions& out) {
  auto it = cache_.find(pool);
  if (it != cache_.end()) {
    Entry& e = it->second;
    expire_failures(e, now);
    if (std::any_of(e.failures.begin(), e.failures.end(), [pe](const Failure& f) { return f.pe == pe; }))
      return;  // this failure event is already reported
    e.failures.push_back(Failure{pe, now});
    if (e.current == pe) e.current.reset();
  }
  wire::asap::EndpointUnreachable report{pool, pe};
  if (const auto home = hunt_.home()) {
    out.push_back(SendToRegistrar{*home, std::move(report)});
  } else {
    // Bounded: a report is only worth sending for a distinct failure, and
    // the cache entry (when there is one) already de-duplicates them.
    if (unsent_reports_.size() < kMaxUnsentReports) unsent_reports_.push_back(std::move(report));
    hunt_.start(now, out);
  }
}

void PoolUser::flush_reports(Actions& out) {
  const auto home = hunt_.home();
  if (!home) return;
  for (auto& r : unsent_reports_) out.push_back(SendToRegistrar{*home, std::move(r)});
  unsent_reports_.clear();
}

void PoolUser::resolve(const PoolHandle& pool, TimePoint now, Actions& out) {
  auto [it, inserted] = requests_.try_emplace(pool);
  if (!inserted) return;  // one outstanding request per pool
  it->second.key = next_key_++;
  it->second.subscribe = config_.subscribe;
  send_request(pool, it->second, now, out);
}

void PoolUser::send_request(const PoolHandle& pool, Request& r, TimePoint now, Actions& out) {
  const auto home = hunt_.home();
  if (!home) {
    r.sent = false;
    hunt_.start(now, out);
    return;
  }
  r.sent = true;
  out.push_back(SendToRegistrar{*home, wire::asap::HandleResolution{r.subscribe, pool, config_.items}});
  timers_.arm(t1(r.key), now + config_.t1_enrp_request);
}

void PoolUser::on_registrar_connected(AssocId assoc, TimePoint now, Actions& out) {
  const bool replaces_home = hunt_.home().has_value();
  if (!hunt_.on_connected(assoc, now, out)) return;
  if (replaces_home) {
    // Found while T1 retries ran against a silent home: what was in flight
    // there goes to the new home, and subscriptions are renewed there.
    for (auto& [pool, r] : requests_) {
      if (r.sent) timers_.cancel(t1(r.key));
      r.sent = false;
    }
    for (auto& [pool, e] : cache_) {
      if (!e.subscribed) continue;
      e.subscribed = false;
      e.fetched = now;
      resolve(pool, now, out);
    }
  }
  for (auto& [pool, r] : requests_)
    if (!r.sent) send_request(pool, r, now, out);
  flush_reports(out);
}

void PoolUser::on_registrar_connect_failed(AssocId assoc, TimePoint now, Actions& out) {
  hunt_.on_connect_failed(assoc, now, out);
}

void PoolUser::on_registrar_lost(AssocId assoc, TimePoint now, Actions& out) {
  if (!hunt_.on_lost(assoc, now, out)) return;
  // Requests in flight there will not be answered; subscriptions are not
  // shared between registrars: queue both for the next home.
  for (auto& [pool, r] : requests_) {
    if (r.sent) timers_.cancel(t1(r.key));
    r.sent = false;
    r.retransmits = 0;
  }
  for (auto& [pool, e] : cache_) {
    if (!e.subscribed) continue;
    e.subscribed = false;
    e.fetched = now;  // the list was current until now
    resolve(pool, now, out);
  }
}

void PoolUser::on_registrar_message(AssocId assoc, const wire::asap::Message& m, TimePoint now, Actions& out) {
  if (const auto* r = std::get_if<wire::asap::HandleResolutionResponse>(&m); r && hunt_.home() == assoc) {
    // Only the home answers our requests and pushes our subscriptions; a
    // late answer from a registrar we left is not the current view.
    on_resolution_response(*r, now, out);
  } else if (const auto* e = std::get_if<wire::asap::Error>(&m); e && hunt_.home() == assoc) {
    // The home could not process what we sent (RFC 5352 3.10). ASAP_ERROR
    // does not say which request it answers, and a registrar that rejects
    // one HANDLE_RESOLUTION rejects them all: fail what is in flight there
    // instead of letting each run through its T1 retries.
    for (auto it = requests_.begin(); it != requests_.end();) {
      if (!it->second.sent) {
        ++it;
        continue;
      }
      timers_.cancel(t1(it->second.key));
      out.push_back(ResolutionFailed{it->first, ResolutionFailure::rejected, e->causes});
      it = requests_.erase(it);
    }
  }
}

void PoolUser::on_resolution_response(const wire::asap::HandleResolutionResponse& r, TimePoint now,
                                      Actions& out) {
  auto req = requests_.find(r.pool_handle);
  const bool solicited = req != requests_.end() && req->second.sent;
  bool asked_subscription = false;
  if (solicited) {
    timers_.cancel(t1(req->second.key));
    asked_subscription = req->second.subscribe;
    requests_.erase(req);
  }
  auto entry = cache_.find(r.pool_handle);
  if (!solicited && (entry == cache_.end() || !entry->second.subscribed)) return;  // nobody asked

  if (!r.error.empty() || r.pool_elements.empty()) {
    ResolutionFailure why = ResolutionFailure::empty_pool;
    if (!r.error.empty())
      why = r.error.front().code == ErrorCause::unknown_pool_handle ? ResolutionFailure::unknown_pool
                                                                    : ResolutionFailure::rejected;
    if (entry != cache_.end()) cache_.erase(entry);
    out.push_back(ResolutionFailed{r.pool_handle, why, r.error});
    return;
  }

  if (entry == cache_.end()) entry = cache_.try_emplace(r.pool_handle).first;
  Entry& e = entry->second;
  const PolicyType policy = r.overall_policy ? r.overall_policy->type : PolicyType::round_robin;
  if (policy != e.selector.policy()) e.selector.set_policy(policy);
  e.list = r.pool_elements;
  e.selector.list_changed();
  e.fetched = now;
  if (solicited) e.subscribed = asked_subscription && r.accepted;
  expire_failures(e, now);
  if (solicited)
    out.push_back(PoolResolved{r.pool_handle});
  else
    out.push_back(PoolUpdated{r.pool_handle});
}

void PoolUser::on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source, TimePoint now,
                                  Actions& out) {
  hunt_.on_server_announce(a, source, now, out);
}

void PoolUser::on_timer(const Timer& t, TimePoint now, Actions& out) {
  if (t.kind == TimerKind::cache_refresh) {
    auto w = std::find_if(watches_.begin(), watches_.end(), [&](const auto& kv) { return kv.second == t.key; });
    if (w == watches_.end()) return;
    if (!is_subscribed(w->first)) resolve(w->first, now, out);
    timers_.arm(t, now + refresh_period());
    return;
  }
  if (t.kind != TimerKind::t1_enrp_request) return;
  auto it = std::find_if(requests_.begin(), requests_.end(),
                         [&](const auto& kv) { return kv.second.sent && kv.second.key == t.key; });
  if (it == requests_.end()) return;
  if (it->second.retransmits >= config_.max_request_retransmit) {
    out.push_back(ResolutionFailed{it->first, ResolutionFailure::timeout, {}});
    requests_.erase(it);
    return;
  }
  ++it->second.retransmits;
  send_request(it->first, it->second, now, out);
  hunt_.start_alternative(now, out);  // RFC 5352 3.3: hunt in parallel
}

}  // namespace rserpool::asap
