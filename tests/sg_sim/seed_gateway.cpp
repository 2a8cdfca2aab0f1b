// Each gateway: the real PoolDistributor (with Membership and the
// selector) and one real gwc_link::Link per controller association;
// this file executes their actions.
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

void World::start_gateway(std::size_t g) {
  Gateway& w = gws_[g];
  if (w.dist) accumulate(w);
  // A restarted gateway cannot know that a listed controller is hung: it
  // places new flows there (connecting) and they wait for M3UA T(ack)
  // (finding, docs/architecture.md): what it carries meanwhile may fail.
  if (w.incarnation > 0 &&
      std::any_of(ctls_.begin(), ctls_.end(), [](const Controller& c) { return c.proc == Proc::hung; }))
    hung_at_restart_ = now_;
  w.alive = true;
  ++w.incarnation;

  w.ledger = Ledger{};
  w.announced_unavailable = false;
  w.crossed_duna.clear();
  w.started_at = now_;
  w.link_of.clear();
  w.selector = std::make_unique<PoolMemberSelector>(PlacementMode::rendezvous, 0x5347u + g);
  DistributorConfig dc;
  DistributorProfile profile;
  profile.membership.audit_bound = 2s;
  profile.membership.retry_initial = 500ms;
  profile.membership.suspicion = 1500ms;
  w.dist = std::make_unique<PoolDistributor>(dc, *w.selector, profile);
  // sgd (gateway.cpp): a gateway of a pair holds its new calls for the
  // start-up settle too, so that none is hashed over a part of the pool.
  if (gws_.size() > 1) w.dist->hold_new_calls_until_settled();
  w.dist->start(now_);
  w.ss7_delay = draw_delay(200, 3000);
  ev("gateway-start", g, static_cast<std::uint64_t>(w.incarnation));
  // The SS7 side's association comes up after two round trips (INIT,
  // COOKIE); its ASP then goes through ASPUP and ASPAC with the SGP.
  w.sgp = std::make_unique<mxua::SgpNode>(sgp_config());
  w.ss7_assoc = 0;
  w.ss7_cut_until.reset();
  w.ss7_gw_lost = false;
  w.rejected_from_stp.clear();
  w.queued_for_ss7.clear();
  schedule_at(now_ + kSetupRoundTrips * 2 * w.ss7_delay, [this, g, inc = w.incarnation] { ss7_association_up(g, inc); });
  // Its co-located registrar starts with it (a pair's: with a mentor
  // download from the mate's); its pool view comes from the registrar.
  start_registrar(g);
  start_pool_user(g);
}

void World::accumulate(const Gateway& w) {
  const auto& c = w.dist->counters();
  out_.failovers += c.failovers;
  out_.cookies_echoed += c.cookies_echoed;
  out_.resent_after_failover += c.resent_after_failover;
}

// The pool user's watcher (sgd: PoolRuntime::handlespace).
void World::publish(std::size_t g, const std::vector<rserpool::PoolElementParameter>& list) {
  Gateway& w = gws_[g];
  if (!w.alive) return;
  ev("handlespace", g, list.size());
  apply(g, w.dist->handlespace(list, now_));
}

