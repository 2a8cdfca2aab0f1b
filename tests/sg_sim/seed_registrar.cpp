// Each gateway's co-located registrar (the real registrar core: ASAP
// server, ENRP peering and takeover around one handlespace), the ENRP
// association between a pair's registrars, and the ASAP associations that
// reach them. This file is the registrar's driver as sgd's RegistrarServer
// is: it executes the core's actions on the simulated network.
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

namespace reg = rserpool::registrar;
namespace enrp = rserpool::wire::enrp;

namespace {
rserpool::IpAddress registrar_ip(std::size_t g) { return rserpool::IpAddress::v4({10, 1, 0, static_cast<std::uint8_t>(g + 1)}); }
rserpool::IpAddress controller_ip(std::size_t i) { return rserpool::IpAddress::v4({10, 0, 0, static_cast<std::uint8_t>(i + 1)}); }
rserpool::IpAddress gateway_ip(std::size_t g) { return rserpool::IpAddress::v4({10, 2, 0, static_cast<std::uint8_t>(g + 1)}); }
constexpr std::uint16_t kEnrpPort = 9901;
}  // namespace

// sgd's co-located registrar with timers `aggressive` (as the rest of this
// world: M3UA BEAT, retry, suspicion), started as RegistrarServer starts
// it: the core with no static peers, then the peer directory, whose one
// configured peer is the mate's registrar (an address; its server id is
// bound when it speaks). The mentor is the first configured peer that
// answers within the directory's mentor_wait (5 s).
void World::start_registrar(std::size_t g) {
  RegistrarNode& r = regs_[g];
  r.alive = true;
  ++r.incarnation;
  r.id = kFirstRegistrar + static_cast<rserpool::ServerIdentifier>(g);
  r.started_at = now_;
  auto rc = reg::RegistrarConfig::aggressive(r.id);
  rc.seed = plan_.seed * 8 + g * 2 + static_cast<std::uint64_t>(r.incarnation);
  rserpool::TransportParameter t;
  t.port = kEnrpPort;
  t.addresses = {registrar_ip(g)};
  rc.enrp_transport = t;
  reg::DirectoryConfig dc;
  dc.self = r.id;
  if (regs_.size() == 2) dc.peers = {rserpool::TransportAddress{registrar_ip(1 - g), kEnrpPort}};
  r.core = std::make_unique<reg::Registrar>(rc);
  r.directory = std::make_unique<reg::PeerDirectory>(dc);
  registrar_changed();
  ev("registrar-start", g, static_cast<std::uint64_t>(r.incarnation));
  run_registrar(g, r.core->start(now_));
  if (r.alive) run_directory(g, r.directory->start(now_));
}

// Dies with its gateway (same process): every association it held aborts.
void World::kill_registrar(std::size_t g) {
  RegistrarNode& r = regs_[g];
  if (!r.alive) return;
  if (r.core->mentor_download().state == reg::MentorDownload::State::done) ++out_.mentor_downloads;
  r.alive = false;
  r.core.reset();
  r.directory.reset();
  registrar_changed();
  for (auto& [id, l] : asap_links_)
    if (l.reg == g && !l.reg_gone) asap_registrar_closes(id);
  enrp_lose_all();
}

void World::registrar_changed() { last_registrar_change_ = now_; }

