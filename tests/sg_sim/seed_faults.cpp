// The faults a seed draws: controller kill, hang, exit with the
// registrar notice before or after the link failure, gateway kill.
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

void World::fault(const Fault& f) {
  ev("FAULT", static_cast<std::uint64_t>(f.kind), f.target);
  switch (f.kind) {
    case FaultKind::controller_kill: kill_controller(ctls_[f.target], f.b); break;
    case FaultKind::controller_hang: hang_controller(ctls_[f.target], f.a); break;
    case FaultKind::controller_exit_notice: exit_controller(ctls_[f.target], f.a, f.b, f.graceful); break;
    case FaultKind::gateway_kill: kill_gateway(f.target, f.a); break;
    case FaultKind::pool_outage: pool_outage(f.a); break;
    case FaultKind::ss7_partition: ss7_partition(f); break;
    case FaultKind::enrp_partition: enrp_cut(f); break;
    case FaultKind::controller_partition: ctl_partition(f); break;
  }
}

void World::kill_controller(Controller& c, rserpool::Duration rejoin) {
  if (c.proc == Proc::dead) return;
  expose_ringing(c);
  pool_changed();
  c.proc = Proc::dead;
  c.kernel_alive = false;
  for (const auto& m : c.held) expose(m, Why::controller_sent);
  c.held.clear();
  // Its kernel aborts every association: the gateways see it one delay
  // later; what they sent that had not arrived is handed back.
  for (auto& [id, a] : assocs_) {
    if (a->pe != c.id || a->ctl_down) continue;
    a->ctl_down = true;
    schedule_at(now_ + a->delay, [this, aid = id] {
      Assoc* x = assoc(aid);
      if (!x || x->gw_down) return;
      auto back = x->take_unsent_to_ctl();
      ev("abort-seen", x->g, x->pe, back.size());
      // What it sent before dying and has not arrived is gone with it.
      for (auto& p : x->take_unsent_to_gw()) {
        if (!p.control) expose(p.data, Why::controller_sent);
        else for (auto cic : calls_in_cookie(p)) expose_call(cic, Why::controller_sent);
      }
      if (!x->link) return;
      x->link->send_failed(std::move(back));
      gw_association_down(*x, rserpool::transport::DownReason::aborted);
    });
  }
  // Its ASAP associations abort too: each registrar removes its PE
  // (remove_pes_on_association_down) one delay later.
  for (auto& [local, id] : c.asap_links) asap_owner_closes(id, /*abort=*/true);
  c.asap_links.clear();
  c.asap_unread.clear();
  if (rejoin.count() > 0) schedule_at(now_ + rejoin, [this, id = c.id] { rejoin_controller(id); });
}

// Every controller dies at once (a power cut of their site): the pool is
// empty until they rejoin. What was in progress, and what the SS7 side
// starts meanwhile, may fail (the pool's DPC is unavailable: DUNA once
// pool-wait passes).
void World::pool_outage(rserpool::Duration rejoin) {
  for (auto& [cic, rec] : calls_)
    if (rec.open) expose_call(cic, Why::outage);
  for (const auto& [fp, origin] : cookie_origin_) heir_exempt_cookies_.insert(fp);
  for (auto& c : ctls_) kill_controller(c, rejoin);
}

void World::rejoin_controller(PeIdentifier id) {
  Controller& c = *controller(id);
  if (c.proc != Proc::dead) return;
  ev("controller-rejoin", id);
  pool_changed();
  c.proc = Proc::running;
  c.kernel_alive = true;
  c.model = std::make_unique<GwcCallModel>();
  ++c.incarnation;
  c.assoc.assign(gws_.size(), 0);
  c.cut_until.assign(gws_.size(), std::nullopt);
  c.relink_after_cut.assign(gws_.size(), false);
  c.last_gw = SIZE_MAX;
  c.port = static_cast<std::uint16_t>(c.port + 100);  // registers anew
  start_pe(c);
}

