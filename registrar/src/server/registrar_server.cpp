// RegistrarServer: life of the driver, and the execution of the two cores'
// actions (Registrar, PeerDirectory) with one OS timer each.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <utility>

#include "rserpool/base/buffer_pool.hpp"
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

namespace {
DirectoryConfig directory_config(const ServerConfig& c) {
  DirectoryConfig d;
  d.self = c.core.server_id;
  d.peers = c.enrp_peers;
  d.allowed = c.enrp_allowed;
  d.accept_any = c.accept_unconfigured_peers;
  d.monitors = c.enrp_monitors;
  d.max_links = c.max_enrp_links;
  d.max_monitor_links = c.max_monitor_links;
  d.mentor = c.mentor;
  d.mentor_from_peers = c.mentor_from_peers;
  d.mentor_wait = c.mentor_wait;
  d.reconnect_interval = c.peer_reconnect_interval;
  d.presence_retry = c.core.peer_heartbeat_cycle;
  return d;
}
}  // namespace

ServerState::ServerState(asio::io_context& io_context, ServerConfig config)
    : io(io_context),
      cfg(std::move(config)),
      clock(cfg.clock != nullptr ? cfg.clock : &SteadyClock::instance()),
      core(cfg.core),
      directory(directory_config(cfg)),
      outbound(cfg.outbound),
      core_timer(io_context, *clock, [this] { core_expired(); }),
      directory_timer(io_context, *clock, [this] { directory_expired(); }),
      log(log::get("registrar")) {}

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
  if (cfg.sctp) e.sctp = *cfg.sctp;
  // The policy for a peer that does not read lives in OutboundQueues (the
  // core): the transport's own bound is only a backstop above the largest
  // class bound, or it would refuse sends before the core has decided.
  const auto& o = cfg.outbound;
  const std::size_t messages = std::max(o.asap.max_messages, o.enrp.max_messages);
  const std::size_t bytes = std::max(o.asap.max_bytes, o.enrp.max_bytes);
  if (messages != 0) e.send_queue_limit = std::max(e.send_queue_limit, messages + 64);
  if (bytes != 0) e.send_queue_bytes = std::max(e.send_queue_bytes, bytes + 256 * 1024);
  e.name = std::move(name);
  return e;
}

namespace {
// "127.0.0.1 port 3863", "all addresses port 0": what we tried to bind.
std::string where(const std::vector<IpAddress>& addresses, std::uint16_t port) {
  std::string s;
  for (const auto& a : addresses) s += (s.empty() ? "" : ",") + a.to_string();
  return (s.empty() ? std::string("all addresses") : s) + " port " + std::to_string(port);
}
}  // namespace

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
  if (!al) {
    return unexpected("cannot listen for ASAP on " + where(cfg.asap_addresses, cfg.asap_port) + ": " +
                      al.error().message());
  }
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
    return unexpected("cannot listen for ENRP on " + where(cfg.enrp_addresses, cfg.enrp_port) + ": " +
                      el.error().message());
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
  // The core only knows server ids; configured peers are addresses whose
  // ids the directory learns when they speak, so the core starts with no
  // static peers.
  core = Registrar(cfg.core);
  started_at = now();
  log->info("{}: server id {:08x}, ASAP {} port {}, ENRP port {}, {} configured peer(s)", cfg.name, cfg.core.server_id,
            transport::to_string(kind), asap_port, enrp_port, cfg.enrp_peers.size());
  execute(core.start(now()));
  execute(directory.start(now()));
  if (auto r = open_announces(); !r) {
    stop();
    return r;
  }
  return {};
}

void ServerState::stop() {
  if (stopped) return;
  stopped = true;
  // The owner may be gone once stop() returns (the gateway's destructor
  // stops its co-located registrar): the associations still closing must
  // not call back into it.
  on_event = nullptr;
  if (asap_listener) asap_listener->close();
  if (enrp_listener) enrp_listener->close();
  core_timer.cancel();
  directory_timer.cancel();
  if (announce_timer) announce_timer->cancel();
  if (trim_timer) trim_timer->cancel();
  if (announcer) announcer->close();
  // close() notifies on_down later, from the io thread; copy the handles
  // first since the maps shrink as that happens.
  std::vector<std::shared_ptr<transport::Association>> all;
  for (auto& [id, l] : asap) all.push_back(l.association);
  for (auto& [id, a] : enrp) all.push_back(a);
  for (auto& a : all) a->close();
  log->info("{}: stopped ({} ASAP and {} ENRP associations closing)", cfg.name, asap.size(), enrp.size());
}

