// The ENRP peer directory: trust, association-to-server binding, routing,
// configured-peer connections and the mentor choice.
#include "registrar/peer_directory.hpp"

#include <algorithm>
#include <utility>

namespace rserpool::registrar {

namespace enrp = wire::enrp;

std::string_view to_string(DirectoryEvent::Kind k) noexcept {
  switch (k) {
    case DirectoryEvent::Kind::refused_untrusted: return "refused-untrusted";
    case DirectoryEvent::Kind::refused_full: return "refused-full";
    case DirectoryEvent::Kind::bound: return "bound";
    case DirectoryEvent::Kind::sender_changed: return "sender-changed";
    case DirectoryEvent::Kind::listed_refused: return "listed-refused";
    case DirectoryEvent::Kind::mentor_chosen: return "mentor-chosen";
    case DirectoryEvent::Kind::mentor_timed_out: return "mentor-timed-out";
  }
  return "?";
}

namespace {
// Every ENRP message starts with type, flags, length, sending server id and
// receiving server id (RFC 5353 section 2): the sender of a message we
// could not decode is still readable.
constexpr std::size_t kEnrpHeader = 12;

ServerIdentifier header_sender(ByteView b) {
  if (b.size() < kEnrpHeader) return 0;
  return static_cast<ServerIdentifier>((std::uint32_t{b[4]} << 24) | (std::uint32_t{b[5]} << 16) |
                                       (std::uint32_t{b[6]} << 8) | std::uint32_t{b[7]});
}
}  // namespace

PeerDirectory::PeerDirectory(DirectoryConfig config) : config_(std::move(config)) {
  if (config_.mentor) {
    auto at = std::find(config_.peers.begin(), config_.peers.end(), *config_.mentor);
    if (at == config_.peers.end()) at = config_.peers.insert(config_.peers.end(), *config_.mentor);
    mentor_slot_ = static_cast<std::size_t>(at - config_.peers.begin());
  }
  for (const auto& p : config_.peers) slots_.push_back(Slot{p, std::nullopt, 0, {}, 0});
  allowed_.insert(config_.allowed.begin(), config_.allowed.end());
  monitors_.insert(config_.monitors.begin(), config_.monitors.end());
}

std::vector<DirectoryAction> PeerDirectory::start(TimePoint now) {
  std::vector<DirectoryAction> out;
  if (config_.mentor || (config_.mentor_from_peers && !slots_.empty())) {
    mentor_wait_ = MentorWait::waiting;
    timers_.arm(TimerKey{TimerKey::Kind::mentor_wait, 0}, now + config_.mentor_wait);
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (auto c = connect_slot(i, now)) out.emplace_back(std::move(*c));
  }
  return out;
}

// Every peer address of the association must belong to the one configured
// peer (or be allowed): an SCTP INIT lists whatever addresses its host has,
// so a tool on the same host as a peer would otherwise pass for that peer.
bool PeerDirectory::trusted_peer(const std::vector<TransportAddress>& remote) const {
  if (config_.accept_any) return true;
  if (remote.empty()) return false;
  const auto all_in = [&](const auto& belongs) {
    return std::all_of(remote.begin(), remote.end(), [&](const TransportAddress& a) { return belongs(a.ip); });
  };
  if (all_in([&](const IpAddress& ip) { return allowed_.count(ip) != 0; })) return true;
  return std::any_of(slots_.begin(), slots_.end(), [&](const Slot& s) {
    return all_in([&](const IpAddress& ip) { return ip == s.address.ip || allowed_.count(ip) != 0; });
  });
}

std::optional<EnrpRole> PeerDirectory::classify(const std::vector<TransportAddress>& remote) const {
  if (trusted_peer(remote)) return EnrpRole::peer;
  if (!remote.empty() && std::all_of(remote.begin(), remote.end(),
                                     [&](const TransportAddress& a) { return monitors_.count(a.ip) != 0; })) {
    return EnrpRole::monitor;
  }
  return std::nullopt;
}

bool PeerDirectory::on_accepted(LinkId link) {
  std::size_t inbound = 0;
  for (const auto& [id, l] : links_) inbound += l.outbound ? 0 : 1;
  if (inbound >= config_.max_links) {
    ++counters_.associations_refused_full;
    return false;
  }
  links_[link] = Link{};
  return true;
}

void PeerDirectory::on_connecting(const ConnectPeer& request, LinkId link, TimePoint now) {
  ++counters_.connects;
  Link l;
  l.outbound = true;
  l.slot = request.slot;
  l.peer = request.expected;
  l.remote = request.to;
  links_[link] = l;
  if (request.slot) {
    Slot& s = slots_[*request.slot];
    s.link = link;
    s.last_presence = now;
  } else if (request.expected != 0) {
    peer_state_[request.expected].link = link;
  }
}

void PeerDirectory::on_connect_failed(const ConnectPeer& request, TimePoint) {
  if (request.slot) ++slots_[*request.slot].failures;
}

std::vector<DirectoryAction> PeerDirectory::on_up(LinkId link, const std::vector<TransportAddress>& remote,
                                                  TimePoint) {
  std::vector<DirectoryAction> out;
  auto it = links_.find(link);
  if (it == links_.end()) return out;
  Link& l = it->second;
  if (!remote.empty()) l.remote = remote.front();
  const auto refuse = [&](DirectoryEvent::Kind why) {
    ++(why == DirectoryEvent::Kind::refused_full ? counters_.associations_refused_full : counters_.associations_refused);
    out.emplace_back(DirectoryEvent{why, link, 0, l.remote, 0});
    links_.erase(it);
    out.emplace_back(AbortLink{link});
    return out;
  };
  if (!l.outbound) {
    const auto role = classify(remote);
    if (!role) return refuse(DirectoryEvent::Kind::refused_untrusted);
    std::size_t inbound = 0, monitors = 0;
    for (const auto& [id, other] : links_) {
      if (id == link || other.outbound || !other.up) continue;
      ++inbound;
      if (other.role == EnrpRole::monitor) ++monitors;
    }
    if (inbound >= config_.max_links || (*role == EnrpRole::monitor && monitors >= config_.max_monitor_links)) {
      return refuse(DirectoryEvent::Kind::refused_full);
    }
    l.role = *role;
  }
  l.up = true;
  if (l.slot) slots_[*l.slot].failures = 0;
  if (l.outbound) {
    if (l.slot) out.emplace_back(SendPresenceOn{link});
  } else {
    ++(l.role == EnrpRole::monitor ? counters_.monitors_accepted : counters_.associations_accepted);
  }
  return out;
}

PeerDirectory::Delivery PeerDirectory::on_message(LinkId link, ByteView raw,
                                                  Result<wire::Decoded<enrp::Message>, wire::DecodeError>& decoded,
                                                  TimePoint now, std::vector<DirectoryAction>& out) {
  auto it = links_.find(link);
  if (it == links_.end()) return {};
  Link& l = it->second;
  const ServerIdentifier sender = decoded ? enrp::sender_id(decoded.value().message) : header_sender(raw);
  if (l.role == EnrpRole::monitor) {
    // A monitor speaks for itself on this association only: answers go
    // back on it; nothing is remembered to connect to, no mentor, no peer.
    if (sender != 0 && sender != config_.self) {
      if (l.peer == 0) {
        l.peer = sender;
      } else if (l.peer != sender) {
        ++counters_.sender_changed;
        out.emplace_back(DirectoryEvent{DirectoryEvent::Kind::sender_changed, link, l.peer, l.remote, 0});
        return {};
      }
    }
    return {true, l.peer, EnrpRole::monitor};
  }
  if (sender != 0 && sender != config_.self) {
    if (l.peer == 0) {
      l.peer = sender;
      if (l.slot) slots_[*l.slot].last_id = sender;
      // A configured peer that connected to us from its ENRP endpoint.
      for (auto& slot : slots_) {
        if (!l.slot && l.remote == slot.address) slot.last_id = sender;
      }
      out.emplace_back(DirectoryEvent{DirectoryEvent::Kind::bound, link, sender, l.remote, 0});
    } else if (l.peer != sender) {
      ++counters_.sender_changed;
      out.emplace_back(DirectoryEvent{DirectoryEvent::Kind::sender_changed, link, l.peer, l.remote, 0});
      return {};
    }
    PeerState& ps = peer_state_[sender];
    ps.link = link;  // answer where it last spoke
    ps.last_heard = now;
    ps.remote = l.remote;
    std::optional<ServerInformation> info;
    if (decoded) {
      auto& m = decoded.value().message;
      if (const auto* p = std::get_if<enrp::Presence>(&m)) {
        ps.checksum = p->pe_checksum;
        if (p->server_information && p->server_information->id == sender &&
            !p->server_information->transport.addresses.empty()) {
          info = p->server_information;
          ps.learned = TransportAddress{p->server_information->transport.addresses.front(),
                                        p->server_information->transport.port};
        }
      } else if (auto* list = std::get_if<enrp::ListResponse>(&m)) {
        filter_list_response(*list, out);
      }
    }
    // Before the core sees this server's first PRESENCE: its checksum
    // would start an audit download that the mentor download must not
    // overlap.
    if (mentor_wait_ == MentorWait::waiting) consider_mentor(l, sender, info, out);
  }
  return {true, l.peer};
}

// The core makes every server of a LIST_RESPONSE a peer and would declare
// one it cannot reach dead and take its PEs over. Keep the servers we may
// talk to (the trust rules apply to them as to associations), and remember
// where they are so route() can connect.
void PeerDirectory::filter_list_response(enrp::ListResponse& list, std::vector<DirectoryAction>& out) {
  const auto before = list.servers.size();
  std::erase_if(list.servers, [&](const ServerInformation& s) {
    if (s.id == config_.self) return false;
    std::vector<TransportAddress> at;
    for (const auto& ip : s.transport.addresses) at.push_back(TransportAddress{ip, s.transport.port});
    if (at.empty() || !trusted_peer(at)) return true;
    PeerState& ps = peer_state_[s.id];
    if (!ps.learned) ps.learned = at.front();
    return false;
  });
  if (list.servers.size() != before) {
    counters_.listed_servers_refused += before - list.servers.size();
    out.emplace_back(DirectoryEvent{DirectoryEvent::Kind::listed_refused, 0, list.sender_id, std::nullopt,
                                    before - list.servers.size()});
  }
}

// Which configured peer is speaking: the slot of our own association to it,
// or the ENRP endpoint its Server Information names (its associations to us
// come from other ports over the TCP mapping).
void PeerDirectory::consider_mentor(const Link& l, ServerIdentifier sender,
                                    const std::optional<ServerInformation>& info, std::vector<DirectoryAction>& out) {
  std::optional<std::size_t> slot = l.slot;
  for (std::size_t i = 0; !slot && i < slots_.size(); ++i) {
    const auto& want = slots_[i].address;
    if (l.remote == want) slot = i;
    if (info && info->transport.port == want.port &&
        std::find(info->transport.addresses.begin(), info->transport.addresses.end(), want.ip) !=
            info->transport.addresses.end()) {
      slot = i;
    }
  }
  if (!slot || (mentor_slot_ && *slot != *mentor_slot_)) return;
  mentor_wait_ = MentorWait::chosen;
  timers_.cancel(TimerKey{TimerKey::Kind::mentor_wait, 0});
  out.emplace_back(DirectoryEvent{DirectoryEvent::Kind::mentor_chosen, 0, sender, slots_[*slot].address, 0});
  out.emplace_back(StartMentorDownload{sender});
}

void PeerDirectory::on_down(LinkId link, bool never_up, TimePoint) {
  auto it = links_.find(link);
  if (it == links_.end()) return;
  const Link l = it->second;
  links_.erase(it);
  if (l.peer != 0) {
    auto ps = peer_state_.find(l.peer);
    if (ps != peer_state_.end() && ps->second.link == link) ps->second.link.reset();
  }
  if (l.slot && slots_[*l.slot].link == link) {
    Slot& s = slots_[*l.slot];
    s.link.reset();  // the slot's timer reconnects
    if (never_up || !l.up) ++s.failures;
  }
}

std::optional<LinkId> PeerDirectory::usable_link(ServerIdentifier peer) const {
  auto ps = peer_state_.find(peer);
  if (ps != peer_state_.end() && ps->second.link && links_.count(*ps->second.link)) return ps->second.link;
  for (const auto& [id, l] : links_) {
    if (l.peer == peer && l.up) return id;
  }
  return std::nullopt;
}

PeerDirectory::Route PeerDirectory::route(ServerIdentifier peer, TimePoint now) {
  Route r;
  r.link = usable_link(peer);
  if (r.link) return r;
  // A connection to a configured peer still coming up carries it once up.
  for (const auto& s : slots_) {
    if (s.last_id == peer && s.link) r.link = s.link;
  }
  if (r.link) return r;
  // A peer we know only by its Server Information: connect if we trust it,
  // at most once per reconnect interval.
  auto ps = peer_state_.find(peer);
  if (ps != peer_state_.end() && ps->second.learned && trusted_peer({*ps->second.learned}) &&
      (!ps->second.last_connect || now - *ps->second.last_connect >= config_.reconnect_interval)) {
    ps->second.last_connect = now;
    const auto slot = std::find_if(slots_.begin(), slots_.end(),
                                   [&](const Slot& s) { return s.address == *ps->second.learned; });
    if (slot != slots_.end()) {
      // A configured peer's endpoint: its slot owns the connection. The
      // slot binds whichever server answers there, which after a restart
      // is a new id; a link preset to the old id would drop its answers
      // and, looking usable, keep the slot from reconnecting.
      const auto i = static_cast<std::size_t>(slot - slots_.begin());
      if (slots_[i].link) {
        r.link = slots_[i].link;
      } else {
        r.connect = connect_slot(i, now);
      }
    } else {
      r.connect = ConnectPeer{std::nullopt, *ps->second.learned, peer};
    }
    return r;
  }
  ++counters_.unroutable;
  return r;
}

std::optional<ConnectPeer> PeerDirectory::connect_slot(std::size_t i, TimePoint now) {
  Slot& s = slots_[i];
  // Another association already carries this peer (it connected to us):
  // one is enough; look again at the next retry.
  bool reachable = s.last_id != 0 && usable_link(s.last_id).has_value();
  for (const auto& [id, l] : links_) reachable = reachable || (l.up && l.remote == s.address);
  arm_slot(i, now);
  if (s.link || reachable) return std::nullopt;
  return ConnectPeer{i, s.address, 0};
}

void PeerDirectory::arm_slot(std::size_t i, TimePoint now) {
  const auto backoff = 1U << std::min(slots_[i].failures, 3U);
  timers_.arm(TimerKey{TimerKey::Kind::slot, i}, now + config_.reconnect_interval * backoff);
}

void PeerDirectory::slot_timer(std::size_t i, TimePoint now, std::vector<DirectoryAction>& out) {
  Slot& s = slots_[i];
  if (s.link) {
    // Connected but the peer never answered: ask again once per heartbeat cycle.
    auto l = links_.find(*s.link);
    if (l != links_.end() && l->second.up && l->second.peer == 0 && now - s.last_presence >= config_.presence_retry) {
      out.emplace_back(SendPresenceOn{*s.link});
      s.last_presence = now;
    }
    arm_slot(i, now);
    return;
  }
  if (auto c = connect_slot(i, now)) out.emplace_back(std::move(*c));
}

std::vector<DirectoryAction> PeerDirectory::on_timeout(TimePoint now) {
  std::vector<DirectoryAction> out;
  while (auto key = timers_.take_due(now)) {
    if (key->kind == TimerKey::Kind::mentor_wait) {
      if (mentor_wait_ == MentorWait::waiting) {
        mentor_wait_ = MentorWait::timed_out;
        out.emplace_back(DirectoryEvent{DirectoryEvent::Kind::mentor_timed_out, 0, 0, config_.mentor, 0});
      }
    } else {
      slot_timer(key->slot, now, out);
    }
  }
  return out;
}

std::vector<DirectoryPeer> PeerDirectory::peers() const {
  std::map<ServerIdentifier, DirectoryPeer> by_id;
  std::vector<DirectoryPeer> out;
  for (const auto& [id, st] : peer_state_) {
    DirectoryPeer v;
    v.id = id;
    v.address = st.remote ? st.remote : st.learned;
    v.last_heard = st.last_heard;
    v.last_checksum = st.checksum;
    if (st.link) {
      auto l = links_.find(*st.link);
      v.association_up = l != links_.end() && l->second.up;
    }
    by_id[id] = v;
  }
  for (const auto& slot : slots_) {
    if (slot.last_id != 0 && by_id.count(slot.last_id)) {
      auto& v = by_id[slot.last_id];
      v.configured = true;
      v.address = slot.address;
      continue;
    }
    DirectoryPeer v;
    v.configured = true;
    v.address = slot.address;
    if (slot.link) {
      auto l = links_.find(*slot.link);
      v.association_up = l != links_.end() && l->second.up;
    }
    out.push_back(v);
  }
  for (auto& [id, v] : by_id) out.push_back(v);
  return out;
}

}  // namespace rserpool::registrar