void World::hang_controller(Controller& c, rserpool::Duration resume_after) {
  if (c.proc != Proc::running) return;
  expose_ringing(c);
  // Hung before it registered again (its registrar died with a gateway
  // and no living registrar lists it): no gateway can place anything on
  // it, so a message for a call it holds goes to another controller (or
  // waits for it in vain). A membership change, counted.
  if (!listed(c))
    for (auto cic : calls_in(c.model->make_cookie())) expose_call(cic, Why::membership);
  // Its replies that wait for a gateway wait for it to run again.
  for (const auto& m : c.held) expose(m, Why::kernel);
  c.proc = Proc::hung;
  const auto hung_at = now_;
  // M3UA BEAT goes unanswered: each gateway fails its link then.
  schedule_at(hung_at + plan_.beat_detection, [this, id = c.id] {
    Controller& x = *controller(id);
    if (x.proc != Proc::hung) return;
    pool_changed();
    for (auto& [aid, a] : assocs_) {
      if (a->pe != id || a->gw_down || !a->link || !gws_[a->g].alive) continue;
      ev("beat-timeout", a->g, id, aid);
      gwc_link::Actions out;
      // The driver aborts the association; the transport then reports it down.
      // What its kernel holds unread is given up now (whatever it does
      // with it when it resumes, its answers are dropped: fenced).
      for (const auto& p : a->unread) {
        if (!p.control && !p.kept_copy) expose(p.data, Why::kernel);
        // A copy kept since it was suspected (its registration gone while
        // it hung) is re-sent to the heir now, after what the SLS carried
        // to another controller meanwhile (finding, docs/architecture.md).
        if (!p.control && p.kept_copy) order_exempt(p.data);
        // A cookie it never adopted: the calls it carried have no holder.
        if (p.control) for (auto cic : calls_in_echo(p)) expose_call(cic, Why::kernel);
      }
      a->link->send_failed(a->take_unsent_to_ctl());
      gw_association_down(*a, rserpool::transport::DownReason::heartbeat_timeout);
      schedule_at(now_ + a->delay, [this, aid2 = aid] {
        if (Assoc* y = assoc(aid2)) controller_sees_abort(*y);
      });
    }
  });
  schedule_at(hung_at + resume_after, [this, id = c.id] { resume_controller(id); });
}

void World::resume_controller(PeIdentifier id) {
  Controller& c = *controller(id);
  if (c.proc != Proc::hung) return;
  ev("controller-resume", id);
  c.proc = Proc::running;
  // The aborts first (its socket reports them before anything else).
  for (auto [aid, died] : c.unseen_aborts) lose_association(c, aid, died);
  c.unseen_aborts.clear();
  // What its registrars sent it meanwhile (keep-alives), in order.
  auto asap = std::move(c.asap_unread);
  c.asap_unread.clear();
  for (auto& [local, bytes] : asap) {
    rserpool::asap::Actions out;
    if (bytes.empty()) {
      c.asap_links.erase(local);
      c.pe->on_registrar_lost(local, now_, out);
    } else if (bytes.size() == 1 && bytes[0] == 0x02) {
      c.asap_links.erase(local);
      c.pe->on_registrar_connect_failed(local, now_, out);
    } else if (bytes.size() == 1) {
      c.pe->on_registrar_connected(local, now_, out);
    } else {
      pe_reads(c, local, bytes);
      continue;
    }
    run_pe(c, out);
  }
  // Then what its kernel kept for it, in order.
  for (auto& [aid, a] : assocs_) {
    if (a->pe != id) continue;
    auto unread = std::move(a->unread);
    a->unread.clear();
    for (auto& p : unread) controller_reads(c, *a, std::move(p));
  }
  for (auto aid : std::vector<std::uint64_t>(pending_asp_.begin(), pending_asp_.end())) {
    Assoc* a = assoc(aid);
    if (!a || a->pe != id) continue;
    pending_asp_.erase(aid);
    if (!a->gw_down && !a->ctl_down) asp_active(*a, c);
  }
  flush_held(c);
}