void World::run_registrar(std::size_t g, std::vector<reg::Action> actions) {
  for (auto& act : actions) {
    if (!regs_[g].alive) return;
    if (auto* s = std::get_if<reg::SendAsap>(&act)) {
      auto it = asap_links_.find(s->association);
      if (it == asap_links_.end() || it->second.reg_gone || !it->second.up) {
        ++out_.asap_unsendable;
        continue;
      }
      Packet p;
      p.control = true;
      p.payload = reg::encode(s->message);
      it->second.to_owner.send(std::move(p), now_, it->second.delay, draw_extra(), seq_++);
    } else if (auto* e = std::get_if<reg::SendEnrp>(&act)) {
      enrp_send(g, e->peer, e->message);
    } else if (auto* el = std::get_if<reg::SendAsapToElement>(&act)) {
      send_to_element(g, std::move(*el));
    } else if (auto* ab = std::get_if<reg::AbortAsap>(&act)) {
      ev("registrar-abort", g, ab->association);
      asap_registrar_closes(ab->association);
    } else if (auto* n = std::get_if<reg::Notify>(&act)) {
      ev("registrar", g, static_cast<std::uint64_t>(n->event), n->pe ? n->pe : n->server);
      registrar_changed();
      switch (n->event) {
        case reg::Event::pe_registered: ++out_.registrations; break;
        case reg::Event::pe_deregistered: ++out_.deregistrations; break;
        case reg::Event::pe_keep_alive_timeout:
        case reg::Event::pe_unreachable_removed: ++out_.audit_removals; break;
        case reg::Event::resync_done: ++out_.resyncs; break;
        default: break;
      }
      registrar_event(g, *n);
    }
  }
}

// The registrar connects to a PE it has no association with (takeover, or
// the audit of a PE it owns after a restart): the PE's ASAP transport is
// its controller's address.
void World::send_to_element(std::size_t g, reg::SendAsapToElement&& s) {
  Controller* c = controller(s.pe);
  ev("registrar-to-element", g, s.pe);
  if (!c) return;
  const std::size_t i = static_cast<std::size_t>(c - ctls_.data());
  const auto local = c->next_inbound++;
  const auto id = open_asap(g, /*pool_user=*/false, i, local, draw_delay(200, 5000));
  c->asap_links[local] = id;
  AsapLink& l = asap_links_.at(id);
  Packet p;
  p.control = true;
  p.payload = rserpool::wire::asap::encode(s.message);
  // Sent once the association is up (queued in its send buffer meanwhile).
  schedule_at(now_ + 4 * l.delay, [this, id, p = std::move(p)]() mutable {
    auto it = asap_links_.find(id);
    if (it == asap_links_.end() || !it->second.up || it->second.reg_gone) return;
    it->second.to_owner.send(std::move(p), now_, it->second.delay, draw_extra(), seq_++);
  });
}

// --- ASAP associations -------------------------------------------------

std::uint64_t World::open_asap(std::size_t g, bool pool_user, std::size_t owner, rserpool::asap::AssocId local,
                               rserpool::Duration delay) {
  AsapLink l;
  l.id = ++asap_ids_;
  l.reg = g;
  l.reg_incarnation = regs_[g].alive ? regs_[g].incarnation : -1;
  l.pool_user = pool_user;
  l.owner = owner;
  l.owner_incarnation = pool_user ? static_cast<std::uint32_t>(gws_[owner].incarnation) : ctls_[owner].incarnation;
  l.local = local;
  l.delay = delay;
  const auto id = l.id;
  asap_links_.emplace(id, std::move(l));
  ev("asap-connect", g, owner, id);
  // INIT, COOKIE: two round trips.
  schedule_at(now_ + 4 * delay, [this, id] { asap_established(id); });
  return id;
}

