// ENRP side of the driver: which associations may carry ENRP (allow-list),
// which server id speaks on each, where a SendEnrp goes, and keeping an
// association to every configured peer.
//
// Peers are configured by address, but the core names them by server id:
// an association is bound to the id in the sender field of the first message
// it carries, and a different id later on the same association is refused
// (one association cannot speak for two servers). A PRESENCE we send
// ourselves when an association to a configured peer comes up makes the
// peer answer, which binds it.
#include <algorithm>
#include <utility>

#include "rserpool/wire/enrp.hpp"
#include "server_impl.hpp"

namespace rserpool::registrar::detail {

namespace {

std::shared_ptr<transport::AssociationHandler> enrp_handler(std::weak_ptr<ServerState> s) {
  return make_link_handler(std::move(s), &ServerState::enrp_up, &ServerState::enrp_message,
                           &ServerState::enrp_send_failed, &ServerState::enrp_down);
}

// Every ENRP message starts with type, flags, length, sending server id and
// receiving server id (RFC 5353 section 2).
constexpr std::size_t kEnrpHeader = 12;
constexpr std::uint8_t kPresenceType = 0x01;
constexpr std::uint8_t kListResponseType = 0x06;

Result<std::shared_ptr<transport::Association>, std::error_code> unexpected_error() {
  return unexpected(std::make_error_code(std::errc::not_connected));
}

ServerIdentifier read_u32(ByteView b, std::size_t at) {
  return static_cast<ServerIdentifier>((std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
                                       (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]});
}

}  // namespace

bool ServerState::allowed_peer(const std::vector<TransportAddress>& remote) const {
  if (cfg.accept_unconfigured_peers) return true;
  return std::any_of(remote.begin(), remote.end(), [&](const TransportAddress& a) { return trusted.count(a.ip) != 0; });
}

std::shared_ptr<transport::AssociationHandler> ServerState::accept_enrp(
    const std::shared_ptr<transport::Association>& a) {
  if (stopped) return nullptr;
  EnrpLink l;
  l.association = a;
  enrp[a->id()] = std::move(l);
  return enrp_handler(weak_from_this());
}

std::optional<std::uint64_t> ServerState::connect_enrp(const std::vector<IpAddress>& addresses, std::uint16_t port,
                                                       std::optional<std::size_t> slot, ServerIdentifier peer) {
  // rspregistrar only takes a PRESENCE's Server Information from an
  // association whose source is that endpoint (addresses and port), as its
  // own one-to-many socket does: over SCTP we connect from our ENRP port.
  // The TCP mapping cannot share a listening port; it connects from an
  // ephemeral one (our own peers do not mind).
  auto ep = endpoint({}, 0, cfg.name + "/enrp-peer");
  ep.remote_addresses = addresses;
  ep.remote_port = port;
  ++counters.enrp_connects;
  auto a = unexpected_error();
  if (kind == transport::TransportKind::sctp) {
    auto bound = ep;
    bound.local_addresses = cfg.enrp_addresses;
    bound.local_port = enrp_port;
    bound.reuse_port = true;
    a = transport::connect(io, bound, enrp_handler(weak_from_this()));
    if (!a) {
      log->debug("{}: cannot connect from ENRP port {} ({}): using an ephemeral port", cfg.name, enrp_port,
                 a.error().message());
    }
  }
  if (!a) a = transport::connect(io, ep, enrp_handler(weak_from_this()));
  if (!a) {
    ++counters.enrp_connect_failures;
    log->warn("{}: cannot connect to ENRP peer {}:{}: {}", cfg.name,
              addresses.empty() ? std::string("?") : addresses.front().to_string(), port, a.error().message());
    return std::nullopt;
  }
  EnrpLink l;
  l.association = *a;
  l.outbound = true;
  l.slot = slot;
  l.peer = peer;
  if (!addresses.empty()) l.remote = TransportAddress{addresses.front(), port};
  const auto id = (*a)->id();
  enrp[id] = std::move(l);
  return id;
}

void ServerState::connect_slot(std::size_t i) {
  if (stopped) return;
  Slot& s = slots[i];
  // Another association already carries this peer (it connected to us):
  // one is enough; look again at the next retry.
  bool reachable = s.last_id != 0 && usable_link(s.last_id).has_value();
  for (const auto& [id, l] : enrp) reachable = reachable || (l.up && l.remote == s.address);
  if (!s.link && !reachable) {
    s.link = connect_enrp({s.address.ip}, s.address.port, i, 0);
    if (s.link) s.last_presence = Clock::now();
  }
  arm_slot(i);
}

void ServerState::arm_slot(std::size_t i) {
  Slot& s = slots[i];
  s.retry->expires_after(cfg.peer_reconnect_interval * (1U << std::min(s.failures, 4U)));
  s.retry->async_wait([weak = weak_from_this(), i](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto st = weak.lock()) st->on_slot_timer(i);
  });
}