void ServerState::execute(std::vector<Action>&& actions) {
  if (stopped) return;
  for (auto& action : actions) {
    if (auto* s = std::get_if<SendAsap>(&action)) {
      send_asap(s->association, s->message);
    } else if (auto* e = std::get_if<SendEnrp>(&action)) {
      send_enrp(e->peer, e->message);
    } else if (auto* n = std::get_if<Notify>(&action)) {
      notify(*n);
    } else if (auto* el = std::get_if<SendAsapToElement>(&action)) {
      send_asap_to_element(std::move(*el));
    } else if (auto* ab = std::get_if<AbortAsap>(&action)) {
      abort_asap(ab->association);
    }
  }
  core.recycle(std::move(actions));  // the next event's actions reuse its capacity
  arm_timers();
}

void ServerState::account_sent(transport::Association& a, LinkClass cls, std::size_t bytes) {
  const auto abort = outbound.on_sent(a.id(), cls, bytes, a.queued());
  if (!abort) return;
  const char* why = abort->reason == OutboundQueues::Reason::messages ? "messages"
                    : abort->reason == OutboundQueues::Reason::bytes  ? "bytes"
                                                                       : "total of all associations";
  const bool asap_link = asap.count(abort->link) != 0;
  (asap_link ? counters.asap_aborted_send_queue : counters.enrp_aborted_send_queue) += 1;
  limited(spdlog::level::warn, "send queue bound",
          "{}: {} association {} does not read: {} messages, {} bytes held (bound: {}): aborted", cfg.name,
          asap_link ? "ASAP" : "ENRP", abort->link, abort->held_messages, abort->held_bytes, why);
  released(abort->held_bytes);
  if (asap_link) {
    if (auto it = asap.find(abort->link); it != asap.end()) it->second.association->abort();
  } else {
    abort_enrp(abort->link);
  }
}

void ServerState::queue_full_abort(transport::Association& a, LinkClass cls) {
  if (!a.is_up()) return;  // already aborted: one count per association
  (cls == LinkClass::asap ? counters.asap_aborted_send_queue : counters.enrp_aborted_send_queue) += 1;
  limited(spdlog::level::warn, "send queue bound", "{}: {} association {} does not read: {} messages held: aborted",
          cfg.name, cls == LinkClass::asap ? "ASAP" : "ENRP", a.id(), a.queued());
  if (cls == LinkClass::asap) {
    a.abort();
  } else {
    abort_enrp(a.id());
  }
}

constexpr std::size_t kBuffersKeptAfterTrim = 32;
// A trim that gave back at least this much is followed by another check a
// second later (see trim()).
constexpr long kTrimAgainKib = 256;

namespace {
// Resident memory of this process in KiB (/proc/self/statm), -1 when
// unreadable: what a trim gave back, for its log line and the next check.
long resident_kib() {
  std::FILE* f = std::fopen("/proc/self/statm", "re");
  if (f == nullptr) return -1;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * (::sysconf(_SC_PAGESIZE) / 1024) : -1;
}
}  // namespace

// Large frees leave the heap's pages mapped; give them back once a flood
// is over so RSS returns to its baseline (measured in docs/security.md).
// Any association that ends (or is aborted for not reading) arms one check
// a second later (not per free, and never more than once a second); the
// check trims when the heap then holds at least
// `trim_after_released_bytes` unused. Deciding on what the heap holds, not
// on what was released since the last trim, also returns the memory of the
// associations that end just after a trim.
void ServerState::released(std::size_t bytes) {
  if (cfg.trim_after_released_bytes == 0) return;
  released_since_trim += bytes;
  arm_trim();
}

void ServerState::arm_trim() {
  if (trim_timer && trim_armed) return;
  if (!trim_timer) trim_timer = std::make_unique<asio::steady_timer>(io);
  trim_armed = true;
  trim_timer->expires_after(std::chrono::seconds(1));
  trim_timer->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto s = weak.lock();
    if (ec || !s) return;
    s->trim_armed = false;  // an association that ends from here on arms the next check
    // Behind what is already queued: on a loop that was busy past the
    // timer's expiry, the aborted associations' finish closed their sockets
    // after the expiry was queued, and the cancelled writes complete (and
    // free the associations with their write buffers, up to 256 KiB each)
    // only now (issue 13).
    asio::post(s->io, [weak] {
      if (auto t = weak.lock()) t->trim();
    });
  });
}