void World::asap_established(std::uint64_t id) {
  auto it = asap_links_.find(id);
  if (it == asap_links_.end() || it->second.owner_gone) return;
  AsapLink& l = it->second;
  const RegistrarNode& r = regs_[l.reg];
  const bool inbound = !l.pool_user && l.local >= rserpool::asap::kInboundAssocBase;
  if (!r.alive || r.incarnation != l.reg_incarnation) {
    // Nobody listens there (or another incarnation): ABORT.
    ev("asap-connect-failed", l.reg, l.owner, id);
    l.reg_gone = l.owner_gone = true;
    rserpool::asap::Actions out;
    if (l.pool_user) {
      Gateway& w = gws_[l.owner];
      if (w.alive && w.pool_user && static_cast<std::uint32_t>(w.incarnation) == l.owner_incarnation) {
        w.pool_user->on_registrar_connect_failed(l.local, now_, out);
        run_pool_user(l.owner, out);
      }
    } else {
      Controller& c = ctls_[l.owner];
      if (c.proc != Proc::dead && c.incarnation == l.owner_incarnation && c.pe && !inbound) {
        if (c.proc == Proc::hung) {
          c.asap_unread.emplace_back(l.local, rserpool::Bytes{0x02});  // its socket reports it when it runs
          return;
        }
        c.pe->on_registrar_connect_failed(l.local, now_, out);
        run_pe(c, out);
      }
    }
    return;
  }
  if (!l.pool_user) {
    Controller& c = ctls_[l.owner];
    if (c.proc == Proc::dead || c.incarnation != l.owner_incarnation) {
      ev("asap-connect-failed", l.reg, l.owner, id);
      l.reg_gone = l.owner_gone = true;
      return;
    }
  }
  l.up = true;
  ev("asap-up", l.reg, l.owner, id);
  const std::size_t g = l.reg;
  const auto addr = l.pool_user ? gateway_ip(l.owner) : controller_ip(l.owner);
  const auto port = static_cast<std::uint16_t>(l.pool_user ? 2900 + l.owner : 5000 + l.owner);
  run_registrar(g, regs_[g].core->on_asap_association_accepted(id, now_));
  if (!regs_[g].alive || l.reg_gone) return;
  run_registrar(g, regs_[g].core->on_asap_association_up(id, {addr}, port, now_));
  rserpool::asap::Actions out;
  if (l.pool_user) {
    gws_[l.owner].pool_user->on_registrar_connected(l.local, now_, out);
    run_pool_user(l.owner, out);
  } else if (!inbound) {
    Controller& c = ctls_[l.owner];
    if (c.proc == Proc::running) {
      c.pe->on_registrar_connected(l.local, now_, out);
      run_pe(c, out);
    } else {
      // Hung: it learns of it when it runs again.
      c.asap_unread.emplace_back(l.local, rserpool::Bytes{0x01});
    }
  }
}

// The owner's end closes (shutdown) or its process dies (its kernel
// aborts): the registrar hears of it one delay later, after what was sent
// before.
void World::asap_owner_closes(std::uint64_t id, bool abort) {
  auto it = asap_links_.find(id);
  if (it == asap_links_.end() || it->second.owner_gone) return;
  it->second.owner_gone = true;
  ev(abort ? "asap-abort" : "asap-shutdown", it->second.reg, it->second.owner, id);
  schedule_at(now_ + it->second.delay + 1us, [this, id] {
    auto x = asap_links_.find(id);
    if (x == asap_links_.end() || x->second.reg_gone) return;
    AsapLink& l = x->second;
    l.reg_gone = true;
    const RegistrarNode& r = regs_[l.reg];
    if (l.up && r.alive && r.incarnation == l.reg_incarnation)
      run_registrar(l.reg, regs_[l.reg].core->on_asap_association_down(id, now_));
  });
}