void ServerState::on_slot_timer(std::size_t i) {
  if (stopped) return;
  Slot& s = slots[i];
  if (s.link) {
    // Connected but the peer never answered: ask again once per heartbeat cycle.
    auto l = enrp.find(*s.link);
    if (l != enrp.end() && l->second.up && l->second.peer == 0 &&
        Clock::now() - s.last_presence >= cfg.core.peer_heartbeat_cycle) {
      send_presence_on(l->second);
      s.last_presence = Clock::now();
    }
    arm_slot(i);
    return;
  }
  connect_slot(i);
}

void ServerState::send_presence_on(EnrpLink& link) {
  wire::enrp::Presence p;
  p.sender_id = core.id();
  p.receiver_id = link.peer;
  p.reply_required = true;
  p.pe_checksum = core.handlespace().pe_checksum(core.id());
  if (cfg.core.enrp_transport) p.server_information = ServerInformation{core.id(), *cfg.core.enrp_transport};
  auto r = link.association->send(transport::Message{kEnrpPpid, 0, false, wire::enrp::encode(p)});
  if (r) {
    ++counters.enrp_messages_sent;
  } else {
    ++counters.enrp_send_failures;
  }
}

void ServerState::enrp_up(transport::Association& a, const transport::AssociationInfo& info) {
  auto it = enrp.find(a.id());
  if (it == enrp.end() || stopped) return;
  EnrpLink& l = it->second;
  if (!info.remote.empty()) l.remote = info.remote.front();
  if (!l.outbound && !allowed_peer(info.remote)) {
    ++counters.enrp_associations_refused;
    log->warn("{}: refused ENRP association from {} (not a configured or allowed peer)", cfg.name,
              info.remote.empty() ? std::string("?") : info.remote.front().to_string());
    enrp.erase(it);
    a.abort();
    return;
  }
  l.up = true;
  if (l.slot) slots[*l.slot].failures = 0;
  if (l.outbound) {
    log->info("{}: ENRP association {} to {} up", cfg.name, a.id(), l.remote ? l.remote->to_string() : "?");
    if (l.slot) send_presence_on(l);
  } else {
    ++counters.enrp_associations_accepted;
    log->info("{}: ENRP association {} from {} accepted", cfg.name, a.id(), l.remote ? l.remote->to_string() : "?");
  }
}

void ServerState::enrp_message(transport::Association& a, transport::Message&& m) {
  auto it = enrp.find(a.id());
  if (it == enrp.end() || stopped) return;
  EnrpLink& l = it->second;
  if (m.ppid != kEnrpPpid && m.ppid != 0) {
    ++counters.enrp_wrong_ppid;
    return;
  }
  ++counters.enrp_messages_received;
  const ByteView b = m.payload;
  const auto now = Clock::now();
  ServerIdentifier sender = 0;
  if (b.size() >= kEnrpHeader) sender = read_u32(b, 4);
  if (sender != 0 && sender != core.id()) {
    if (l.peer == 0) {
      l.peer = sender;
      if (l.slot) slots[*l.slot].last_id = sender;
      // A configured peer that connected to us from its ENRP endpoint.
      for (auto& slot : slots) {
        if (!l.slot && l.remote == slot.address) slot.last_id = sender;
      }
      log->info("{}: ENRP association {} speaks for server {:08x}", cfg.name, a.id(), sender);
    } else if (l.peer != sender) {
      ++counters.enrp_sender_changed;
      log->warn("{}: ENRP association {} bound to server {:08x} carried a message from {:08x}: dropped", cfg.name,
                a.id(), l.peer, sender);
      return;
    }
    PeerState& ps = peer_state[sender];
    ps.link = a.id();  // answer where it last spoke
    ps.last_heard = now;
    ps.remote = l.remote;
    std::optional<ServerInformation> info;
    if (b[0] == kPresenceType) {
      if (auto d = wire::enrp::decode(b)) {
        const auto& p = std::get<wire::enrp::Presence>(d.value().message);
        ps.checksum = p.pe_checksum;
        if (p.server_information && p.server_information->id == sender &&
            !p.server_information->transport.addresses.empty()) {
          info = p.server_information;
          ps.learned = TransportAddress{p.server_information->transport.addresses.front(),
                                        p.server_information->transport.port};
        }
      }
    } else if (b[0] == kListResponseType) {
      filter_list_response(m.payload);
    }
    // Before the core sees this server's first PRESENCE: its checksum
    // would start an audit download that the mentor download must not
    // overlap.
    if (mentor_wait == MentorWait::waiting) consider_mentor(l, sender, info);
  }
  execute(core.on_enrp_message(m.payload, now, l.peer));
}

