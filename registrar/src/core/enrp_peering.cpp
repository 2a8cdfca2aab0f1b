// ENRP peering (RFC 5353 3.1-3.8): presence and failure detection,
// handlespace download and audit, HANDLE_UPDATE propagation, mentor
// download, handle table and list service.
#include "registrar/enrp_peering.hpp"

#include <algorithm>
#include <variant>

namespace rserpool::registrar {

namespace enrp = wire::enrp;

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

namespace {
TimerKey monitor_key(ServerIdentifier id) { return TimerKey{TimerKind::peer_monitor, id}; }
TimerKey download_key(ServerIdentifier id) { return TimerKey{TimerKind::table_request, id}; }
constexpr TimerKey kHeartbeat{TimerKind::peer_heartbeat, 0};
}  // namespace

enrp::Presence EnrpPeering::presence(ServerIdentifier receiver, bool reply_required) const {
  enrp::Presence p;
  p.sender_id = s_.self();
  p.receiver_id = receiver;
  p.reply_required = reply_required;
  p.pe_checksum = s_.handlespace.pe_checksum(s_.self());
  // RFC 5353 2.1 makes Server Information mandatory only in a reply to a
  // reply-required PRESENCE; rspregistrar rejects any PRESENCE without it
  // (ENRP_ERROR "invalid message"), so every one carries it.
  if (s_.config.enrp_transport) p.server_information = ServerInformation{s_.self(), *s_.config.enrp_transport};
  return p;
}

void EnrpPeering::send_presence(ServerIdentifier peer, bool reply_required) {
  s_.send_enrp(peer, presence(peer, reply_required));
}

void EnrpPeering::start(TimePoint now) {
  started_ = true;
  const auto announce = [&](ServerIdentifier id) {
    Peer& peer = peers_[id];
    peer.configured = true;
    peer.active = true;
    peer.last_heard = now;
    send_presence(id, true);
    peer.reply_deadline = now + s_.config.max_time_no_response;
    watch(id, peer);
  };
  for (ServerIdentifier p : s_.config.peers) {
    if (p == 0 || p == s_.self()) continue;
    announce(p);
  }
  if (s_.config.mentor && *s_.config.mentor != s_.self()) {
    const ServerIdentifier m = *s_.config.mentor;
    if (!peers_[m].configured) announce(m);
    begin_mentor_download(m, now);
  }
  timers_.arm(kHeartbeat, now + s_.config.peer_heartbeat_cycle);
}

void EnrpPeering::element_changed(enrp::UpdateAction action, const PoolHandle& pool, const PoolElementParameter& pe) {
  for (const auto& [id, peer] : peers_) {
    if (!peer.active) continue;
    enrp::HandleUpdate u;
    u.sender_id = s_.self();
    u.receiver_id = id;
    u.action = action;
    u.pool_handle = pool;
    u.pool_element = pe;
    ++s_.counters.updates_sent;
    s_.send_enrp(id, std::move(u));
  }
}

// The monitor timer of an active peer: the reply deadline when a
// reply-required PRESENCE is out, else MAX-TIME-LAST-HEARD after the last
// message. Hearing from a peer only moves last_heard; the timer catches up
// when it fires (monitor()), so a busy peer costs no re-arm per message.
void EnrpPeering::watch(ServerIdentifier id, Peer& p) {
  timers_.arm(monitor_key(id), p.reply_deadline ? *p.reply_deadline : p.last_heard + s_.config.max_time_last_heard);
}

EnrpPeering::Peer& EnrpPeering::touch_peer(ServerIdentifier id, TimePoint now) {
  auto [it, inserted] = peers_.try_emplace(id);
  Peer& p = it->second;
  p.last_heard = now;  // any message counts (RFC 5353 3.3)
  if (inserted || !p.active) {
    p.active = true;
    p.reply_deadline.reset();
    s_.notify(Event::peer_up, {}, 0, id);
    watch(id, p);
  } else if (p.reply_deadline) {
    p.reply_deadline.reset();
    watch(id, p);
  }
  return p;
}

bool EnrpPeering::admit(const enrp::Message& m, TimePoint now) {
  ++s_.counters.enrp_received;
  const ServerIdentifier sender = enrp::sender_id(m);
  const ServerIdentifier receiver = std::visit([](const auto& x) { return x.receiver_id; }, m);
  if (sender == 0 || sender == s_.self() || (receiver != 0 && receiver != s_.self())) {
    ++s_.counters.enrp_misaddressed;
    return false;
  }
  if (std::holds_alternative<enrp::Error>(m)) {
    ++s_.counters.enrp_errors_received;
    touch_peer(sender, now);
    return false;
  }
  if (takeover_ != nullptr) takeover_->peer_spoke(sender);
  touch_peer(sender, now);
  return true;
}

void EnrpPeering::on_message(enrp::Message&& m, TimePoint now) {
  if (auto* p = std::get_if<enrp::Presence>(&m)) return on_presence(*p, now);
  if (auto* r = std::get_if<enrp::HandleTableRequest>(&m)) return on_table_request(*r, now);
  if (auto* r = std::get_if<enrp::HandleTableResponse>(&m)) return on_table_response(*r, now);
  if (auto* u = std::get_if<enrp::HandleUpdate>(&m)) return on_handle_update(*u, now);
  if (auto* l = std::get_if<enrp::ListRequest>(&m)) return on_list_request(l->sender_id);
  if (auto* r = std::get_if<enrp::ListResponse>(&m)) return on_list_response(*r, now);
}

void EnrpPeering::on_presence(const enrp::Presence& p, TimePoint now) {
  Peer& peer = peers_[p.sender_id];
  if (p.server_information && p.server_information->id == p.sender_id) peer.info = p.server_information;
  if (p.reply_required) send_presence(p.sender_id, false);
  // Audit (RFC 5353 3.5): our view of the PEs the peer owns must give its checksum.
  if (!peer.downloading && s_.handlespace.pe_checksum(p.sender_id) != p.pe_checksum) {
    ++s_.counters.checksum_mismatches;
    start_download(p.sender_id, true, now);
  }
}

void EnrpPeering::start_download(ServerIdentifier peer_id, bool own_only, TimePoint now) {
  Peer& peer = peers_[peer_id];
  peer.downloading = true;
  peer.download_own_only = own_only;
  timers_.arm(download_key(peer_id), now + s_.config.max_time_no_response);
  if (own_only) {
    // Resync: mark, download W=1 (re-registration clears the mark), sweep.
    ++s_.counters.resyncs;
    s_.handlespace.mark_owned_by(peer_id);
    s_.notify(Event::resync_started, {}, 0, peer_id);
  }
  s_.send_enrp(peer_id, enrp::HandleTableRequest{s_.self(), peer_id, own_only});
}

void EnrpPeering::download_ended(ServerIdentifier peer_id, Peer& p) {
  p.downloading = false;
  timers_.cancel(download_key(peer_id));
}

bool EnrpPeering::initial_download_pending() const {
  return mentor_.state == MentorDownload::State::downloading || mentor_.state == MentorDownload::State::queued;
}

void EnrpPeering::start_mentor_download(ServerIdentifier mentor, TimePoint now) {
  if (mentor == 0 || mentor == s_.self() || mentor_.state != MentorDownload::State::none) return;
  auto [it, inserted] = peers_.try_emplace(mentor);
  if (inserted) {
    it->second.last_heard = now;
    s_.notify(Event::peer_up, {}, 0, mentor);
    watch(mentor, it->second);
  }
  begin_mentor_download(mentor, now);
}

void EnrpPeering::begin_mentor_download(ServerIdentifier mentor, TimePoint now) {
  s_.config.mentor = mentor;
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
  s_.send_enrp(mentor, enrp::ListRequest{s_.self(), mentor});
  start_download(mentor, false, now);
}

void EnrpPeering::mentor_download_ended(ServerIdentifier peer, MentorDownload::State how, TimePoint now) {
  if (peer != mentor_.mentor) return;
  if (mentor_.state == MentorDownload::State::queued && how == MentorDownload::State::done) {
    // The audit download it waited for is over: now the whole table.
    begin_mentor_download(peer, now);
    return;
  }
  if (!initial_download_pending()) return;
  mentor_.state = how;
  mentor_.finished = now;
}

void EnrpPeering::on_table_request(const enrp::HandleTableRequest& r, TimePoint now) {
  Peer& peer = peers_[r.sender_id];
  serve_table(r.sender_id, peer.serving, r.own_children_only, now);
}

// One page of our handle table (RFC 5353 3.2), the next one on each request
// while the requester's session lasts (M bit). W=1: our own PEs only.
void EnrpPeering::serve_table(ServerIdentifier to, TableSession& session, bool own_only, TimePoint now) {
  if (initial_download_pending() && to != mentor_.mentor) {
    // Still learning the handlespace from our mentor: a partial table would
    // make the requester sweep PEs it should keep (RFC 5353 3.2: answer R=1).
    enrp::HandleTableResponse busy;
    busy.sender_id = s_.self();
    busy.receiver_id = to;
    busy.rejected = true;
    return s_.send_enrp(to, std::move(busy));
  }
  if (!session.serving || session.own_only != own_only || now - session.last > s_.config.table_session_timeout) {
    session.cursor = {};
    session.own_only = own_only;
  }
  const auto page =
      s_.handlespace.handle_table_page(session.cursor, std::max<std::size_t>(1, s_.config.handle_table_page_size),
                                       own_only ? std::optional{s_.self()} : std::nullopt);
  enrp::HandleTableResponse resp;
  resp.sender_id = s_.self();
  resp.receiver_id = to;
  resp.more_to_send = page.more;
  for (const auto* e : page.entries) {
    if (resp.pools.empty() || resp.pools.back().pool_handle != e->pool_handle()) {
      resp.pools.push_back(enrp::PoolEntry{e->pool_handle(), {}});
    }
    resp.pools.back().pool_elements.push_back(e->element());
  }
  session.serving = page.more;
  session.cursor = page.next;
  session.last = now;
  s_.send_enrp(to, std::move(resp));
}

void EnrpPeering::on_monitor_message(const enrp::Message& m, TimePoint now) {
  ++s_.counters.enrp_received;
  const ServerIdentifier sender = enrp::sender_id(m);
  const ServerIdentifier receiver = std::visit([](const auto& x) { return x.receiver_id; }, m);
  if (sender == 0 || sender == s_.self() || (receiver != 0 && receiver != s_.self())) {
    ++s_.counters.enrp_misaddressed;
    return;
  }
  if (const auto* p = std::get_if<enrp::Presence>(&m)) {
    if (p->reply_required) send_presence(sender, false);
    return;
  }
  if (const auto* r = std::get_if<enrp::HandleTableRequest>(&m)) {
    auto it = monitor_sessions_.find(sender);
    if (it == monitor_sessions_.end()) {
      // Bounded: the session idle for longest makes way.
      if (monitor_sessions_.size() >= std::max<std::size_t>(1, s_.config.max_monitor_sessions)) {
        auto oldest = std::min_element(monitor_sessions_.begin(), monitor_sessions_.end(),
                                       [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
        monitor_sessions_.erase(oldest);
      }
      it = monitor_sessions_.emplace(sender, TableSession{}).first;
    }
    ++s_.counters.monitor_requests;
    serve_table(sender, it->second, r->own_children_only, now);
    if (!it->second.serving) monitor_sessions_.erase(it);  // the last page went out
    return;
  }
  if (std::holds_alternative<enrp::ListRequest>(m)) {
    ++s_.counters.monitor_requests;
    return on_list_request(sender);
  }
  // A monitor has nothing to tell us (updates, takeovers, tables).
  ++s_.counters.monitor_ignored;
}

void EnrpPeering::apply_peer_element(ServerIdentifier sender, const PoolHandle& pool, const PoolElementParameter& pe,
                                     TimePoint now) {
  PoolElementParameter copy = pe;
  if (copy.home_registrar == 0) copy.home_registrar = sender;
  if (copy.home_registrar == s_.self()) {
    // A peer echoes our own PE: we are the authority for it.
    ++s_.counters.updates_ignored;
    return;
  }
  core::RegistrationContext ctx;
  ctx.owner = copy.home_registrar;
  ctx.now = now;
  ctx.accept_unknown_policy = true;
  auto outcome = s_.handlespace.register_element(pool, std::move(copy), ctx);  // `copy` is not used below
  if (!outcome) {
    ++s_.counters.updates_ignored;
    return;
  }
  ++s_.counters.updates_applied;
  // The PE moved to another home (re-registered there, or taken over).
  asap_.disown(pool, pe.id);
  asap_.pool_changed(pool);
}

void EnrpPeering::on_table_response(const enrp::HandleTableResponse& r, TimePoint now) {
  auto it = peers_.find(r.sender_id);
  if (it == peers_.end() || !it->second.downloading) {
    ++s_.counters.updates_ignored;
    return;
  }
  const bool initial = !it->second.download_own_only && mentor_.state == MentorDownload::State::downloading &&
                       r.sender_id == mentor_.mentor;
  if (!r.rejected) {
    for (const auto& pool : r.pools) {
      for (const auto& pe : pool.pool_elements) apply_peer_element(r.sender_id, pool.pool_handle, pe, now);
      if (initial) {
        mentor_.elements += pool.pool_elements.size();
        s_.counters.mentor_elements += pool.pool_elements.size();
      }
    }
    if (initial) {
      ++mentor_.pages;
      ++s_.counters.mentor_pages;
    }
  }
  Peer& p = it->second;  // map nodes are stable: applying elements never erases peers
  if (r.more_to_send && !r.rejected) {
    timers_.arm(download_key(r.sender_id), now + s_.config.max_time_no_response);
    s_.send_enrp(r.sender_id, enrp::HandleTableRequest{s_.self(), r.sender_id, p.download_own_only});
    return;
  }
  download_ended(r.sender_id, p);
  if (p.download_own_only && !r.rejected) {
    for (const auto& removed : s_.handlespace.sweep_marked(r.sender_id)) {
      asap_.disown(removed.pool, removed.element.id);
      asap_.pool_changed(removed.pool);
    }
    s_.notify(Event::resync_done, {}, 0, r.sender_id);
  }
  if (initial || mentor_.state == MentorDownload::State::queued) {
    mentor_download_ended(r.sender_id,
                          r.rejected && initial ? MentorDownload::State::rejected : MentorDownload::State::done, now);
  }
}

void EnrpPeering::on_handle_update(const enrp::HandleUpdate& u, TimePoint now) {
  if (u.action == enrp::UpdateAction::add_pe) {
    apply_peer_element(u.sender_id, u.pool_handle, u.pool_element, now);
    return;
  }
  const auto* e = s_.handlespace.find(u.pool_handle, u.pool_element.id);
  // Only the owner may delete: a late DEL from a former home must not
  // remove a PE that has re-registered with someone else meanwhile.
  if (e == nullptr || e->owner() != u.sender_id) {
    ++s_.counters.updates_ignored;
    return;
  }
  ++s_.counters.updates_applied;
  (void)s_.handlespace.deregister_element(u.pool_handle, u.pool_element.id);
  asap_.pool_changed(u.pool_handle);
}

void EnrpPeering::on_list_request(ServerIdentifier sender) {
  enrp::ListResponse resp;
  resp.sender_id = s_.self();
  resp.receiver_id = sender;
  if (s_.config.enrp_transport) resp.servers.push_back(ServerInformation{s_.self(), *s_.config.enrp_transport});
  for (const auto& [id, peer] : peers_) {
    if (peer.active && peer.info) resp.servers.push_back(*peer.info);
  }
  s_.send_enrp(sender, std::move(resp));
}

void EnrpPeering::on_list_response(const enrp::ListResponse& r, TimePoint now) {
  if (r.rejected) return;
  for (const auto& sv : r.servers) {
    if (sv.id == 0 || sv.id == s_.self() || peers_.count(sv.id)) continue;
    Peer& p = peers_[sv.id];
    p.active = true;
    p.last_heard = now;
    p.info = sv;
    s_.notify(Event::peer_up, {}, 0, sv.id);
    send_presence(sv.id, true);
    p.reply_deadline = now + s_.config.max_time_no_response;
    watch(sv.id, p);
  }
}

std::vector<ServerIdentifier> EnrpPeering::active_peer_ids() const {
  std::vector<ServerIdentifier> v;
  for (const auto& [id, p] : peers_) {
    if (p.active) v.push_back(id);
  }
  return v;
}

bool EnrpPeering::peer_active(ServerIdentifier peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.active;
}

TimePoint EnrpPeering::inactive_since(ServerIdentifier peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? TimePoint{} : it->second.inactive_since;
}

void EnrpPeering::stop_monitoring(ServerIdentifier peer, TimePoint now) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.active) return;
  it->second.active = false;
  it->second.inactive_since = now;
  it->second.reply_deadline.reset();
  timers_.cancel(monitor_key(peer));
}

void EnrpPeering::retire(ServerIdentifier peer, TimePoint now) {
  auto it = peers_.find(peer);
  if (it != peers_.end()) {
    timers_.cancel(monitor_key(peer));
    timers_.cancel(download_key(peer));
    if (it->second.configured) {
      it->second.active = false;
      it->second.downloading = false;
      it->second.reply_deadline.reset();
    } else {
      peers_.erase(it);
    }
  }
  mentor_download_ended(peer, MentorDownload::State::stalled, now);
}

void EnrpPeering::on_timeout(TimePoint now) {
  while (auto key = timers_.take_due(now)) {
    switch (key->kind) {
      case TimerKind::peer_heartbeat: heartbeat(now); break;
      case TimerKind::peer_monitor: monitor(key->peer, now); break;
      case TimerKind::table_request: {
        // The peer stopped answering mid-download: give up; a later audit retries.
        auto it = peers_.find(key->peer);
        if (it != peers_.end()) it->second.downloading = false;
        mentor_download_ended(key->peer, MentorDownload::State::stalled, now);
        break;
      }
      default: break;
    }
  }
}

void EnrpPeering::monitor(ServerIdentifier id, TimePoint now) {
  auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.active) return;
  Peer& p = it->second;
  if (p.reply_deadline) {
    if (now >= *p.reply_deadline) return declare_dead(id, now);
  } else if (now >= p.last_heard + s_.config.max_time_last_heard) {
    // Silent for MAX-TIME-LAST-HEARD: ask (RFC 5353 3.2.1).
    send_presence(id, true);
    p.reply_deadline = now + s_.config.max_time_no_response;
  }
  watch(id, p);
}

void EnrpPeering::declare_dead(ServerIdentifier id, TimePoint now) {
  Peer& p = peers_.at(id);
  p.active = false;
  p.inactive_since = now;
  p.reply_deadline.reset();
  download_ended(id, p);
  mentor_download_ended(id, MentorDownload::State::stalled, now);
  ++s_.counters.peers_dead;
  s_.notify(Event::peer_dead, {}, 0, id);
  // Last: the takeover may retire the peer (and erase an unconfigured one).
  if (takeover_ != nullptr) takeover_->peer_dead(id, now);
}

void EnrpPeering::heartbeat(TimePoint now) {
  for (const auto& [id, p] : peers_) {
    // Inactive configured peers still get our PRESENCE so a healed
    // partition or a restarted peer finds us again.
    if (p.active || p.configured) send_presence(id, false);
  }
  timers_.arm(kHeartbeat, now + s_.config.peer_heartbeat_cycle);
}

}  // namespace rserpool::registrar
