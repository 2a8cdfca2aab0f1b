#include "rserpool/asap/registrar_hunt.hpp"

#include <algorithm>

namespace rserpool::asap {

namespace {
constexpr Timer kT5{TimerKind::t5_server_hunt, 0};
constexpr Timer kSweep{TimerKind::hunt_retry, 0};
constexpr std::size_t kMaxParallelHunt = 3;  // RFC 5352 3.6 SH1
}  // namespace

RegistrarHunt::RegistrarHunt(HuntConfig config, core::Random& rng)
    : config_(std::move(config)),
      rng_(rng),
      configured_(config_.registrars.size()),
      outdated_(config_.registrars.size(), false),
      t5_(config_.t5_initial),
      retry_(config_.retry_initial) {
  config_.max_parallel = std::clamp<std::size_t>(config_.max_parallel, 1, kMaxParallelHunt);
}

std::size_t RegistrarHunt::known_registrars() const noexcept {
  return static_cast<std::size_t>(std::count(outdated_.begin(), outdated_.end(), false));
}

void RegistrarHunt::on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source,
                                       TimePoint now, Actions& out) {
  if (a.transports.empty()) {
    // No transport parameters: SCTP, the packet's source, well-known port.
    learn(TransportAddress{source, config_.asap_port}, now, out);
    return;
  }
  for (const auto& t : a.transports) {
    // Registrar associations are SCTP here; TCP-only servers are skipped.
    if (t.protocol != TransportProtocol::sctp) continue;
    if (t.addresses.empty()) learn(TransportAddress{source, t.port}, now, out);
    // One SCTP endpoint may list several addresses: the first is enough to
    // reach it (the association finds the others itself).
    else learn(TransportAddress{t.addresses.front(), t.port}, now, out);
  }
}

void RegistrarHunt::learn(const TransportAddress& address, TimePoint now, Actions& out) {
  auto it = std::find(config_.registrars.begin(), config_.registrars.end(), address);
  const auto id = static_cast<AssocId>(it - config_.registrars.begin());
  if (it != config_.registrars.end()) {
    if (id < configured_) return;  // configured: never outdated
    const bool revived = outdated_[id];
    outdated_[id] = false;
    timers_.arm(Timer{TimerKind::t7_enrp_outdate, id}, now + config_.t7_enrp_outdate);
    if (revived && hunting_) fill_attempts(out);
    return;
  }
  config_.registrars.push_back(address);
  outdated_.push_back(false);
  timers_.arm(Timer{TimerKind::t7_enrp_outdate, id}, now + config_.t7_enrp_outdate);
  if (hunting_) fill_attempts(out);
}

void RegistrarHunt::on_t7_expiry(AssocId assoc) {
  // The address keeps its AssocId (ids are never reused), it is just not
  // tried any more until announced again.
  if (assoc >= configured_ && assoc < outdated_.size()) outdated_[assoc] = true;
}

bool RegistrarHunt::is_connecting(AssocId a) const noexcept {
  return std::find(connecting_.begin(), connecting_.end(), a) != connecting_.end();
}

void RegistrarHunt::start(TimePoint now, Actions& out) {
  if (home_ || hunting_) return;
  hunting_ = true;
  tried_this_sweep_.clear();
  fill_attempts(out);
  timers_.arm(kT5, now + t5_);
  schedule_sweep(now);  // nobody could even be tried (every address refused at once)
}

void RegistrarHunt::fill_attempts(Actions& out) {
  const std::size_t n = config_.registrars.size();
  // SH4: a failed attempt is replaced by one to an address not yet tried in
  // this sweep; each address is tried at most once per sweep.
  for (std::size_t scanned = 0; scanned < n && connecting_.size() < config_.max_parallel; ++scanned) {
    const auto id = static_cast<AssocId>(cursor_ % n);
    cursor_ = (cursor_ + 1) % n;
    if (is_connecting(id) || outdated_[id]) continue;
    if (std::find(tried_this_sweep_.begin(), tried_this_sweep_.end(), id) != tried_this_sweep_.end()) continue;
    tried_this_sweep_.push_back(id);
    connecting_.push_back(id);
    out.push_back(ConnectRegistrar{id, config_.registrars[id]});
  }
}

void RegistrarHunt::schedule_sweep(TimePoint now) {
  // Only a hunt for a missing home retries; an alternative hunt (T1) is one
  // round by definition. Attempts still pending may yet succeed.
  if (!hunting_ || home_ || !connecting_.empty() || timers_.armed(kSweep)) return;
  if (config_.retry_initial <= Duration::zero() || known_registrars() == 0) return;
  // Uniform in [0.9 d, d]: spread across endpoints by their seeds, yet a
  // registrar back after a silence of s is tried again within about 1.1 s
  // (each sweep comes at most 1/0.9 of the time elapsed after the one
  // before it, and at most retry_max after it; wider jitter would weaken
  // that bound).
  const Duration d = retry_;
  const auto spread = static_cast<std::uint64_t>(d.count() / 10);
  const Duration delay = d - Duration(static_cast<Duration::rep>(rng_.uniform(spread + 1)));
  timers_.arm(kSweep, now + delay);
  retry_ = std::min({retry_ * 2, std::max(config_.retry_max, config_.retry_initial), t5_});
}