void ServerState::trim() {
  const auto unused = ::mallinfo2().fordblks;
  if (unused < cfg.trim_after_released_bytes && released_since_trim < cfg.trim_after_released_bytes) return;
  released_since_trim = 0;
  ++counters.memory_trims;
  const long before = resident_kib();
  // The recycled message buffers the flood left (up to 2 MiB) go too;
  // steady traffic refills the pool from a few dozen.
  rserpool::buffers::shrink(kBuffersKeptAfterTrim);
  ::malloc_trim(0);
  const long after = resident_kib();
  const bool gave_back = before >= 0 && after >= 0 && before - after >= kTrimAgainKib;
  // A line when it mattered (rate-limited like the floods that cause it).
  limited(gave_back ? spdlog::level::info : spdlog::level::debug, "memory trim",
          "{}: unused heap given back: resident {} -> {} KiB", cfg.name, before, after);
  // A loop that is still catching up with a flood frees more after this
  // trim (what it had read from the cut-off peers, their last buffers) and
  // no association end may follow to arm another check: as long as a trim
  // gives something back, look again a second later.
  if (gave_back) arm_trim();
}

void ServerState::execute(std::vector<DirectoryAction>&& actions) {
  if (stopped) return;
  for (auto& action : actions) {
    if (auto* c = std::get_if<ConnectPeer>(&action)) {
      connect_peer(*c);
    } else if (auto* p = std::get_if<SendPresenceOn>(&action)) {
      send_enrp_on(p->link, core.presence(0, true));
    } else if (auto* a = std::get_if<AbortLink>(&action)) {
      abort_enrp(a->link);
    } else if (auto* m = std::get_if<StartMentorDownload>(&action)) {
      execute(core.start_mentor_download(m->mentor, now()));
    } else if (auto* e = std::get_if<DirectoryEvent>(&action)) {
      report(*e);
    }
  }
  arm_timers();
}

void ServerState::arm_timers() {
  if (stopped) return;
  core_timer.arm(core.next_deadline());
  directory_timer.arm(directory.next_deadline());
}

// The timers run these inside a TurnTime: now() is one clock reading for
// the core's on_timeout, the messages it sends and the re-arm. An expiry at
// a deadline that has since moved later finds nothing due; execute() then
// arms the new next_deadline().
void ServerState::core_expired() {
  if (stopped) return;
  auto self = shared_from_this();  // a notification may release the owner's last reference
  ++counters.timers_fired;
  execute(core.on_timeout(now()));
}

void ServerState::directory_expired() {
  if (stopped) return;
  auto self = shared_from_this();
  ++counters.timers_fired;
  execute(directory.on_timeout(now()));
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
      // Also a hot path (every PE of a closing association): the pool name
      // text is built only when the line can be written.
      if (log->should_log(spdlog::level::info)) {
        limited(spdlog::level::info, to_string(n.event), "{}: {} pool '{}' PE {:08x}", cfg.name, to_string(n.event),
                n.pool.to_string(), n.pe);
      }
      break;
    case Event::pe_reported_but_answering:
      limited(spdlog::level::warn, to_string(n.event),
              "{}: pool '{}' PE {:08x} answers its audit although several associations report it unreachable "
              "(kept; last report on association {})",
              cfg.name, n.pool.to_string(), n.pe, n.association);
      break;
    case Event::pe_identity_conflict:
      limited(spdlog::level::warn, to_string(n.event),
              "{}: ASAP association {} registered pool '{}' PE {:08x}, which another live association owns: "
              "refused (0x4), the owner is audited",
              cfg.name, n.association, n.pool.to_string(), n.pe);
      break;
    case Event::asap_association_refused_per_address:
      limited(spdlog::level::warn, to_string(n.event),
              "{}: ASAP association {} refused: its address already holds {} associations", cfg.name, n.association,
              cfg.core.caps.max_per_address);
      break;
    case Event::asap_association_refused_full:
      limited(spdlog::level::warn, to_string(n.event),
              "{}: ASAP association {} refused: {} associations, none idle to make room", cfg.name, n.association,
              core.asap_server().association_count());
      break;
    case Event::asap_association_evicted:
      limited(spdlog::level::info, to_string(n.event),
              "{}: ASAP association {} (idle, no PE, no subscription) closed to make room", cfg.name, n.association);
      break;
    case Event::asap_message_malformed:
      limited(spdlog::level::warn, to_string(n.event), "{}: malformed ASAP message on association {}", cfg.name,
              n.association);
      break;
    case Event::enrp_message_malformed:
      limited(spdlog::level::warn, to_string(n.event), "{}: malformed ENRP message from server {:08x}", cfg.name,
              n.server);
      break;
    case Event::peer_dead:
    case Event::takeover_aborted:
      limited(spdlog::level::warn, to_string(n.event), "{}: {} server {:08x}", cfg.name, to_string(n.event), n.server);
      break;
    default:
      limited(spdlog::level::info, to_string(n.event), "{}: {} server {:08x}", cfg.name, to_string(n.event), n.server);
      break;
  }
  if (on_event) on_event(n);
}