// The registrar's end goes (it aborted, or died): the owner hears of it one
// delay later.
void World::asap_registrar_closes(std::uint64_t id) {
  auto it = asap_links_.find(id);
  if (it == asap_links_.end() || it->second.reg_gone) return;
  AsapLink& l0 = it->second;
  l0.reg_gone = true;
  // The core is told its own abort is done (the transport's on_down).
  if (l0.up && regs_[l0.reg].alive && regs_[l0.reg].incarnation == l0.reg_incarnation) {
    schedule_at(now_, [this, id, g = l0.reg, inc = l0.reg_incarnation] {
      if (regs_[g].alive && regs_[g].incarnation == inc) run_registrar(g, regs_[g].core->on_asap_association_down(id, now_));
    });
  }
  schedule_at(now_ + l0.delay + 1us, [this, id] {
    auto x = asap_links_.find(id);
    if (x == asap_links_.end() || x->second.owner_gone) return;
    AsapLink& l = x->second;
    l.owner_gone = true;
    if (!l.up) return;  // the connect fails instead (asap_established)
    rserpool::asap::Actions out;
    if (l.pool_user) {
      Gateway& w = gws_[l.owner];
      if (!w.alive || !w.pool_user || static_cast<std::uint32_t>(w.incarnation) != l.owner_incarnation) return;
      w.pool_user->on_registrar_lost(l.local, now_, out);
      run_pool_user(l.owner, out);
      return;
    }
    Controller& c = ctls_[l.owner];
    if (c.incarnation != l.owner_incarnation || c.proc == Proc::dead || !c.pe) return;
    if (l.local >= rserpool::asap::kInboundAssocBase) {
      c.asap_links.erase(l.local);
      return;
    }
    if (c.proc == Proc::hung) {
      c.asap_unread.emplace_back(l.local, rserpool::Bytes{});  // its socket reports the abort when it runs
      return;
    }
    if (c.asap_links.count(l.local) && c.asap_links[l.local] == id) c.asap_links.erase(l.local);
    c.pe->on_registrar_lost(l.local, now_, out);
    run_pe(c, out);
  });
}

void World::deliver_asap() {
  for (auto it = asap_links_.begin(); it != asap_links_.end();) {
    AsapLink& l = it->second;
    while (auto p = l.to_reg.pop_due(now_)) {
      if (l.reg_gone || !regs_[l.reg].alive || regs_[l.reg].incarnation != l.reg_incarnation) continue;
      registrar_reads(l, std::move(p->payload));
    }
    while (auto p = l.to_owner.pop_due(now_)) {
      if (l.owner_gone) continue;
      if (l.pool_user) {
        Gateway& w = gws_[l.owner];
        if (w.alive && w.pool_user && static_cast<std::uint32_t>(w.incarnation) == l.owner_incarnation)
          pool_user_reads(l.owner, l.local, p->payload);
        continue;
      }
      Controller& c = ctls_[l.owner];
      if (c.incarnation != l.owner_incarnation || c.proc == Proc::dead || !c.pe) continue;  // acknowledged, never read
      if (c.proc == Proc::hung) {
        c.asap_unread.emplace_back(l.local, std::move(p->payload));
        continue;
      }
      pe_reads(c, l.local, p->payload);
    }
    AsapLink& x = it->second;
    if (x.reg_gone && x.owner_gone && x.to_reg.empty() && x.to_owner.empty())
      it = asap_links_.erase(it);
    else
      ++it;
  }
}

void World::registrar_reads(AsapLink& l, rserpool::Bytes bytes) {
  run_registrar(l.reg, regs_[l.reg].core->on_asap_message(l.id, bytes, now_));
}

// --- ENRP between a pair's registrars ------------------------------------
//
// This is sgd's ENRP driver (registrar/src/server/enrp_side.cpp) on the
// simulated network: the peer directory decides who connects where, which
// association speaks for which server, where a message goes and which peer
// is the mentor; this opens, feeds and closes the associations it names.

void World::run_directory(std::size_t g, std::vector<reg::DirectoryAction> actions) {
  for (auto& act : actions) {
    if (!regs_[g].alive) return;
    if (auto* c = std::get_if<reg::ConnectPeer>(&act)) {
      enrp_open(g, *c);
    } else if (auto* p = std::get_if<reg::SendPresenceOn>(&act)) {
      enrp_send_on(g, p->link, enrp::Message{regs_[g].core->presence(0, true)});
    } else if (auto* a = std::get_if<reg::AbortLink>(&act)) {
      enrp_abort(g, a->link);
    } else if (auto* m = std::get_if<reg::StartMentorDownload>(&act)) {
      ev("mentor-chosen", g, m->mentor);
      run_registrar(g, regs_[g].core->start_mentor_download(m->mentor, now_));
    } else if (auto* e = std::get_if<reg::DirectoryEvent>(&act)) {
      ev("enrp-directory", g, static_cast<std::uint64_t>(e->kind), e->server);
    }
  }
}