// The distributor's actions.
void World::apply(std::size_t g, std::vector<Action> actions) {
  Gateway& w = gws_[g];
  for (auto& act : actions) {
    if (!w.alive) return;
    if (auto* d = std::get_if<action::SendData>(&act)) {
      w.ledger.out(d->message);
      auto it = w.link_of.find(d->pe);
      Assoc* a = it == w.link_of.end() ? nullptr : assoc(it->second);
      if (!a || !a->link) {
        violation("SendData to a PE without a link");
        continue;
      }
      const bool kept = w.dist->state_of(d->pe) == MemberState::suspect;
      gwc_link::Actions out;
      a->link->send(std::move(d->message), out);
      run_link(*a, out, kept);
    } else if (auto* e = std::get_if<action::SendCookieEcho>(&act)) {
      auto it = w.link_of.find(e->pe);
      Assoc* a = it == w.link_of.end() ? nullptr : assoc(it->second);
      gwc_link::Actions out;
      if (!a || !a->link || !a->link->echo_cookie(asap::encode(asap::CookieEcho{e->cookie}), out)) {
        violation("COOKIE_ECHO with no active link");
        continue;
      }
      note_heir(g, e->pe, e->cookie);
      run_link(*a, out, false);
    } else if (auto* cn = std::get_if<action::Connect>(&act)) {
      connect(g, cn->pe);
    } else if (auto* f = std::get_if<action::Fence>(&act)) {
      ev("fence", g, f->pe);
      if (Controller* fc = controller(f->pe)) fc->fenced_until = now_ + 2s + 1s;  // audit bound, re-listing
      for (auto& h : heirs_) h.second.erase(f->pe);  // cut off: no longer anyone's living heir
      retire(g, f->pe, /*fence=*/true);
    } else if (auto* dc = std::get_if<action::Disconnect>(&act)) {
      ev("disconnect", g, dc->pe);
      retire(g, dc->pe, /*fence=*/false);
    } else if (auto* dr = std::get_if<action::Drop>(&act)) {
      w.ledger.out(dr->message);
      ev("drop", g, tag(dr->message), static_cast<std::uint64_t>(dr->reason));
      // Waited pool-wait while the pool was out: dropped with its reason,
      // counted (the SS7 side had a DUNA for it by then).
      if (dr->reason == DropReason::pool_unavailable && in_outage(now_)) expose(dr->message, Why::outage);
      // Sent by the STP before the gateway's DUNA reached it (the DUNA
      // was retransmitted, and the STP's 50 ms changeback took the SLSs
      // there first: seed 3256): dropped after pool-wait, counted.
      if (dr->reason == DropReason::pool_unavailable && !in_outage(now_) &&
          w.crossed_duna.count(fingerprint(dr->message))) {
        ++out_.crossed_duna;
        expose(dr->message, Why::outage);
      }
    } else if (auto* n = std::get_if<action::News>(&act)) {
      ev("news", g, n->pe, static_cast<std::uint64_t>(n->what));
      // The pool changed. Joins before the first call are not a change;
      // the controllers register one by one, so later joins are (calls
      // placed before are hashed over fewer controllers). A pair's
      // restarted gateway learns the whole pool at once (its registrar's
      // mentor download): its joins change nothing the mate placed.
      const bool startup_join = n->what == MemberNews::joined &&
                                (calls_.empty() || (gws_.size() == 2 && w.incarnation > 1 && now_ - w.started_at < 1s));
      if (n->what != MemberNews::retrying && !startup_join) pool_changed();
    } else if (auto* ru = std::get_if<action::ReportUnreachable>(&act)) {
      // sgd: PoolHooks::report_unreachable, through the pool user.
      ev("report-unreachable", g, ru->pe);
      rserpool::asap::Actions out;
      w.pool_user->report_failure(rserpool::PoolHandle(kPool), ru->pe, now_, out);
      run_pool_user(g, out);
    } else if (std::holds_alternative<action::PoolUnavailable>(act)) {
      announce(g, false);
    } else if (std::holds_alternative<action::PoolAvailable>(act)) {
      announce(g, true);
    }
  }
}

void World::retire(std::size_t g, PeIdentifier pe, bool fence) {
  Gateway& w = gws_[g];
  auto it = w.link_of.find(pe);
  if (it == w.link_of.end()) return;
  Assoc* a = assoc(it->second);
  w.link_of.erase(it);
  if (!a || !a->link) return;
  gwc_link::Actions out;
  if (fence) a->link->fence(out);
  else a->link->close(now_, out);
  run_link(*a, out, false);
}

void World::connect(std::size_t g, PeIdentifier pe) {
  Gateway& w = gws_[g];
  if (auto old = w.link_of.find(pe); old != w.link_of.end()) retire(g, pe, /*fence=*/true);
  auto a = std::make_unique<Assoc>();
  a->id = ++assoc_ids_;
  a->g = g;
  a->pe = pe;
  a->link = std::make_unique<gwc_link::Link>(w.link_counters);
  a->delay = draw_delay(200, 5000);
  const auto id = a->id;
  w.link_of[pe] = id;
  assocs_.emplace(id, std::move(a));
  ev("connect", g, pe, id);
  schedule_at(now_ + kSetupRoundTrips * 2 * assocs_.at(id)->delay, [this, id] { established(id); });
}