void ServerState::report(const DirectoryEvent& e) {
  const std::string at = e.address ? e.address->to_string() : std::string("?");
  switch (e.kind) {
    case DirectoryEvent::Kind::refused_untrusted:
      limited(spdlog::level::warn, "refused ENRP association",
              "{}: refused ENRP association from {} (not every address is a configured or allowed peer's)", cfg.name,
              at);
      break;
    case DirectoryEvent::Kind::refused_full:
      limited(spdlog::level::warn, "refused ENRP association (full)",
              "{}: refused ENRP association from {}: {} inbound ENRP associations (or monitors) already", cfg.name,
              at, cfg.max_enrp_links);
      break;
    case DirectoryEvent::Kind::bound:
      limited(spdlog::level::info, "ENRP association bound", "{}: ENRP association {} speaks for server {:08x}",
              cfg.name, e.link, e.server);
      break;
    case DirectoryEvent::Kind::sender_changed:
      limited(spdlog::level::warn, "ENRP sender changed",
              "{}: ENRP association {} bound to server {:08x} carried a message from another server: dropped",
              cfg.name, e.link, e.server);
      break;
    case DirectoryEvent::Kind::listed_refused:
      limited(spdlog::level::warn, "LIST_RESPONSE servers refused",
              "{}: LIST_RESPONSE from {:08x}: {} server(s) outside the allow-list ignored", cfg.name, e.server,
              e.count);
      break;
    case DirectoryEvent::Kind::mentor_chosen:
      log->info("{}: mentor {} is server {:08x}: downloading its handlespace", cfg.name, at, e.server);
      break;
    case DirectoryEvent::Kind::mentor_timed_out:
      log->warn("{}: no mentor answered within {} ms: starting with our own handlespace (the checksum audit "
                "brings peers' PEs)",
                cfg.name, to_millis(cfg.mentor_wait));
      break;
  }
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
const PeerDirectory& RegistrarServer::directory() const { return impl_->directory; }
ServerIdentifier RegistrarServer::id() const { return impl_->core.id(); }
const ServerConfig& RegistrarServer::config() const { return impl_->cfg; }
TimePoint RegistrarServer::now() const { return impl_->now(); }
TimePoint RegistrarServer::started_at() const { return impl_->started_at; }
std::size_t RegistrarServer::asap_association_count() const { return impl_->asap.size(); }
std::size_t RegistrarServer::outbound_held_bytes() const { return impl_->outbound.total_bytes(); }

ServerCounters RegistrarServer::counters() const {
  ServerCounters c = impl_->counters;
  const auto& d = impl_->directory.counters();
  c.enrp_associations_accepted = d.associations_accepted;
  c.enrp_associations_refused = d.associations_refused + d.associations_refused_full;
  c.enrp_monitors_accepted = d.monitors_accepted;
  c.enrp_sender_changed = d.sender_changed;
  c.enrp_listed_servers_refused = d.listed_servers_refused;
  c.enrp_unroutable = d.unroutable;
  c.timer_rearms = impl_->core_timer.rearms() + impl_->directory_timer.rearms();
  return c;
}

Synchronisation RegistrarServer::synchronisation() const {
  const auto& s = *impl_;
  Synchronisation out;
  out.download = s.core.mentor_download();
  out.mentor_address = s.cfg.mentor;
  out.mentor_timed_out = s.directory.mentor_wait() == MentorWait::timed_out;
  using D = MentorDownload::State;
  if (s.directory.mentor_wait() == MentorWait::waiting) {
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
  std::vector<PeerView> out;
  std::vector<ServerIdentifier> seen;
  for (const auto& d : s.directory.peers()) {
    PeerView v;
    v.id = d.id;
    v.address = d.address;
    v.configured = d.configured;
    v.association_up = d.association_up;
    v.last_heard = d.last_heard;
    v.last_checksum = d.last_checksum;
    if (d.id != 0) {
      v.active = s.core.peer_active(d.id);
      v.owned_pes = s.core.handlespace().owned_count(d.id);
      seen.push_back(d.id);
    }
    out.push_back(v);
  }
  // Also peers the core knows only from others (LIST_RESPONSE, updates).
  for (ServerIdentifier id : s.core.active_peers()) {
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    PeerView v;
    v.id = id;
    v.active = true;
    v.owned_pes = s.core.handlespace().owned_count(id);
    out.push_back(v);
  }
  return out;
}

}  // namespace rserpool::registrar