// The core makes every server of a LIST_RESPONSE a peer and would declare
// one it cannot reach dead and take its PEs over. Keep the servers we may
// talk to (the allow-list applies to them as to associations), and remember
// where they are so SendEnrp can connect.
void ServerState::filter_list_response(Bytes& message) {
  auto d = wire::enrp::decode(message);
  if (!d) return;
  auto& list = std::get<wire::enrp::ListResponse>(d.value().message);
  const auto before = list.servers.size();
  std::erase_if(list.servers, [&](const ServerInformation& s) {
    if (s.id == core.id()) return false;
    std::vector<TransportAddress> at;
    for (const auto& ip : s.transport.addresses) at.push_back(TransportAddress{ip, s.transport.port});
    if (at.empty() || !allowed_peer(at)) return true;
    PeerState& ps = peer_state[s.id];
    if (!ps.learned) ps.learned = at.front();
    return false;
  });
  if (list.servers.size() != before) {
    counters.enrp_listed_servers_refused += before - list.servers.size();
    log->info("{}: LIST_RESPONSE from {:08x}: {} server(s) outside the allow-list ignored", cfg.name, list.sender_id,
              before - list.servers.size());
    message = wire::enrp::encode(list);
  }
}

void ServerState::start_mentor_wait() {
  if (!cfg.mentor && !(cfg.mentor_from_peers && !cfg.enrp_peers.empty())) return;
  mentor_wait = MentorWait::waiting;
  mentor_timer = std::make_unique<boost::asio::steady_timer>(io);
  mentor_timer->expires_after(cfg.mentor_wait);
  mentor_timer->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    auto s = weak.lock();
    if (!s || s->stopped || s->mentor_wait != MentorWait::waiting) return;
    s->mentor_wait = MentorWait::timed_out;
    s->log->warn("{}: no mentor answered within {} ms: starting with our own handlespace (the checksum audit "
                 "brings peers' PEs)",
                 s->cfg.name, s->cfg.mentor_wait.count());
  });
}

// Which configured peer is speaking: the slot of our own association to it,
// or the ENRP endpoint its Server Information names (its associations to us
// come from other ports over the TCP mapping).
void ServerState::consider_mentor(const EnrpLink& l, ServerIdentifier sender,
                                  const std::optional<ServerInformation>& info) {
  std::optional<std::size_t> slot = l.slot;
  for (std::size_t i = 0; !slot && i < slots.size(); ++i) {
    const auto& want = slots[i].address;
    if (l.remote == want) slot = i;
    if (info && info->transport.port == want.port &&
        std::find(info->transport.addresses.begin(), info->transport.addresses.end(), want.ip) !=
            info->transport.addresses.end()) {
      slot = i;
    }
  }
  if (!slot || (mentor_slot && *slot != *mentor_slot)) return;
  mentor_wait = MentorWait::chosen;
  if (mentor_timer) mentor_timer->cancel();
  log->info("{}: mentor {} is server {:08x}: downloading its handlespace", cfg.name,
            slots[*slot].address.to_string(), sender);
  execute(core.start_mentor_download(sender, Clock::now()));
}