void World::established(std::uint64_t id) {
  Assoc* a = assoc(id);
  if (!a || a->gw_down) return;
  Controller* c = controller(a->pe);
  if (!c || !c->kernel_alive || c->proc == Proc::dead || ctl_cut(*a)) {
    ev("connect-failed", a->g, a->pe, id);
    a->ctl_down = true;
    gw_association_down(*a, rserpool::transport::DownReason::connect_failed);
    return;
  }
  a->established = true;
  ev("association-up", a->g, a->pe, id);
  gwc_link::Actions out;
  a->link->association_up(out);
  a->link->set_outbound_streams(plan_.streams);
  run_link(*a, out, false);
  asp_start(id);
}

// ASPUP/ASPAC: needs the controller's process.
void World::asp_start(std::uint64_t id) {
  schedule_at(now_ + kAspRoundTrips * 2 * assoc(id)->delay, [this, id] {
    Assoc* a = assoc(id);
    if (!a || a->gw_down || a->ctl_down) return;
    Controller* c = controller(a->pe);
    // A process that is gone answers nothing: its kernel closes the
    // association when it is its turn (an exit's `link` delay, seed 1477:
    // the world had an exited controller answer ASPAC, and the gateway's
    // DAVA followed from a pool the world held empty).
    if (c->proc == Proc::dead) return;
    if (c->proc == Proc::hung || ctl_cut(*a)) {
      // It answers when it resumes, unless T(ack) fails the request first.
      pending_asp_.insert(id);
      schedule_at(now_ + kAspTimeout, [this, id] {
        if (!pending_asp_.erase(id)) return;
        Assoc* x = assoc(id);
        if (!x || x->gw_down || !x->link) return;
        gwc_link::Actions out;
        x->link->request_failed(out);
        run_link(*x, out, false);
      });
      return;
    }
    asp_active(*a, *c);
  });
}

void World::asp_active(Assoc& a, Controller& c) {
  // The controller takes this association as its way to gateway a.g.
  a.ctl_active = true;
  c.assoc[a.g] = a.id;
  if (c.relink_after_cut[a.g]) {
    c.relink_after_cut[a.g] = false;
    ++out_.ctl_cut_relinked;
  }
  heirs_.erase({c.id, c.incarnation});  // a new failure of it is a new event
  ev("asp-active", a.g, a.pe, a.id);
  gwc_link::Actions out;
  a.link->asp_state(mxua::AspState::Inactive, mxua::AspState::Active, gwc_link::kRoutingContext, out);
  run_link(a, out, false);
  flush_held(c);
}