// An association from registrar `g` to the configured peer's address (the
// only one there is): the handshake takes two round trips; the directory
// hears the outcome (up, or a failed connect it backs off from).
std::uint64_t World::enrp_open(std::size_t g, const reg::ConnectPeer& request) {
  if (regs_.size() != 2) {
    regs_[g].directory->on_connect_failed(request, now_);
    return 0;
  }
  EnrpLink l;
  l.id = ++enrp_.ids;
  l.from = g;
  l.inc[g] = regs_[g].incarnation;
  l.held[g] = true;
  const auto id = l.id;
  enrp_.links.emplace(id, std::move(l));
  regs_[g].directory->on_connecting(request, id, now_);
  ev("enrp-connect", g, id);
  schedule_at(now_ + 4 * enrp_.delay, [this, id] { enrp_establish(id); });
  return id;
}

// The handshake's end: up at both ends when both run and nothing cuts them
// (the acceptor's directory may still refuse it), else a failed connect.
void World::enrp_establish(std::uint64_t id) {
  auto it = enrp_.links.find(id);
  if (it == enrp_.links.end()) return;  // aborted meanwhile
  EnrpLink& l = it->second;
  const std::size_t a = l.from, b = 1 - a;
  if (!regs_[a].alive || regs_[a].incarnation != l.inc[a] || !l.held[a]) {
    enrp_.links.erase(it);  // its opener died: nobody holds it
    return;
  }
  if (!regs_[b].alive || enrp_.cut_until || !regs_[b].directory->on_accepted(id)) {
    ev("enrp-connect-failed", a, id);
    out_.enrp_lost_in_flight += l.pending.size();
    enrp_.links.erase(it);
    regs_[a].directory->on_down(id, /*never_up=*/true, now_);
    return;
  }
  l.up = true;
  l.inc[b] = regs_[b].incarnation;
  l.held[b] = true;
  ev("enrp-up", a, id);
  // What was sent before it came up leaves first (the transport's queue).
  for (auto& [to, bytes] : l.pending) {
    Packet p;
    p.control = true;
    p.payload = std::move(bytes);
    l.to[to].send(std::move(p), now_, enrp_.delay, draw_extra(), seq_++);
  }
  l.pending.clear();
  // SCTP connects from the ENRP port (as sgd does), so each end sees the
  // other's ENRP endpoint.
  auto acts_b = regs_[b].directory->on_up(id, {rserpool::TransportAddress{registrar_ip(a), kEnrpPort}}, now_);
  auto acts_a = regs_[a].directory->on_up(id, {rserpool::TransportAddress{registrar_ip(b), kEnrpPort}}, now_);
  run_directory(b, std::move(acts_b));
  if (regs_[a].alive) run_directory(a, std::move(acts_a));
}

// Registrar `g`'s directory aborts one: gone at once at its end, the other
// end hears the ABORT one delay later; what was on its way is lost.
void World::enrp_abort(std::size_t g, std::uint64_t id) {
  auto it = enrp_.links.find(id);
  if (it == enrp_.links.end() || !it->second.held[g]) return;
  ev("enrp-abort", g, id);
  it->second.held[g] = false;
  regs_[g].directory->on_down(id, !it->second.up, now_);
  schedule_at(now_ + enrp_.delay, [this, id] { enrp_lose(id); });
}

