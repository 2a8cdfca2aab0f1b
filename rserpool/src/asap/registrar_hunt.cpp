#include "rserpool/asap/registrar_hunt.hpp"

#include <algorithm>

namespace rserpool::asap {

namespace {
constexpr Timer kT5{TimerKind::t5_server_hunt, 0};
constexpr std::size_t kMaxParallelHunt = 3;  // RFC 5352 3.6 SH1
}  // namespace

RegistrarHunt::RegistrarHunt(HuntConfig config)
    : config_(std::move(config)),
      configured_(config_.registrars.size()),
      outdated_(config_.registrars.size(), false),
      t5_(config_.t5_initial) {
  config_.max_parallel = std::clamp<std::size_t>(config_.max_parallel, 1, kMaxParallelHunt);
}

std::size_t RegistrarHunt::known_registrars() const noexcept {
  return static_cast<std::size_t>(std::count(outdated_.begin(), outdated_.end(), false));
}

void RegistrarHunt::on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source,
                                       Actions& out) {
  if (a.transports.empty()) {
    // No transport parameters: SCTP, the packet's source, well-known port.
    learn(TransportAddress{source, config_.asap_port}, out);
    return;
  }
  for (const auto& t : a.transports) {
    // Registrar associations are SCTP here; TCP-only servers are skipped.
    if (t.protocol != TransportProtocol::sctp) continue;
    if (t.addresses.empty()) learn(TransportAddress{source, t.port}, out);
    // One SCTP endpoint may list several addresses: the first is enough to
    // reach it (the association finds the others itself).
    else learn(TransportAddress{t.addresses.front(), t.port}, out);
  }
}

void RegistrarHunt::learn(const TransportAddress& address, Actions& out) {
  auto it = std::find(config_.registrars.begin(), config_.registrars.end(), address);
  const auto id = static_cast<AssocId>(it - config_.registrars.begin());
  if (it != config_.registrars.end()) {
    if (id < configured_) return;  // configured: never outdated
    const bool revived = outdated_[id];
    outdated_[id] = false;
    out.push_back(StartTimer{Timer{TimerKind::t7_enrp_outdate, id}, config_.t7_enrp_outdate});
    if (revived && hunting_) fill_attempts(out);
    return;
  }
  config_.registrars.push_back(address);
  outdated_.push_back(false);
  out.push_back(StartTimer{Timer{TimerKind::t7_enrp_outdate, id}, config_.t7_enrp_outdate});
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

void RegistrarHunt::start(Actions& out) {
  if (home_ || hunting_) return;
  hunting_ = true;
  tried_this_round_.clear();
  fill_attempts(out);
  out.push_back(StartTimer{kT5, t5_});
}

void RegistrarHunt::fill_attempts(Actions& out) {
  const std::size_t n = config_.registrars.size();
  // SH4: a failed attempt is replaced by one to an address not yet tried in
  // this round; each address is tried at most once per round.
  for (std::size_t scanned = 0; scanned < n && connecting_.size() < config_.max_parallel; ++scanned) {
    const auto id = static_cast<AssocId>(cursor_ % n);
    cursor_ = (cursor_ + 1) % n;
    if (is_connecting(id) || outdated_[id]) continue;
    if (std::find(tried_this_round_.begin(), tried_this_round_.end(), id) != tried_this_round_.end()) continue;
    tried_this_round_.push_back(id);
    connecting_.push_back(id);
    out.push_back(ConnectRegistrar{id, config_.registrars[id]});
  }
}

void RegistrarHunt::start_alternative(Actions& out) {
  if (!home_ || hunting_) {
    start(out);
    return;
  }
  hunting_ = true;
  tried_this_round_.assign(1, *home_);
  fill_attempts(out);
  if (connecting_.empty()) {
    hunting_ = false;  // nobody else to ask
    return;
  }
  out.push_back(StartTimer{kT5, t5_});
}

bool RegistrarHunt::on_connected(AssocId assoc, Actions& out) {
  if (!hunting_ || !is_connecting(assoc)) {
    // Late success of an aborted attempt, or a second registrar: not needed.
    if (home_ != assoc) out.push_back(DisconnectRegistrar{assoc});
    return false;
  }
  hunting_ = false;
  out.push_back(StopTimer{kT5});
  t5_ = config_.t5_initial;  // SH3
  for (AssocId other : connecting_)
    if (other != assoc) out.push_back(DisconnectRegistrar{other});
  connecting_.clear();
  if (home_ && *home_ != assoc) out.push_back(DisconnectRegistrar{*home_});  // the silent old home
  home_ = assoc;
  home_server_id_ = 0;
  out.push_back(HomeRegistrarChanged{assoc, 0});
  return true;
}

void RegistrarHunt::on_connect_failed(AssocId assoc, Actions& out) {
  auto it = std::find(connecting_.begin(), connecting_.end(), assoc);
  if (it == connecting_.end()) return;
  connecting_.erase(it);
  if (hunting_) fill_attempts(out);
}

bool RegistrarHunt::on_t5_expiry(Actions& out) {
  if (!hunting_) return false;
  if (home_) {
    // An alternative hunt found nobody in time: keep the home.
    for (AssocId a : connecting_) out.push_back(DisconnectRegistrar{a});
    connecting_.clear();
    hunting_ = false;
    t5_ = config_.t5_initial;
    return false;
  }
  // SH5: abort what is pending, double T5 up to RETRAN-MAX, try other ones.
  for (AssocId a : connecting_) out.push_back(DisconnectRegistrar{a});
  connecting_.clear();
  t5_ = std::min(t5_ * 2, config_.retran_max);
  tried_this_round_.clear();
  fill_attempts(out);
  out.push_back(StartTimer{kT5, t5_});
  return true;
}

bool RegistrarHunt::on_lost(AssocId assoc, Actions& out) {
  if (home_ == assoc) {
    home_.reset();
    home_server_id_ = 0;
    start(out);
    return true;
  }
  on_connect_failed(assoc, out);
  return false;
}

void RegistrarHunt::abandon_home(Actions& out) {
  if (home_) {
    out.push_back(DisconnectRegistrar{*home_});
    home_.reset();
    home_server_id_ = 0;
  }
  start(out);
}

bool RegistrarHunt::adopt(AssocId assoc, ServerIdentifier server_id, Actions& out) {
  if (home_ == assoc && home_server_id_ == server_id) return false;
  if (hunting_) {
    // The takeover answers the hunt: stop it.
    hunting_ = false;
    out.push_back(StopTimer{kT5});
    t5_ = config_.t5_initial;
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
