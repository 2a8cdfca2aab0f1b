// Entry points, timer bookkeeping and notifications of the registrar core.
#include "registrar/registrar.hpp"

#include <algorithm>
#include <utility>

namespace rserpool::registrar {

std::string_view to_string(TimerKind k) noexcept {
  switch (k) {
    case TimerKind::lifetime_expiry: return "lifetime-expiry";
    case TimerKind::keep_alive: return "keep-alive";
    case TimerKind::peer_heartbeat: return "peer-heartbeat";
    case TimerKind::peer_monitor: return "peer-monitor";
    case TimerKind::takeover: return "takeover";
    case TimerKind::table_request: return "table-request";
  }
  return "?";
}

std::string_view to_string(Event e) noexcept {
  switch (e) {
    case Event::pe_registered: return "pe-registered";
    case Event::pe_reregistered: return "pe-reregistered";
    case Event::pe_deregistered: return "pe-deregistered";
    case Event::pe_expired: return "pe-expired";
    case Event::pe_keep_alive_timeout: return "pe-keep-alive-timeout";
    case Event::pe_unreachable_removed: return "pe-unreachable-removed";
    case Event::pe_association_lost: return "pe-association-lost";
    case Event::peer_up: return "peer-up";
    case Event::peer_dead: return "peer-dead";
    case Event::takeover_started: return "takeover-started";
    case Event::takeover_won: return "takeover-won";
    case Event::takeover_aborted: return "takeover-aborted";
    case Event::taken_over_by_peer: return "taken-over-by-peer";
    case Event::resync_started: return "resync-started";
    case Event::resync_done: return "resync-done";
  }
  return "?";
}

std::string_view to_string(MentorDownload::State s) noexcept {
  switch (s) {
    case MentorDownload::State::none: return "none";
    case MentorDownload::State::queued: return "queued";
    case MentorDownload::State::downloading: return "downloading";
    case MentorDownload::State::done: return "done";
    case MentorDownload::State::rejected: return "rejected";
    case MentorDownload::State::stalled: return "stalled";
  }
  return "?";
}

Registrar::Registrar(RegistrarConfig config)
    : config_(std::move(config)), hs_(core::HandlespaceConfig{config_.seed, 1}), rng_(config_.seed ^ 0xa5a5a5a5ULL) {}

std::vector<Action> Registrar::start(TimePoint now) {
  started_ = true;
  for (ServerIdentifier p : config_.peers) {
    if (p == 0 || p == config_.server_id) continue;
    Peer& peer = peers_[p];
    peer.configured = true;
    peer.active = true;
    peer.last_heard = now;
    send_presence(p, true, true);
    peer.reply_deadline = now + config_.max_time_no_response;
  }
  if (config_.mentor && *config_.mentor != config_.server_id) {
    Peer& m = peers_[*config_.mentor];
    if (!m.configured) {
      m.configured = true;
      m.last_heard = now;
      send_presence(*config_.mentor, true, true);
      m.reply_deadline = now + config_.max_time_no_response;
    }
    begin_mentor_download(*config_.mentor, now);
  }
  next_heartbeat_ = now + config_.peer_heartbeat_cycle;
  return finish(now);
}

std::vector<Action> Registrar::on_asap_association_up(AssociationId id, std::vector<IpAddress> peer_addresses,
                                                      std::uint16_t peer_port, TimePoint now) {
  AsapAssociation& a = associations_[id];
  a.addresses = std::move(peer_addresses);
  a.port = peer_port;
  a.resolutions = TokenBucket(config_.resolution_rate, now);
  a.unreachables = TokenBucket(config_.unreachable_rate, now);
  a.registrations = TokenBucket(config_.registration_rate, now);
  return finish(now);
}

std::vector<Action> Registrar::on_asap_association_down(AssociationId id, TimePoint now) {
  auto it = associations_.find(id);
  if (it == associations_.end()) return finish(now);
  for (const auto& [pool, sub] : it->second.subscriptions) {
    auto s = subscribers_.find(pool);
    if (s == subscribers_.end()) continue;
    s->second.erase(id);
    if (s->second.empty()) subscribers_.erase(s);
  }
  // Each pointer stays valid until its own PE is disowned: removing one PE
  // never removes another.
  const ElementSet elements = std::move(it->second.elements);
  associations_.erase(it);
  for (const PeKey* key : elements) {
    auto o = owned_.find(*key);
    if (o == owned_.end() || o->second.association != id) continue;
    if (config_.remove_pes_on_association_down) {
      remove_owned(*key, Event::pe_association_lost);
    } else {
      o->second.association.reset();
    }
  }
  return finish(now);
}

std::vector<Action> Registrar::on_asap_message(AssociationId id, ByteView message, TimePoint now) {
  begin_event();
  run_due(now);
  auto it = associations_.find(id);
  if (it == associations_.end()) {
    // The driver must announce the association first; be tolerant and treat
    // it as one without known addresses (registrations then fail the check).
    auto r = on_asap_association_up(id, {}, 0, now);
    out_ = std::move(r);
    it = associations_.find(id);
  }
  auto decoded = wire::asap::decode(message);
  if (!decoded) {
    const auto& err = decoded.error();
    ++counters_.asap_decode_errors[err.cause ? static_cast<std::size_t>(*err.cause) % 11 : 11];
    if (auto reply = wire::asap::error_reply(err)) {
      out_.push_back(SendAsap{id, wire::asap::encode(*reply)});
    }
    return finish(now);
  }
  if (auto report = wire::asap::error_reply(decoded.value())) {
    out_.push_back(SendAsap{id, wire::asap::encode(*report)});
  }
  handle_asap(id, it->second, std::move(decoded.value().message), now);
  return finish(now);
}

std::vector<Action> Registrar::on_enrp_message(ByteView message, TimePoint now, ServerIdentifier from) {
  begin_event();
  run_due(now);
  auto decoded = wire::enrp::decode(message);
  if (!decoded) {
    const auto& err = decoded.error();
    ++counters_.enrp_decode_errors[err.cause ? static_cast<std::size_t>(*err.cause) % 11 : 11];
    if (from != 0) {
      if (auto reply = wire::enrp::error_reply(err, config_.server_id, from)) send_enrp(from, std::move(*reply));
    }
    return finish(now);
  }
  const ServerIdentifier sender = wire::enrp::sender_id(decoded.value().message);
  if (auto report = wire::enrp::error_reply(decoded.value(), config_.server_id)) {
    if (sender != 0 && sender != config_.server_id) {
      report->receiver_id = sender;
      send_enrp(sender, std::move(*report));
    }
  }
  handle_enrp(std::move(decoded.value().message), now);
  return finish(now);
}

std::vector<Action> Registrar::on_timer(TimerKey, TimePoint now) {
  run_due(now);
  return finish(now);
}

void Registrar::run_due(TimePoint now) {
  process_expiry(now);
  process_keep_alive_agenda(now);
  if (started_) {
    process_peers(now);
    if (now >= next_heartbeat_) heartbeat(now);
  }
}

void Registrar::notify(Event e, PoolHandle pool, PeIdentifier pe, ServerIdentifier server) {
  out_.push_back(Notify{e, std::move(pool), pe, server});
}

// Every event ends here: push subscription updates, then tell the driver
// which timers changed. The wanted set is rebuilt into a reused vector and
// merged against what is armed, so an event that moves no deadline
// allocates nothing here.
std::vector<Action> Registrar::finish(TimePoint now) {
  (void)now;
  flush_subscriptions();
  want_.clear();
  if (auto e = hs_.next_expiry()) arm({TimerKind::lifetime_expiry, 0}, *e);
  if (!agenda_.empty()) arm({TimerKind::keep_alive, 0}, agenda_.begin()->first);
  if (started_) {
    arm({TimerKind::peer_heartbeat, 0}, next_heartbeat_);
    for (const auto& [id, p] : peers_) {
      if (p.active) {
        arm({TimerKind::peer_monitor, id},
            p.reply_deadline ? *p.reply_deadline : p.last_heard + config_.max_time_last_heard);
      } else if (!takeovers_.count(id) && hs_.owned_count(id) > 0) {
        arm({TimerKind::peer_monitor, id}, p.inactive_since + 2 * config_.takeover_expire);
      }
      if (p.downloading) arm({TimerKind::table_request, id}, p.download_deadline);
    }
    for (const auto& [target, t] : takeovers_) arm({TimerKind::takeover, target}, t.expires);
  }
  std::sort(want_.begin(), want_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto armed = armed_.begin();
  for (const auto& [key, at] : want_) {
    while (armed != armed_.end() && armed->first < key) {
      out_.push_back(StopTimer{armed->first});
      armed = armed_.erase(armed);
    }
    if (armed != armed_.end() && armed->first == key) {
      if (armed->second != at) {
        armed->second = at;
        out_.push_back(StartTimer{key, at});
      }
      ++armed;
    } else {
      armed_.emplace_hint(armed, key, at);
      out_.push_back(StartTimer{key, at});
    }
  }
  while (armed != armed_.end()) {
    out_.push_back(StopTimer{armed->first});
    armed = armed_.erase(armed);
  }
  return std::exchange(out_, {});
}

std::vector<ServerIdentifier> Registrar::active_peers() const {
  std::vector<ServerIdentifier> v;
  for (const auto& [id, p] : peers_) {
    if (p.active) v.push_back(id);
  }
  return v;
}

bool Registrar::peer_active(ServerIdentifier peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.active;
}

}  // namespace rserpool::registrar