// The process dies; its kernel keeps the associations a while
// (acknowledging what it will never read); the registrar notices after
// `notice`, the gateway's link fails after `link`.
void World::exit_controller(Controller& c, rserpool::Duration notice, rserpool::Duration link, bool graceful) {
  if (c.proc != Proc::running) return;
  expose_ringing(c);
  pool_changed();
  if (graceful && c.pe) {
    // A graceful leave: DEREGISTRATION to its home registrar first.
    ev("deregister", c.id);
    rserpool::asap::Actions out;
    c.pe->deregister(now_, out);
    run_pe(c, out);
  }
  c.proc = Proc::dead;
  for (const auto& m : c.held) expose(m, Why::controller_sent);
  c.held.clear();
  // Its ASAP associations close: the registrar's loss notice.
  schedule_at(now_ + notice, [this, id = c.id] {
    Controller& x = *controller(id);
    for (auto& [local, aid] : x.asap_links) asap_owner_closes(aid, /*abort=*/false);
    x.asap_links.clear();
  });
  schedule_at(now_ + link, [this, id = c.id] {
    Controller& x = *controller(id);
    x.kernel_alive = false;
    for (auto& [aid, a] : assocs_) {
      if (a->pe != id || a->ctl_down) continue;
      a->ctl_down = true;
      for (auto& p : a->unread)
        if (!p.control) lost_in_kernel(*a, p);
      a->unread.clear();
      schedule_at(now_ + a->delay, [this, aid2 = aid] {
        Assoc* y = assoc(aid2);
        if (!y || y->gw_down) return;
        auto back = y->take_unsent_to_ctl();
        for (auto& p : y->take_unsent_to_gw()) {
          if (!p.control) expose(p.data, Why::controller_sent);
          else for (auto cic : calls_in_cookie(p)) expose_call(cic, Why::controller_sent);
        }
        ev("shutdown-seen", y->g, y->pe, back.size());
        if (!y->link) return;
        y->link->send_failed(std::move(back));
        gw_association_down(*y, rserpool::transport::DownReason::peer_closed);
      });
    }
  });
}

// SIGKILL of a gateway: what it held is lost; its kernel aborts every
// association; the SS7 side and the controllers get back what had not
// reached it. `restart`: back after that long (0: stays down).
void World::kill_gateway(std::size_t g, rserpool::Duration restart) {
  Gateway& w = gws_[g];
  if (!w.alive) return;
  ++out_.gateway_kills;
  gateway_event();
  for (const auto& m : kept_in_gateway_[g]) expose(m, Why::gateway);
  kept_in_gateway_[g].clear();
  for (auto& [k, e] : w.ledger.entries) {
    for (std::int64_t i = 0; i < e.count; ++i) {
      ++out_.lost_with_gateway;
      expose(e.sample, Why::gateway);
    }
  }
  accumulate(w);
  kill_registrar(g);  // the co-located registrar dies with it
  w.alive = false;
  w.pool_user.reset();
  w.asap_links.clear();
  w.dist.reset();
  w.selector.reset();
  w.link_of.clear();
  // To the SS7 side: what it had sent us and we had not received comes
  // back (one delay later, with the abort); what we had sent it and it
  // had not received by then is gone.
  const auto abort_at = now_ + w.ss7_delay;
  w.sgp.reset();
  schedule_at(abort_at, [this, g] {
    Gateway& x = gws_[g];
    // The transport hands back the DATA it had not delivered (SCTP
    // SEND_FAILED: the encoded messages); other M3UA messages go with the
    // association.
    std::vector<MtpMessage> back;
    for (auto& p : x.from_ss7.take_all())
      if (auto m = data_in(p.payload)) back.push_back(std::move(*m));
    for (auto& p : x.to_ss7.take_all()) {
      auto m = data_in(p.payload);
      if (!m) continue;
      ++out_.lost_with_gateway;
      expose(*m, Why::gateway);
    }
    ss7_sees_abort(g, std::move(back));
  });
  for (auto& [id, a] : assocs_) {
    if (a->g != g || a->gw_down) continue;
    a->gw_down = true;
    a->gateway_died = true;
    schedule_at(now_ + a->delay, [this, aid = id] {
      Assoc* x = assoc(aid);
      if (!x) return;
      for (auto& p : x->take_unsent_to_ctl()) {
        ++out_.lost_with_gateway;
        expose(p, Why::gateway);
      }
      controller_sees_abort(*x);
    });
  }
  if (restart.count() > 0) schedule_at(now_ + restart, [this, g] { start_gateway(g); });
}

}  // namespace world

}  // namespace sg::sim::seeded