// A gwc_link::Link's actions.
void World::run_link(Assoc& a, gwc_link::Actions& actions, bool kept) {
  Gateway& w = gws_[a.g];
  for (auto& act : actions) {
    if (auto* sd = std::get_if<gwc_link::action::SendData>(&act)) {
      Packet p;
      p.stream = mxua::data_stream(sd->message.sls, plan_.streams).value_or(0);
      ev("gw-send", a.g, a.pe, tag(sd->message));
      // Sent into a partition its SCTP has not noticed yet: it arrives at
      // the heal, after what the SLS carried through the mate meanwhile
      // (a changeback), or comes back for the heir: may fail (seed 8898).
      if (ctl_cut(a)) expose(sd->message, Why::partition);
      p.data = std::move(sd->message);
      p.kept_copy = kept;
      a.to_ctl.send(std::move(p), now_, a.delay, draw_extra(), seq_++);
    } else if (auto* sc = std::get_if<gwc_link::action::SendControl>(&act)) {
      Packet p;
      p.control = true;
      p.stream = sc->message.stream;
      p.payload = std::move(sc->message.payload);
      ev("gw-cookie-echo", a.g, a.pe, p.stream);
      if (ctl_cut(a)) for (auto cic : calls_in_echo(p)) expose_call(cic, Why::partition);
      a.to_ctl.send(std::move(p), now_, a.delay, draw_extra(), seq_++);
    } else if (std::holds_alternative<gwc_link::action::Up>(act)) {
      if (w.alive && w.link_of.count(a.pe) && w.link_of[a.pe] == a.id) apply(a.g, w.dist->association_up(a.pe, now_));
    } else if (auto* f = std::get_if<gwc_link::action::Failed>(&act)) {
      ev("link-failed", a.g, a.pe, f->handed_back.size());
      for (auto& m : f->handed_back) w.ledger.in(m);
      if (w.link_of.count(a.pe) && w.link_of[a.pe] == a.id) w.link_of.erase(a.pe);
      apply(a.g, w.dist->association_failed(a.pe, std::move(f->handed_back), now_));
    } else if (auto* cl = std::get_if<gwc_link::action::Closed>(&act)) {
      ev("link-closed", a.g, a.pe, cl->handed_back.size());
      for (auto& m : cl->handed_back) w.ledger.in(m);
      if (w.link_of.count(a.pe) && w.link_of[a.pe] == a.id) {
        w.link_of.erase(a.pe);
        apply(a.g, w.dist->association_closed(a.pe, std::move(cl->handed_back), now_));
      } else if (!cl->handed_back.empty()) {
        apply(a.g, w.dist->handed_back(a.pe, std::move(cl->handed_back), now_));
      }
    } else if (auto* d = std::get_if<gwc_link::action::Deliver>(&act)) {
      auto verdict = w.dist->from_member(a.pe, d->message, now_);
      ev(verdict.forward ? "gw-forward" : "gw-drop-fenced", a.g, a.pe, tag(d->message));
      if (verdict.forward) gw_to_ss7(a.g, d->message);
      apply(a.g, std::move(verdict.actions));
    } else if (auto* ck = std::get_if<gwc_link::action::CookieReceived>(&act)) {
      w.dist->cookie_received(a.pe, std::move(ck->cookie));
    } else if (std::holds_alternative<gwc_link::action::AbortAssociation>(act) ||
               std::holds_alternative<gwc_link::action::CloseAssociation>(act)) {
      gateway_aborts(a);
    } else if (std::holds_alternative<gwc_link::action::RequestAspDown>(act)) {
      // ASPDN answered after one round trip: the link closes.
      schedule_at(now_ + 2 * a.delay, [this, id = a.id] {
        Assoc* x = assoc(id);
        if (!x || x->gw_down || !x->link) return;
        gwc_link::Actions out;
        x->link->asp_state(mxua::AspState::Active, mxua::AspState::Down, std::nullopt, out);
        run_link(*x, out, false);
      });
    } else if (auto* di = std::get_if<gwc_link::action::Discarded>(&act)) {
      ev("link-discarded", a.g, a.pe, static_cast<std::uint64_t>(di->what));
    }
  }
  actions.clear();
}

// The gateway aborts (or closes) the association: what had not reached
// the controller is handed back by the transport (not acknowledged);
// what reached a controller that did not read it is gone with the abort.
void World::gateway_aborts(Assoc& a) {
  if (a.gw_down) return;
  auto back = a.take_unsent_to_ctl();
  ev("gw-abort", a.g, a.pe, back.size());
  a.link->send_failed(std::move(back));
  gw_association_down(a, rserpool::transport::DownReason::local_close);
  // What the controller had sent and we had not received: its transport
  // hands it back to the controller when it sees the abort.
  schedule_at(now_ + a.delay, [this, id = a.id] {
    if (Assoc* x = assoc(id)) controller_sees_abort(*x);
  });
}

void World::gw_association_down(Assoc& a, rserpool::transport::DownReason why) {
  if (a.gw_down) return;
  a.gw_down = true;
  if (!gws_[a.g].alive || !a.link) return;
  gwc_link::Actions out;
  a.link->association_down(why, out);
  run_link(a, out, false);
}

}  // namespace world

}  // namespace sg::sim::seeded