// Lost at both ends (a registrar died, SCTP gave it up in a partition, or
// the ABORT arrived): each living end's directory is told; what was on its
// way is gone (sgd's driver counts it: ENRP send failures).
void World::enrp_lose(std::uint64_t id) {
  auto it = enrp_.links.find(id);
  if (it == enrp_.links.end()) return;
  EnrpLink l = std::move(it->second);
  enrp_.links.erase(it);
  ev("enrp-down", l.from, id);
  for (auto& pipe : l.to) out_.enrp_lost_in_flight += pipe.take_all().size();
  out_.enrp_lost_in_flight += l.pending.size();
  for (std::size_t r = 0; r < 2; ++r) {
    if (!l.held[r] || !regs_[r].alive || regs_[r].incarnation != l.inc[r]) continue;
    regs_[r].directory->on_down(id, !l.up, now_);
  }
}

// Every ENRP association is lost at both ends: a registrar died (the pair
// has only the two, so each joins it), or SCTP gave them up in a partition.
// enrp_lose erases as it goes: the ids are gathered first.
void World::enrp_lose_all() {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, l] : enrp_.links) ids.push_back(id);
  for (auto id : ids) enrp_lose(id);
}

// The core's message to a server: the directory names the association (or
// one to open first); none: dropped and counted, as sgd's driver does.
void World::enrp_send(std::size_t from, rserpool::ServerIdentifier peer, const enrp::Message& m) {
  if (regs_.size() != 2) {
    ++out_.enrp_unroutable;
    return;
  }
  auto route = regs_[from].directory->route(peer, now_);
  if (route.connect) {
    if (const auto id = enrp_open(from, *route.connect)) route.link = id;
  }
  if (!route.link) {
    ++out_.enrp_unroutable;
    return;
  }
  enrp_send_on(from, *route.link, m);
}

void World::enrp_send_on(std::size_t from, std::uint64_t id, const enrp::Message& m) {
  auto it = enrp_.links.find(id);
  if (it == enrp_.links.end() || !it->second.held[from]) {
    ++out_.enrp_unroutable;
    return;
  }
  EnrpLink& l = it->second;
  rserpool::Bytes bytes = enrp::encode(m);
  if (!l.up) {
    l.pending.emplace_back(1 - from, std::move(bytes));
    return;
  }
  Packet p;
  p.control = true;
  p.payload = std::move(bytes);
  l.to[1 - from].send(std::move(p), now_, enrp_.delay, draw_extra(), seq_++);
}

// Decoded once: the directory looks at it (binding, mentor choice, the
// LIST_RESPONSE filter), then the core takes it, as in sgd.
void World::deliver_enrp() {
  if (regs_.size() != 2 || enrp_.cut_until) return;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, l] : enrp_.links) ids.push_back(id);
  for (auto id : ids) {
    for (std::size_t r = 0; r < 2; ++r) {
      while (true) {
        auto it = enrp_.links.find(id);
        if (it == enrp_.links.end()) break;
        auto p = it->second.to[r].pop_due(now_);
        if (!p) break;
        if (!it->second.up || !it->second.held[r] || !regs_[r].alive) continue;
        auto decoded = enrp::decode(p->payload);
        std::vector<reg::DirectoryAction> acts;
        const auto delivery = regs_[r].directory->on_message(id, p->payload, decoded, now_, acts);
        run_directory(r, std::move(acts));
        if (!regs_[r].alive) break;
        if (delivery.deliver)
          run_registrar(r, regs_[r].core->on_enrp_message(std::move(decoded), now_, delivery.from, delivery.role));
      }
    }
  }
}

// A partition between the two registrars for `a`: nothing crosses and no
// handshake completes; if it lasts longer than `b`, SCTP declares every
// association between them lost at both ends. The directories reconnect
// on their own (their back-off).
void World::enrp_cut(const Fault& f) {
  if (regs_.size() != 2) return;
  ++out_.enrp_cuts;
  enrp_.cut_until = now_ + f.a;
  if (f.b < f.a) {
    schedule_at(now_ + f.b, [this] {
      if (!enrp_.cut_until) return;
      ++out_.enrp_cut_lost;
      enrp_lose_all();
    });
  }
  schedule_at(now_ + f.a, [this] { enrp_heal(); });
}