void ServerState::enrp_send_failed(transport::Association& a, std::size_t count) {
  counters.enrp_send_failures += count;
  log->debug("{}: ENRP association {}: {} message(s) not delivered", cfg.name, a.id(), count);
}

void ServerState::enrp_down(transport::Association& a, transport::DownReason why) {
  auto it = enrp.find(a.id());
  if (it == enrp.end()) return;
  const EnrpLink l = std::move(it->second);
  enrp.erase(it);
  if (l.up || l.outbound) {
    log->info("{}: ENRP association {} ({}) down: {}", cfg.name, a.id(), l.remote ? l.remote->to_string() : "?",
              transport::to_string(why));
  }
  if (why == transport::DownReason::connect_failed) ++counters.enrp_connect_failures;
  if (l.peer != 0) {
    auto ps = peer_state.find(l.peer);
    if (ps != peer_state.end() && ps->second.link == a.id()) ps->second.link.reset();
  }
  if (l.slot && slots[*l.slot].link == a.id()) {
    Slot& s = slots[*l.slot];
    s.link.reset();  // the retry timer reconnects
    if (!l.up) ++s.failures;
  }
}

std::optional<std::uint64_t> ServerState::usable_link(ServerIdentifier peer) {
  auto ps = peer_state.find(peer);
  if (ps != peer_state.end() && ps->second.link && enrp.count(*ps->second.link)) return ps->second.link;
  for (const auto& [id, l] : enrp) {
    if (l.peer == peer && l.up) return id;
  }
  return std::nullopt;
}

// The core sends Server Information only when answering a reply-required
// PRESENCE (RFC 5353 makes it optional otherwise), but rspregistrar rejects
// a PRESENCE without it ("invalid message", ENRP_ERROR). Add it to all.
void ServerState::add_server_information(Bytes& message) const {
  if (message.empty() || message[0] != kPresenceType || !cfg.core.enrp_transport) return;
  auto d = wire::enrp::decode(message);
  if (!d) return;
  auto& p = std::get<wire::enrp::Presence>(d.value().message);
  if (p.server_information) return;
  p.server_information = ServerInformation{core.id(), *cfg.core.enrp_transport};
  message = wire::enrp::encode(p);
}

void ServerState::send_enrp(ServerIdentifier peer, Bytes&& message) {
  auto link = usable_link(peer);
  if (!link) {
    // A connection to a configured peer still coming up carries it once up.
    for (const auto& s : slots) {
      if (s.last_id == peer && s.link) link = s.link;
    }
  }
  if (!link) {
    // A peer we know only by its Server Information: connect if we trust it,
    // at most once per reconnect interval.
    auto ps = peer_state.find(peer);
    const auto now = Clock::now();
    if (ps != peer_state.end() && ps->second.learned && allowed_peer({*ps->second.learned}) &&
        now - ps->second.last_connect >= cfg.peer_reconnect_interval) {
      ps->second.last_connect = now;
      const auto slot = std::find_if(slots.begin(), slots.end(),
                                     [&](const Slot& s) { return s.address == *ps->second.learned; });
      if (slot != slots.end()) {
        // A configured peer's endpoint: its slot owns the connection. The
        // slot binds whichever server answers there, which after a restart
        // is a new id; a link preset to the old id would drop its answers
        // and, looking usable, keep the slot from reconnecting.
        const auto i = static_cast<std::size_t>(slot - slots.begin());
        if (!slots[i].link) connect_slot(i);
        link = slots[i].link;
      } else {
        link = connect_enrp({ps->second.learned->ip}, ps->second.learned->port, std::nullopt, peer);
        if (link) ps->second.link = link;
      }
    }
  }
  if (!link) {
    ++counters.enrp_unroutable;
    log->debug("{}: no association to server {:08x}: ENRP message dropped", cfg.name, peer);
    return;
  }
  auto& l = enrp.at(*link);
  add_server_information(message);
  auto r = l.association->send(transport::Message{kEnrpPpid, 0, false, std::move(message)});
  if (!r) {
    ++counters.enrp_send_failures;
    return;
  }
  ++counters.enrp_messages_sent;
}

}  // namespace rserpool::registrar::detail
