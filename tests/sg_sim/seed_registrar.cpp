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
}  // namespace

// sgd's co-located registrar with timers `aggressive` (as the rest of this
// world: M3UA BEAT, retry, suspicion). As in sgd the core starts with no
// static peers (they are addresses, bound to server ids by the peer
// directory when they speak) and the mentor is the first configured peer
// that answers within the directory's mentor_wait (5 s).
void World::start_registrar(std::size_t g) {
  RegistrarNode& r = regs_[g];
  r.alive = true;
  ++r.incarnation;
  r.id = kFirstRegistrar + static_cast<rserpool::ServerIdentifier>(g);
  r.started_at = now_;
  auto rc = reg::RegistrarConfig::aggressive(r.id);
  rc.seed = plan_.seed * 8 + g * 2 + static_cast<std::uint64_t>(r.incarnation);
  rserpool::TransportParameter t;
  t.port = 9901;
  t.addresses = {registrar_ip(g)};
  rc.enrp_transport = t;
  r.mentor_wait_until.reset();
  if (regs_.size() == 2) r.mentor_wait_until = now_ + 5s;
  r.core = std::make_unique<reg::Registrar>(rc);
  registrar_changed();
  ev("registrar-start", g, static_cast<std::uint64_t>(r.incarnation));
  run_registrar(g, r.core->start(now_));
  if (regs_.size() == 2) enrp_connect();
}

// Dies with its gateway (same process): every association it held aborts.
void World::kill_registrar(std::size_t g) {
  RegistrarNode& r = regs_[g];
  if (!r.alive) return;
  if (r.core->mentor_download().state == reg::MentorDownload::State::done) ++out_.mentor_downloads;
  r.alive = false;
  r.core.reset();
  registrar_changed();
  for (auto& [id, l] : asap_links_)
    if (l.reg == g && !l.reg_gone) asap_registrar_closes(id);
  if (regs_.size() == 2 && (enrp_.up || enrp_.connecting)) enrp_down();
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
      it->second.to_owner.send(std::move(p), now_, it->second.delay, rserpool::Duration{0}, seq_++);
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
    it->second.to_owner.send(std::move(p), now_, it->second.delay, rserpool::Duration{0}, seq_++);
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

// The directory keeps an association to its configured peer: connected
// when both run, again after a loss (its reconnect interval, 1 s).
void World::enrp_connect() {
  if (regs_.size() != 2 || enrp_.up || enrp_.connecting) return;
  if (!regs_[0].alive || !regs_[1].alive || enrp_.cut_until) return;
  enrp_.connecting = true;
  ev("enrp-connect", static_cast<std::uint64_t>(regs_[0].incarnation), static_cast<std::uint64_t>(regs_[1].incarnation));
  schedule_at(now_ + 4 * enrp_.delay, [this, i0 = regs_[0].incarnation, i1 = regs_[1].incarnation] {
    if (!enrp_.connecting) return;
    enrp_.connecting = false;
    if (!regs_[0].alive || !regs_[1].alive || regs_[0].incarnation != i0 || regs_[1].incarnation != i1 ||
        enrp_.cut_until) {
      enrp_.pending.clear();
      schedule_at(now_ + 1s, [this] { enrp_connect(); });
      return;
    }
    enrp_up();
  });
}

void World::enrp_up() {
  enrp_.up = true;
  enrp_.inc[0] = regs_[0].incarnation;
  enrp_.inc[1] = regs_[1].incarnation;
  enrp_.whole_since = now_;
  ev("enrp-up");
  auto pending = std::move(enrp_.pending);
  enrp_.pending.clear();
  for (auto& [to, bytes] : pending) {
    Packet p;
    p.control = true;
    p.payload = std::move(bytes);
    enrp_.to[to].send(std::move(p), now_, enrp_.delay, draw_extra(), seq_++);
  }
  // Each directory's first message on a fresh association: a
  // reply-required PRESENCE to a server not known yet (receiver 0; the
  // directory's SendPresenceOn).
  for (std::size_t r = 0; r < 2; ++r)
    enrp_send(r, regs_[1 - r].id, enrp::Message{regs_[r].core->presence(0, true)});
}

// Lost (a registrar died, or SCTP gave it up in a partition): what was on
// its way is gone (the driver counts it: ENRP send failures).
void World::enrp_down() {
  if (!enrp_.up && !enrp_.connecting) return;
  ev("enrp-down");
  for (auto& pipe : enrp_.to) out_.enrp_lost_in_flight += pipe.take_all().size();
  enrp_.pending.clear();
  enrp_.up = false;
  enrp_.connecting = false;
  schedule_at(now_ + 1s, [this] { enrp_connect(); });
}

void World::enrp_send(std::size_t from, rserpool::ServerIdentifier peer, const enrp::Message& m) {
  const std::size_t to = peer - kFirstRegistrar;
  if (regs_.size() != 2 || to > 1 || to == from) {
    ++out_.enrp_unroutable;
    return;
  }
  rserpool::Bytes bytes = enrp::encode(m);
  if (enrp_.up) {
    Packet p;
    p.control = true;
    p.payload = std::move(bytes);
    enrp_.to[to].send(std::move(p), now_, enrp_.delay, draw_extra(), seq_++);
    return;
  }
  if (!enrp_.connecting) enrp_connect();
  if (enrp_.connecting) {
    enrp_.pending.emplace_back(to, std::move(bytes));
    return;
  }
  ++out_.enrp_unroutable;  // no association and none to be had: dropped, as sgd's driver does
}

void World::deliver_enrp() {
  if (regs_.size() != 2 || enrp_.cut_until) return;
  for (std::size_t r = 0; r < 2; ++r) {
    while (auto p = enrp_.to[r].pop_due(now_)) {
      if (!enrp_.up || !regs_[r].alive) continue;
      // The directory binds the peer's id at its first message; while it
      // waits for a mentor, that peer is the mentor (StartMentorDownload
      // before the message is delivered).
      if (auto& wait = regs_[r].mentor_wait_until) {
        if (now_ <= *wait) {
          ev("mentor-chosen", r, regs_[1 - r].id);
          run_registrar(r, regs_[r].core->start_mentor_download(regs_[1 - r].id, now_));
        }
        wait.reset();
        if (!regs_[r].alive) continue;
      }
      run_registrar(r, regs_[r].core->on_enrp_message(p->payload, now_, regs_[1 - r].id));
    }
  }
}

// A partition between the two registrars for `a`: nothing crosses; if it
// lasts longer than `b`, SCTP declares the association lost at both ends.
void World::enrp_cut(const Fault& f) {
  if (regs_.size() != 2) return;
  ++out_.enrp_cuts;
  enrp_.cut_until = now_ + f.a;
  if (f.b < f.a) {
    schedule_at(now_ + f.b, [this] {
      if (!enrp_.cut_until) return;
      ++out_.enrp_cut_lost;
      enrp_down();
    });
  }
  schedule_at(now_ + f.a, [this] { enrp_heal(); });
}

void World::enrp_heal() {
  enrp_.cut_until.reset();
  ev("enrp-heal");
  if (enrp_.up) {
    enrp_.whole_since = now_;
    return;
  }
  // Given up meanwhile: the directory's next reconnect attempt (its
  // interval is 1 s), or a message to the peer, opens a new one.
  schedule_at(now_ + draw_delay(0, 1'000'000), [this] { enrp_connect(); });
}

bool World::enrp_whole() const {
  return regs_.size() == 2 && regs_[0].alive && regs_[1].alive && enrp_.up && !enrp_.cut_until;
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