void RegistrarHunt::start_alternative(TimePoint now, Actions& out) {
  if (!home_ || hunting_) {
    start(now, out);
    return;
  }
  hunting_ = true;
  tried_this_sweep_.assign(1, *home_);
  fill_attempts(out);
  if (connecting_.empty()) {
    hunting_ = false;  // nobody else to ask
    return;
  }
  timers_.arm(kT5, now + t5_);
}

void RegistrarHunt::found() {
  hunting_ = false;
  timers_.cancel(kT5);
  timers_.cancel(kSweep);
  t5_ = config_.t5_initial;  // SH3
  retry_ = config_.retry_initial;
}

bool RegistrarHunt::on_connected(AssocId assoc, TimePoint /*now*/, Actions& out) {
  if (!hunting_ || !is_connecting(assoc)) {
    // Late success of an aborted attempt, or a second registrar: not needed.
    if (home_ != assoc) out.push_back(DisconnectRegistrar{assoc});
    return false;
  }
  found();
  for (AssocId other : connecting_)
    if (other != assoc) out.push_back(DisconnectRegistrar{other});
  connecting_.clear();
  if (home_ && *home_ != assoc) out.push_back(DisconnectRegistrar{*home_});  // the silent old home
  home_ = assoc;
  home_server_id_ = 0;
  out.push_back(HomeRegistrarChanged{assoc, 0});
  return true;
}

void RegistrarHunt::on_connect_failed(AssocId assoc, TimePoint now, Actions& out) {
  auto it = std::find(connecting_.begin(), connecting_.end(), assoc);
  if (it == connecting_.end()) return;
  connecting_.erase(it);
  if (!hunting_) return;
  fill_attempts(out);
  schedule_sweep(now);
}

void RegistrarHunt::on_t5_expiry(TimePoint now, Actions& out, bool& round_failed) {
  if (!hunting_) return;
  if (home_) {
    // An alternative hunt found nobody in time: keep the home.
    for (AssocId a : connecting_) out.push_back(DisconnectRegistrar{a});
    connecting_.clear();
    hunting_ = false;
    t5_ = config_.t5_initial;
    return;
  }
  // SH5: abort what is pending, double T5 up to RETRAN-MAX, try other ones.
  // The sweep back-off keeps growing (it is reset only by success).
  for (AssocId a : connecting_) out.push_back(DisconnectRegistrar{a});
  connecting_.clear();
  timers_.cancel(kSweep);
  t5_ = std::min(t5_ * 2, config_.retran_max);
  tried_this_sweep_.clear();
  fill_attempts(out);
  timers_.arm(kT5, now + t5_);
  schedule_sweep(now);
  round_failed = true;
}

bool RegistrarHunt::on_timeout(TimePoint now, Actions& out) {
  bool round_failed = false;
  while (auto t = timers_.take_due(now)) {
    switch (t->kind) {
      case TimerKind::t5_server_hunt: on_t5_expiry(now, out, round_failed); break;
      case TimerKind::hunt_retry:
        if (!hunting_ || home_) break;
        tried_this_sweep_.clear();  // a new sweep over every address
        fill_attempts(out);
        schedule_sweep(now);  // e.g. every address outdated meanwhile
        break;
      case TimerKind::t7_enrp_outdate: on_t7_expiry(t->key); break;
      default: break;
    }
  }
  return round_failed;
}

bool RegistrarHunt::on_lost(AssocId assoc, TimePoint now, Actions& out) {
  if (home_ == assoc) {
    home_.reset();
    home_server_id_ = 0;
    start(now, out);
    return true;
  }
  on_connect_failed(assoc, now, out);
  return false;
}

void RegistrarHunt::abandon_home(TimePoint now, Actions& out) {
  if (home_) {
    out.push_back(DisconnectRegistrar{*home_});
    home_.reset();
    home_server_id_ = 0;
  }
  start(now, out);
}

bool RegistrarHunt::adopt(AssocId assoc, ServerIdentifier server_id, Actions& out) {
  if (home_ == assoc && home_server_id_ == server_id) return false;
  if (hunting_) {
    // The takeover answers the hunt: stop it.
    found();
    for (AssocId other : connecting_)
      if (other != assoc) out.push_back(DisconnectRegistrar{other});
    connecting_.clear();
  }
  // The old home association stays up: its server may still be serving
  // other endpoints' requests, and closing it is the driver's call.
  home_ = assoc;
  home_server_id_ = server_id;
  out.push_back(HomeRegistrarChanged{assoc, server_id});
  return true;
}

}  // namespace rserpool::asap
