// ENRP (RFC 5353): presence and failure detection, handlespace download and
// audit, HANDLE_UPDATE propagation, takeover arbitration and execution.
#include <variant>

#include "registrar/registrar.hpp"

namespace rserpool::registrar {

namespace asap = wire::asap;
namespace enrp = wire::enrp;

void Registrar::send_enrp(ServerIdentifier peer, enrp::Message m) {
  if (peer == 0 || peer == config_.server_id) return;
  out_.push_back(SendEnrp{peer, enrp::encode(m)});
}

void Registrar::send_presence(ServerIdentifier peer, bool reply_required, bool with_info) {
  enrp::Presence p;
  p.sender_id = config_.server_id;
  p.receiver_id = peer;
  p.reply_required = reply_required;
  p.pe_checksum = hs_.pe_checksum(config_.server_id);
  if (with_info && config_.enrp_transport) p.server_information = ServerInformation{config_.server_id, *config_.enrp_transport};
  send_enrp(peer, p);
}

void Registrar::broadcast_update(enrp::UpdateAction action, const PoolHandle& pool, const PoolElementParameter& pe) {
  for (const auto& [id, peer] : peers_) {
    if (!peer.active) continue;
    enrp::HandleUpdate u;
    u.sender_id = config_.server_id;
    u.receiver_id = id;
    u.action = action;
    u.pool_handle = pool;
    u.pool_element = pe;
    ++counters_.updates_sent;
    send_enrp(id, std::move(u));
  }
}

Registrar::Peer& Registrar::touch_peer(ServerIdentifier id, TimePoint now) {
  auto [it, inserted] = peers_.try_emplace(id);
  Peer& p = it->second;
  if (inserted || !p.active) {
    p.active = true;
    notify(Event::peer_up, {}, 0, id);
  }
  p.last_heard = now;  // any message counts (RFC 5353 3.3)
  p.reply_deadline.reset();
  return p;
}

void Registrar::handle_enrp(enrp::Message&& m, TimePoint now) {
  ++counters_.enrp_received;
  const ServerIdentifier sender = enrp::sender_id(m);
  const ServerIdentifier receiver = std::visit([](const auto& x) { return x.receiver_id; }, m);
  if (sender == 0 || sender == config_.server_id || (receiver != 0 && receiver != config_.server_id)) {
    ++counters_.enrp_misaddressed;
    return;
  }
  if (auto* e = std::get_if<enrp::Error>(&m)) {
    (void)e;
    ++counters_.enrp_errors_received;
    touch_peer(sender, now);
    return;
  }
  // A takeover target that speaks is alive: abort (RFC 5353 3.9.1). Only
  // PRESENCE counts officially, but any message proves the same.
  if (takeovers_.count(sender)) abort_takeover(sender);
  touch_peer(sender, now);
  if (auto* p = std::get_if<enrp::Presence>(&m)) return on_presence(*p, now);
  if (auto* r = std::get_if<enrp::HandleTableRequest>(&m)) return on_table_request(*r, now);
  if (auto* r = std::get_if<enrp::HandleTableResponse>(&m)) return on_table_response(*r, now);
  if (auto* u = std::get_if<enrp::HandleUpdate>(&m)) return on_handle_update(*u, now);
  if (std::holds_alternative<enrp::ListRequest>(m)) {
    enrp::ListResponse resp;
    resp.sender_id = config_.server_id;
    resp.receiver_id = sender;
    if (config_.enrp_transport) resp.servers.push_back(ServerInformation{config_.server_id, *config_.enrp_transport});
    for (const auto& [id, peer] : peers_) {
      if (peer.active && peer.info) resp.servers.push_back(*peer.info);
    }
    return send_enrp(sender, std::move(resp));
  }
  if (auto* r = std::get_if<enrp::ListResponse>(&m)) return on_list_response(*r, now);
  if (auto* t = std::get_if<enrp::InitTakeover>(&m)) return on_init_takeover(*t, now);
  if (auto* t = std::get_if<enrp::InitTakeoverAck>(&m)) return on_init_takeover_ack(*t, now);
  if (auto* t = std::get_if<enrp::TakeoverServer>(&m)) return on_takeover_server(*t, now);
}

void Registrar::on_presence(const enrp::Presence& p, TimePoint now) {
  Peer& peer = peers_[p.sender_id];
  if (p.server_information && p.server_information->id == p.sender_id) peer.info = p.server_information;
  if (p.reply_required) send_presence(p.sender_id, false, true);
  // Audit: our view of the PEs the peer owns must give its checksum.
  if (!peer.downloading && hs_.pe_checksum(p.sender_id) != p.pe_checksum) {
    ++counters_.checksum_mismatches;
    start_download(p.sender_id, true, now);
  }
}

void Registrar::start_download(ServerIdentifier peer_id, bool own_only, TimePoint now) {
  Peer& peer = peers_[peer_id];
  peer.downloading = true;
  peer.download_own_only = own_only;
  peer.download_deadline = now + config_.max_time_no_response;
  if (own_only) {
    // Resync: mark, download W=1 (re-registration clears the mark), sweep.
    ++counters_.resyncs;
    hs_.mark_owned_by(peer_id);
    notify(Event::resync_started, {}, 0, peer_id);
  }
  enrp::HandleTableRequest req;
  req.sender_id = config_.server_id;
  req.receiver_id = peer_id;
  req.own_children_only = own_only;
  send_enrp(peer_id, req);
}

bool Registrar::initial_download_pending() const {
  return mentor_.state == MentorDownload::State::downloading || mentor_.state == MentorDownload::State::queued;
}

std::vector<Action> Registrar::start_mentor_download(ServerIdentifier mentor, TimePoint now) {
  run_due(now);
  if (mentor != 0 && mentor != config_.server_id && mentor_.state == MentorDownload::State::none) {
    auto [it, inserted] = peers_.try_emplace(mentor);
    if (inserted) {
      it->second.last_heard = now;
      notify(Event::peer_up, {}, 0, mentor);
    }
    begin_mentor_download(mentor, now);
  }
  return finish(now);
}

void Registrar::begin_mentor_download(ServerIdentifier mentor, TimePoint now) {
  config_.mentor = mentor;
  mentor_.mentor = mentor;
  mentor_.started = now;
  Peer& peer = peers_[mentor];
  if (peer.downloading && peer.download_own_only) {
    // An audit download (W=1) from this server is in flight, and responses
    // carry no W bit: ours would be mistaken for its pages. Queue behind it.
    mentor_.state = MentorDownload::State::queued;
    return;
  }
  mentor_.state = MentorDownload::State::downloading;
  send_enrp(mentor, enrp::ListRequest{config_.server_id, mentor});
  start_download(mentor, false, now);
}

void Registrar::mentor_download_ended(ServerIdentifier peer, MentorDownload::State how, TimePoint now) {
  if (peer != mentor_.mentor) return;
  if (mentor_.state == MentorDownload::State::queued && how == MentorDownload::State::done) {
    // The audit download it waited for is over: now the whole table.
    begin_mentor_download(peer, now);
    return;
  }
  if (mentor_.state != MentorDownload::State::downloading && mentor_.state != MentorDownload::State::queued) return;
  mentor_.state = how;
  mentor_.finished = now;
}

void Registrar::on_table_request(const enrp::HandleTableRequest& r, TimePoint now) {
  Peer& peer = peers_[r.sender_id];
  if (initial_download_pending() && r.sender_id != mentor_.mentor) {
    // Still learning the handlespace from our mentor: a partial table would
    // make the requester sweep PEs it should keep (RFC 5353 3.2: answer R=1).
    enrp::HandleTableResponse busy;
    busy.sender_id = config_.server_id;
    busy.receiver_id = r.sender_id;
    busy.rejected = true;
    return send_enrp(r.sender_id, std::move(busy));
  }
  if (!peer.serving || peer.serving_own_only != r.own_children_only ||
      now - peer.serve_last > config_.table_session_timeout) {
    peer.serve_cursor = {};
    peer.serving_own_only = r.own_children_only;
  }
  const auto page = hs_.handle_table_page(peer.serve_cursor, std::max<std::size_t>(1, config_.handle_table_page_size),
                                          r.own_children_only ? std::optional{config_.server_id} : std::nullopt);
  enrp::HandleTableResponse resp;
  resp.sender_id = config_.server_id;
  resp.receiver_id = r.sender_id;
  resp.more_to_send = page.more;
  for (const auto* e : page.entries) {
    if (resp.pools.empty() || resp.pools.back().pool_handle != e->pool_handle()) {
      resp.pools.push_back(enrp::PoolEntry{e->pool_handle(), {}});
    }
    resp.pools.back().pool_elements.push_back(e->element());
  }
  peer.serving = page.more;
  peer.serve_cursor = page.next;
  peer.serve_last = now;
  send_enrp(r.sender_id, std::move(resp));
}

void Registrar::apply_peer_element(ServerIdentifier sender, const PoolHandle& pool, const PoolElementParameter& pe,
                                   TimePoint now) {
  PoolElementParameter copy = pe;
  if (copy.home_registrar == 0) copy.home_registrar = sender;
  const PeKey key{pool, pe.id};
  if (copy.home_registrar == config_.server_id) {
    // A peer echoes our own PE: we are the authority for it.
    ++counters_.updates_ignored;
    return;
  }
  core::RegistrationContext ctx;
  ctx.owner = copy.home_registrar;
  ctx.now = now;
  ctx.accept_unknown_policy = true;
  auto outcome = hs_.register_element(pool, copy, ctx);
  if (!outcome) {
    ++counters_.updates_ignored;
    return;
  }
  ++counters_.updates_applied;
  // The PE moved to another home (re-registered there, or taken over).
  if (owned_.count(key)) disown(key);
  pool_changed(pool);
}

void Registrar::on_table_response(const enrp::HandleTableResponse& r, TimePoint now) {
  Peer& peer = peers_[r.sender_id];
  if (!peer.downloading) {
    ++counters_.updates_ignored;
    return;
  }
  const bool initial = !peer.download_own_only && mentor_.state == MentorDownload::State::downloading &&
                       r.sender_id == mentor_.mentor;
  if (!r.rejected) {
    for (const auto& pool : r.pools) {
      for (const auto& pe : pool.pool_elements) apply_peer_element(r.sender_id, pool.pool_handle, pe, now);
      if (initial) {
        mentor_.elements += pool.pool_elements.size();
        counters_.mentor_elements += pool.pool_elements.size();
      }
    }
    if (initial) {
      ++mentor_.pages;
      ++counters_.mentor_pages;
    }
  }
  Peer& p = peers_[r.sender_id];  // apply may not invalidate, but stay safe
  if (r.more_to_send && !r.rejected) {
    p.download_deadline = now + config_.max_time_no_response;
    enrp::HandleTableRequest req;
    req.sender_id = config_.server_id;
    req.receiver_id = r.sender_id;
    req.own_children_only = p.download_own_only;
    send_enrp(r.sender_id, req);
    return;
  }
  p.downloading = false;
  if (p.download_own_only && !r.rejected) {
    for (const auto& removed : hs_.sweep_marked(r.sender_id)) {
      const PeKey key{removed.pool, removed.element.id};
      disown(key);
      pool_changed(removed.pool);
    }
    notify(Event::resync_done, {}, 0, r.sender_id);
  }
  if (initial || mentor_.state == MentorDownload::State::queued) {
    mentor_download_ended(r.sender_id, r.rejected && initial ? MentorDownload::State::rejected : MentorDownload::State::done,
                          now);
  }
}

void Registrar::on_handle_update(const enrp::HandleUpdate& u, TimePoint now) {
  if (u.action == enrp::UpdateAction::add_pe) {
    apply_peer_element(u.sender_id, u.pool_handle, u.pool_element, now);
    return;
  }
  const auto* e = hs_.find(u.pool_handle, u.pool_element.id);
  // Only the owner may delete: a late DEL from a former home must not
  // remove a PE that has re-registered with someone else meanwhile.
  if (e == nullptr || e->owner() != u.sender_id) {
    ++counters_.updates_ignored;
    return;
  }
  ++counters_.updates_applied;
  (void)hs_.deregister_element(u.pool_handle, u.pool_element.id);
  pool_changed(u.pool_handle);
}

void Registrar::on_list_response(const enrp::ListResponse& r, TimePoint now) {
  if (r.rejected) return;
  for (const auto& s : r.servers) {
    if (s.id == 0 || s.id == config_.server_id) continue;
    if (!peers_.count(s.id)) {
      Peer& p = peers_[s.id];
      p.active = true;
      p.last_heard = now;
      p.info = s;
      notify(Event::peer_up, {}, 0, s.id);
      send_presence(s.id, true, true);
      p.reply_deadline = now + config_.max_time_no_response;
    }
  }
}

void Registrar::start_takeover(ServerIdentifier target, TimePoint now) {
  Takeover t;
  t.expires = now + config_.takeover_expire;
  for (const auto& [id, p] : peers_) {
    if (p.active && id != target) t.awaiting.insert(id);
  }
  notify(Event::takeover_started, {}, 0, target);
  const bool immediate = t.awaiting.empty();
  takeovers_[target] = std::move(t);
  for (const auto& [id, p] : peers_) {
    if (p.active || id == target) send_enrp(id, enrp::InitTakeover{config_.server_id, id, target});
  }
  if (immediate) execute_takeover(target, now);
}

void Registrar::abort_takeover(ServerIdentifier target) {
  if (takeovers_.erase(target) == 0) return;
  ++counters_.takeovers_aborted;
  notify(Event::takeover_aborted, {}, 0, target);
}

void Registrar::on_init_takeover(const enrp::InitTakeover& t, TimePoint now) {
  if (t.target_id == config_.server_id) {
    // We are alive: tell everyone at once (RFC 5353 3.9.1).
    for (const auto& [id, p] : peers_) {
      if (p.active) send_presence(id, false, true);
    }
    return;
  }
  if (takeovers_.count(t.target_id)) {
    // Conflict (RFC 5353 3.9.1): a server whose own id is less than the
    // sender's aborts its attempt and acknowledges; the higher id wins.
    if (config_.server_id > t.sender_id) return;
    abort_takeover(t.target_id);
  }
  auto it = peers_.find(t.target_id);
  if (it != peers_.end() && it->second.active) {
    it->second.active = false;
    it->second.inactive_since = now;
  }
  send_enrp(t.sender_id, enrp::InitTakeoverAck{config_.server_id, t.sender_id, t.target_id});
}

void Registrar::on_init_takeover_ack(const enrp::InitTakeoverAck& t, TimePoint now) {
  auto it = takeovers_.find(t.target_id);
  if (it == takeovers_.end()) return;
  it->second.awaiting.erase(t.sender_id);
  if (it->second.awaiting.empty()) execute_takeover(t.target_id, now);
}

void Registrar::execute_takeover(ServerIdentifier target, TimePoint now) {
  takeovers_.erase(target);
  ++counters_.takeovers_won;
  for (const auto& [id, p] : peers_) {
    if (p.active && id != target) send_enrp(id, enrp::TakeoverServer{config_.server_id, id, target});
  }
  auto it = peers_.find(target);
  if (it != peers_.end()) {
    if (it->second.configured) {
      it->second.active = false;
      it->second.downloading = false;
    } else {
      peers_.erase(it);
    }
  }
  mentor_download_ended(target, MentorDownload::State::stalled, now);
  notify(Event::takeover_won, {}, 0, target);
  for (const auto* e : hs_.change_owner(target, config_.server_id)) {
    const PeKey key{e->pool_handle(), e->id()};
    adopt(key, std::nullopt, now);
    // "Adopt me as your home": the PE answers with a KEEP_ALIVE_ACK.
    send_keep_alive(key, owned_[key], true, now);
  }
}

void Registrar::on_takeover_server(const enrp::TakeoverServer& t, TimePoint now) {
  if (t.target_id == config_.server_id) {
    // We were declared dead while alive; our PEs get H=1 keep-alives from
    // the new home and re-register there, whose ADD_PEs move them here too.
    return;
  }
  abort_takeover(t.target_id);
  auto it = peers_.find(t.target_id);
  if (it != peers_.end()) {
    if (it->second.configured) {
      it->second.active = false;
      it->second.downloading = false;
    } else {
      peers_.erase(it);
    }
  }
  mentor_download_ended(t.target_id, MentorDownload::State::stalled, now);
  (void)hs_.change_owner(t.target_id, t.sender_id);
  notify(Event::taken_over_by_peer, {}, 0, t.target_id);
}

void Registrar::process_peers(TimePoint now) {
  std::vector<ServerIdentifier> dead;
  for (auto& [id, p] : peers_) {
    if (p.downloading && now >= p.download_deadline) {
      // The peer stopped answering mid-download: give up; a later audit retries.
      p.downloading = false;
      mentor_download_ended(id, MentorDownload::State::stalled, now);
    }
    if (!p.active) continue;
    if (p.reply_deadline) {
      if (now >= *p.reply_deadline) dead.push_back(id);
    } else if (now >= p.last_heard + config_.max_time_last_heard) {
      send_presence(id, true, true);
      p.reply_deadline = now + config_.max_time_no_response;
    }
  }
  for (ServerIdentifier id : dead) {
    Peer& p = peers_[id];
    p.active = false;
    p.inactive_since = now;
    p.reply_deadline.reset();
    p.downloading = false;
    mentor_download_ended(id, MentorDownload::State::stalled, now);
    ++counters_.peers_dead;
    notify(Event::peer_dead, {}, 0, id);
    if (!takeovers_.count(id)) start_takeover(id, now);
  }
  std::vector<ServerIdentifier> expired;
  for (const auto& [target, t] : takeovers_) {
    if (now >= t.expires) expired.push_back(target);
  }
  // A takeover that did not collect every ACK in time is abandoned (as
  // rsplib does). If the target is still silent and still owns PEs here, a
  // new round starts at once: otherwise PEs registered with an infinite life
  // would keep a dead home forever when one ACK was lost.
  for (ServerIdentifier target : expired) {
    abort_takeover(target);
    if (!peer_active(target) && hs_.owned_count(target) > 0) start_takeover(target, now);
  }
  // We acknowledged someone else's takeover of a silent peer, but its PEs
  // still name that peer as home long after: the initiator died or lost the
  // race without a winner. Take over ourselves.
  std::vector<ServerIdentifier> orphaned;
  for (auto& [id, p] : peers_) {
    if (!p.active && !takeovers_.count(id) && now >= p.inactive_since + 2 * config_.takeover_expire &&
        hs_.owned_count(id) > 0) {
      p.inactive_since = now;
      orphaned.push_back(id);
    }
  }
  for (ServerIdentifier target : orphaned) start_takeover(target, now);
}

void Registrar::heartbeat(TimePoint now) {
  for (const auto& [id, p] : peers_) {
    // Inactive configured peers still get our PRESENCE so a healed
    // partition or a restarted peer finds us again.
    if (p.active || p.configured) send_presence(id, false, false);
  }
  next_heartbeat_ = now + config_.peer_heartbeat_cycle;
}

}  // namespace rserpool::registrar
