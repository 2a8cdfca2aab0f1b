// RegistrarServer: life of the driver, execution of the core's actions and
// its named timers.
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <utility>

#include "server_impl.hpp"

namespace rserpool::registrar {
namespace detail {

namespace asio = boost::asio;

std::vector<IpAddress> ips_of(const std::vector<TransportAddress>& addresses) {
  std::vector<IpAddress> ips;
  ips.reserve(addresses.size());
  for (const auto& a : addresses) {
    if (std::find(ips.begin(), ips.end(), a.ip) == ips.end()) ips.push_back(a.ip);
  }
  return ips;
}

ServerState::ServerState(asio::io_context& io_context, ServerConfig config)
    : io(io_context), cfg(std::move(config)), core(cfg.core), log(log::get("registrar")) {}

transport::EndpointConfig ServerState::endpoint(const std::vector<IpAddress>& local, std::uint16_t port,
                                                std::string name) const {
  transport::EndpointConfig e;
  e.local_addresses = local;
  e.local_port = port;
  e.kind = kind;
  if (cfg.aggressive_transport) {
    e.sctp = transport::SctpOptions::aggressive();
    e.tcp = transport::TcpMappingOptions::aggressive();
  }
  e.name = std::move(name);
  return e;
}

Result<void, std::string> ServerState::open() {
  if (cfg.core.server_id == 0) return unexpected(std::string("server id must not be 0 (RFC 5353 2.2)"));
  if (cfg.kind == transport::TransportKind::sctp && !transport::kernel_sctp_available()) {
    return unexpected(std::string("transport sctp requested but this kernel has no SCTP"));
  }
  kind = transport::resolve_kind(cfg.kind);
  std::weak_ptr<ServerState> weak = weak_from_this();

  auto asap_cfg = endpoint(cfg.asap_addresses, cfg.asap_port, cfg.name + "/asap");
  auto al = transport::Listener::open(io, asap_cfg, [weak](const std::shared_ptr<transport::Association>& a) {
    auto s = weak.lock();
    return s ? s->accept_asap(a) : nullptr;
  });
  if (!al) return unexpected("cannot listen for ASAP on port " + std::to_string(cfg.asap_port) + ": " + al.error().message());
  asap_listener = *al;
  asap_port = asap_listener->port();

  auto enrp_cfg = endpoint(cfg.enrp_addresses, cfg.enrp_port, cfg.name + "/enrp");
  // Lets our associations to peers start from this port (enrp_side.cpp).
  enrp_cfg.reuse_port = kind == transport::TransportKind::sctp;
  auto el = transport::Listener::open(io, enrp_cfg, [weak](const std::shared_ptr<transport::Association>& a) {
    auto s = weak.lock();
    return s ? s->accept_enrp(a) : nullptr;
  });
  if (!el) {
    asap_listener->close();
    return unexpected("cannot listen for ENRP on port " + std::to_string(cfg.enrp_port) + ": " + el.error().message());
  }
  enrp_listener = *el;
  enrp_port = enrp_listener->port();

  // Peers and PEs learn where to reach our ENRP endpoint from PRESENCE and
  // LIST_RESPONSE; a wildcard bind has no address worth advertising.
  if (!cfg.core.enrp_transport && !cfg.enrp_addresses.empty()) {
    TransportParameter t;
    t.protocol = TransportProtocol::sctp;
    t.port = enrp_port;
    t.addresses = cfg.enrp_addresses;
    cfg.core.enrp_transport = t;
  }
  if (cfg.mentor) {
    auto at = std::find(cfg.enrp_peers.begin(), cfg.enrp_peers.end(), *cfg.mentor);
    if (at == cfg.enrp_peers.end()) at = cfg.enrp_peers.insert(cfg.enrp_peers.end(), *cfg.mentor);
    mentor_slot = static_cast<std::size_t>(at - cfg.enrp_peers.begin());
  }
  for (const auto& p : cfg.enrp_peers) trusted.insert(p.ip);
  for (const auto& a : cfg.enrp_allowed) trusted.insert(a);

  // The core only knows server ids; configured peers are addresses whose
  // ids we learn when they speak, so the core starts with no static peers.
  core = Registrar(cfg.core);
  started_at = Clock::now();
  log->info("{}: server id {:08x}, ASAP {} port {}, ENRP port {}, {} configured peer(s)", cfg.name, cfg.core.server_id,
            transport::to_string(kind), asap_port, enrp_port, cfg.enrp_peers.size());
  execute(core.start(Clock::now()));
  for (std::size_t i = 0; i < cfg.enrp_peers.size(); ++i) {
    Slot s;
    s.address = cfg.enrp_peers[i];
    s.retry = std::make_unique<asio::steady_timer>(io);
    slots.push_back(std::move(s));
  }
  start_mentor_wait();
  for (std::size_t i = 0; i < slots.size(); ++i) connect_slot(i);
  if (auto r = open_announces(); !r) {
    stop();
    return r;
  }
  return {};
}

void ServerState::stop() {
  if (stopped) return;
  stopped = true;
  if (asap_listener) asap_listener->close();
  if (enrp_listener) enrp_listener->close();
  for (auto& [key, t] : timers) t->cancel();
  timers.clear();
  for (auto& s : slots) {
    if (s.retry) s.retry->cancel();
  }
  if (announce_timer) announce_timer->cancel();
  if (mentor_timer) mentor_timer->cancel();
  if (announcer) announcer->close();
  // close() notifies on_down later, from the io thread; copy the handles
  // first since the maps shrink as that happens.
  std::vector<std::shared_ptr<transport::Association>> all;
  for (auto& [id, l] : asap) all.push_back(l.association);
  for (auto& [id, l] : enrp) all.push_back(l.association);
  for (auto& a : all) a->close();
  log->info("{}: stopped ({} ASAP and {} ENRP associations closing)", cfg.name, asap.size(), enrp.size());
}

void ServerState::execute(std::vector<Action>&& actions) {
  if (stopped) return;
  for (auto& action : actions) {
    if (auto* s = std::get_if<SendAsap>(&action)) {
      send_asap(s->association, std::move(s->message));
    } else if (auto* e = std::get_if<SendEnrp>(&action)) {
      send_enrp(e->peer, std::move(e->message));
    } else if (auto* t = std::get_if<StartTimer>(&action)) {
      start_timer(t->key, t->at);
    } else if (auto* st = std::get_if<StopTimer>(&action)) {
      stop_timer(st->key);
    } else if (auto* n = std::get_if<Notify>(&action)) {
      notify(*n);
    } else if (auto* el = std::get_if<SendAsapToElement>(&action)) {
      send_asap_to_element(std::move(*el));
    }
  }
}

void ServerState::start_timer(const TimerKey& key, TimePoint at) {
  auto& t = timers[key];
  if (!t) t = std::make_unique<asio::steady_timer>(io);
  t->expires_at(at);
  t->async_wait([weak = weak_from_this(), key](const boost::system::error_code& ec) {
    if (ec) return;
    auto s = weak.lock();
    if (!s || s->stopped) return;
    ++s->counters.timers_fired;
    // A fire that raced with a re-arm is harmless: the core acts on what is due.
    s->execute(s->core.on_timer(key, Clock::now()));
  });
}

void ServerState::stop_timer(const TimerKey& key) {
  auto it = timers.find(key);
  if (it == timers.end()) return;
  it->second->cancel();
  timers.erase(it);
}

void ServerState::notify(const Notify& n) {
  ++counters.notifications;
  switch (n.event) {
    case Event::pe_registered:
    case Event::pe_reregistered:
    case Event::pe_deregistered:
      // The hot path: build no pool name text unless it is logged.
      if (log->should_log(spdlog::level::debug)) {
        log->debug("{}: {} pool '{}' PE {:08x}", cfg.name, to_string(n.event), n.pool.to_string(), n.pe);
      }
      break;
    case Event::pe_expired:
    case Event::pe_keep_alive_timeout:
    case Event::pe_unreachable_removed:
    case Event::pe_association_lost:
      log->info("{}: {} pool '{}' PE {:08x}", cfg.name, to_string(n.event), n.pool.to_string(), n.pe);
      break;
    case Event::peer_dead:
    case Event::takeover_aborted:
      log->warn("{}: {} server {:08x}", cfg.name, to_string(n.event), n.server);
      break;
    default:
      log->info("{}: {} server {:08x}", cfg.name, to_string(n.event), n.server);
      break;
  }
  if (on_event) on_event(n);
}

}  // namespace detail

RegistrarServer::RegistrarServer(std::shared_ptr<detail::ServerState> state) : impl_(std::move(state)) {}

Result<std::unique_ptr<RegistrarServer>, std::string> RegistrarServer::start(boost::asio::io_context& io,
                                                                             ServerConfig cfg) {
  auto state = std::make_shared<detail::ServerState>(io, std::move(cfg));
  if (auto r = state->open(); !r) return unexpected(r.error());
  return std::unique_ptr<RegistrarServer>(new RegistrarServer(std::move(state)));
}

RegistrarServer::~RegistrarServer() { stop(); }
void RegistrarServer::stop() { impl_->stop(); }
std::uint16_t RegistrarServer::asap_port() const { return impl_->asap_port; }
std::uint16_t RegistrarServer::enrp_port() const { return impl_->enrp_port; }
transport::TransportKind RegistrarServer::kind() const { return impl_->kind; }
const Registrar& RegistrarServer::core() const { return impl_->core; }
ServerIdentifier RegistrarServer::id() const { return impl_->core.id(); }
const ServerConfig& RegistrarServer::config() const { return impl_->cfg; }
const ServerCounters& RegistrarServer::counters() const { return impl_->counters; }
std::chrono::steady_clock::time_point RegistrarServer::started_at() const { return impl_->started_at; }
std::size_t RegistrarServer::asap_association_count() const { return impl_->asap.size(); }
Synchronisation RegistrarServer::synchronisation() const {
  const auto& s = *impl_;
  Synchronisation out;
  out.download = s.core.mentor_download();
  out.mentor_address = s.cfg.mentor;
  out.mentor_timed_out = s.mentor_wait == detail::ServerState::MentorWait::timed_out;
  using D = MentorDownload::State;
  if (s.mentor_wait == detail::ServerState::MentorWait::waiting) {
    out.state = Synchronisation::State::awaiting_mentor;
  } else if (out.download.state == D::downloading || out.download.state == D::queued) {
    out.state = Synchronisation::State::downloading;
  }
  return out;
}
void RegistrarServer::set_event_handler(std::function<void(const Notify&)> handler) {
  impl_->on_event = std::move(handler);
}

std::vector<PeerView> RegistrarServer::peers() const {
  const auto& s = *impl_;
  std::map<ServerIdentifier, PeerView> by_id;
  std::vector<PeerView> out;
  for (const auto& [id, st] : s.peer_state) {
    PeerView v;
    v.id = id;
    v.address = st.remote ? st.remote : st.learned;
    v.active = s.core.peer_active(id);
    v.last_heard = st.last_heard;
    v.last_checksum = st.checksum;
    v.owned_pes = s.core.handlespace().owned_count(id);
    if (st.link) {
      auto l = s.enrp.find(*st.link);
      v.association_up = l != s.enrp.end() && l->second.up;
    }
    by_id[id] = v;
  }
  for (const auto& slot : s.slots) {
    if (slot.last_id != 0 && by_id.count(slot.last_id)) {
      auto& v = by_id[slot.last_id];
      v.configured = true;
      v.address = slot.address;
      continue;
    }
    PeerView v;
    v.configured = true;
    v.address = slot.address;
    if (slot.link) {
      auto l = s.enrp.find(*slot.link);
      v.association_up = l != s.enrp.end() && l->second.up;
    }
    out.push_back(v);
  }
  for (auto& [id, v] : by_id) out.push_back(v);
  // Also peers the core knows only from others (LIST_RESPONSE, updates).
  for (ServerIdentifier id : s.core.active_peers()) {
    if (by_id.count(id)) continue;
    PeerView v;
    v.id = id;
    v.active = true;
    v.owned_pes = s.core.handlespace().owned_count(id);
    out.push_back(v);
  }
  return out;
}

}  // namespace rserpool::registrar