void World::enrp_heal() {
  enrp_.cut_until.reset();
  ev("enrp-heal");
}

// Both registrars run and some association between them is up at both
// ends, with nothing cutting it.
bool World::enrp_whole() const {
  if (regs_.size() != 2 || !regs_[0].alive || !regs_[1].alive || enrp_.cut_until) return false;
  for (const auto& [id, l] : enrp_.links)
    if (l.up && l.held[0] && l.held[1]) return true;
  return false;
}

void World::track_enrp_whole() {
  const bool whole = enrp_whole();
  if (whole && !enrp_.whole) enrp_.whole_since = now_;
  enrp_.whole = whole;
}

// --- invariants: registrars converge, pool views follow ---------------------

std::string World::describe_pool(const rserpool::core::Handlespace& hs, bool with_owner, bool with_port) {
  std::string s;
  for (const auto* e : hs.elements_of(rserpool::PoolHandle(kPool))) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%x", e->id());
    s += buf;
    if (with_port) {
      std::snprintf(buf, sizeof buf, "@%u", e->element().user_transport.port);
      s += buf;
    }
    if (with_owner) {
      std::snprintf(buf, sizeof buf, "/%x", e->owner());
      s += buf;
    }
    s += ' ';
  }
  return s;
}

// Checked after every step, once the last change is kConvergenceBound old:
// - a pair's registrars hold the same pool (PE, user transport, owner) once
//   both run with the ENRP association whole;
// - each living gateway lists the PEs its registrar lists.
void World::check_convergence() {
  if (now_ - last_registrar_change_ < kConvergenceBound) return;
  // Once per quiet stretch: nothing compared changes without a registrar
  // change (or the network, or a start) moving these instants.
  const auto pair_key = regs_.size() == 2 ? std::max({last_registrar_change_, enrp_.whole_since, regs_[0].started_at,
                                                      regs_[1].started_at})
                                          : TimePoint{};
  if (regs_.size() == 2 && !convergence_reported_ && enrp_whole() && pair_key != hs_checked_for_ &&
      now_ - pair_key >= kConvergenceBound) {
    hs_checked_for_ = pair_key;
    ++out_.convergence_checks;
    const auto a = describe_pool(regs_[0].core->handlespace(), true, false);
    const auto b = describe_pool(regs_[1].core->handlespace(), true, false);
    if (a != b) {
      convergence_reported_ = true;
      violation("the registrars did not converge: " + a + "| " + b);
    } else if (describe_pool(regs_[0].core->handlespace(), true, true) !=
               describe_pool(regs_[1].core->handlespace(), true, true)) {
      // Same PEs, same owners, another user transport: a PE that registered
      // again (new port) while the ENRP association was gone; the PE
      // checksum (RFC 5353 3.5: pool handles and PE identifiers) cannot
      // tell (finding, docs/architecture.md). Counted once per quiet stretch.
      ++out_.stale_transports;
      ev("stale-transport");
    }
  }
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    const Gateway& w = gws_[g];
    if (!w.alive || !regs_[g].alive || view_reported_[g] || now_ - w.started_at < kConvergenceBound) continue;
    const auto key = std::max(last_registrar_change_, w.started_at);
    if (view_checked_for_[g] == key) continue;
    view_checked_for_[g] = key;
    ++out_.view_checks;
    std::string view;
    w.dist->membership().for_each([&](const rserpool::PoolElementParameter& p, bool) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%x@%u ", p.id, p.user_transport.port);
      view += buf;
    });
    const auto truth = describe_pool(regs_[g].core->handlespace(), false, true);
    if (view != truth) {
      view_reported_[g] = true;
      violation("gateway " + std::to_string(g) + " lists " + view + "| its registrar " + truth);
    }
  }
}

}  // namespace world
}  // namespace sg::sim::seeded
