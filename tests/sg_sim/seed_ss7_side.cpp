// The SS7 side: the call generator, SLS load sharing over the gateways,
// and what it receives (duplicates and answers for no call are checked
// here). It reaches each gateway as an M3UA ASP: the real AspClient core
// (ASPUP, ASPAC, DATA on the SLS's stream, DUNA / DAVA received) on one
// simulated association per gateway; SgLoadShare moves an SLS to the mate
// when the ASP towards its gateway is lost (ASP failover in the pair).
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

void World::ss7_out(std::vector<SgLoadShare::Send> sends) {
  for (auto& s : sends) {
    ev("ss7-send", s.sg, tag(s.message));
    if (in_ss7_cut_window(s.sg, now_)) expose(s.message, Why::partition);
    Ss7Asp& asp = ss7_asps_[s.sg];
    mxua::Actions out;
    asp.client->send_data(to_data_view(s.message), out);
    run_asp(s.sg, std::move(out));
  }
}

void World::from_generator(std::vector<MtpMessage> ms) {
  for (auto& m : ms) {
    if (m.si == kSiIsup) {
      if (auto h = ss7::parse_isup_header(m.data); h && h->message_type == static_cast<std::uint8_t>(ss7::IsupMessageType::iam)) {
        auto& rec = calls_[h->cic];
        ++rec.serial;
        rec.started = now_;
        rec.sls = m.sls;
        rec.open = true;
        rec.seen.clear();
      }
    }
    // Started while the pool is out: may fail (every gateway announces
    // DUNA, so the STP has no route around it: the traffic waits in
    // SgLoadShare or at a gateway, bounded).
    if (in_outage(now_)) expose(m, Why::outage);
    // Sent while the STP is cut off from the gateway its SLS uses (or
    // from every gateway: it waits in SgLoadShare): may fail.
    for (std::size_t g = 0; g < gws_.size(); ++g) {
      if (!in_ss7_cut_window(g, now_)) continue;
      const auto route = ss7_->route_of(m.sls);
      if (!route || *route == g) expose(m, Why::partition);
    }
    ss7_out(ss7_->send(std::move(m), now_));
  }
  check_failures();
}

void World::deliver_ss7_side() {
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    Gateway& w = gws_[g];
    if (ss7_cut(g)) continue;  // nothing crosses a partition
    while (w.alive) {
      auto p = w.from_ss7.pop_due(now_);
      if (!p) break;
      if (w.ss7_gw_lost) {
        // The gateway's SCTP gave the association up: its ABORT answers,
        // and the STP's transport hands this back when it learns.
        w.rejected_from_stp.push_back(std::move(*p));
        continue;
      }
      mxua::Actions out;
      w.sgp->receive(w.ss7_assoc, p->stream, p->payload, now_, out);
      run_sgp(g, std::move(out));
    }
    while (auto p = w.to_ss7.pop_due(now_)) {
      Ss7Asp& asp = ss7_asps_[g];
      if (!asp.up) {
        // The STP's SCTP gave the association up (a partition): ABORT; the
        // gateway's driver gets it back and has no other way: lost.
        if (auto m = data_in(p->payload)) {
          ++out_.lost_on_ss7_cut;
          expose(*m, Why::partition);
        }
        continue;
      }
      mxua::Actions out;
      asp.client->receive(p->stream, p->payload, now_, out);
      run_asp(g, std::move(out));
    }
  }
}

// The association between the SS7 side and gateway g is up at both ends
// (INIT / COOKIE took two round trips): the SGP learns of it, the ASP sends
// ASPUP at once and ASPAC when it is acknowledged.
void World::ss7_association_up(std::size_t g, int incarnation) {
  Gateway& w = gws_[g];
  if (!w.alive || w.incarnation != incarnation) return;
  w.ss7_assoc = ++m3ua_assoc_ids_;
  ev("ss7-association-up", g, w.ss7_assoc);
  run_sgp(g, w.sgp->association_up(w.ss7_assoc, kSs7Streams, now_));
  Ss7Asp& asp = ss7_asps_[g];
  asp.up = true;
  asp.dpc_available = true;
  asp.view_since = now_;
  asp.client->set_association(w.ss7_assoc);
  run_asp(g, asp.client->association_up(now_, kSs7Streams));
}

// The SS7 side sees its association to gateway g go (the gateway died):
// its ASP is down, and SgLoadShare re-sends what the transport gave back
// through the mate, before anything newer of those SLSs.
void World::ss7_sees_abort(std::size_t g, std::vector<MtpMessage> handed_back) {
  Ss7Asp& asp = ss7_asps_[g];
  ev("ss7-sg-lost", g, handed_back.size());
  asp.up = false;
  asp.active = false;
  asp.routed = false;
  run_asp(g, asp.client->association_down(now_));
  ss7_out(ss7_->sg_lost(g, std::move(handed_back), now_));
}

// Whether the STP routes the pool's DPC through gateway g: while the ASP
// towards it is ACTIVE and it has not announced the DPC unavailable. This
// is a model of a real STP (osmo-stp, or any MTP3 routing over a pair of
// SGs), not the product: a DUNA from one SG makes the route through it
// unavailable, and the destination is reached over the other SG of the
// pair (or, with none, its traffic waits in SgLoadShare, bounded, as an
// STP buffers toward an unavailable route for a while); a DAVA brings the
// route back after the changeback (Q.704 6.4). What was already sent
// through g stays there (the gateway holds it, or drops it counted).
void World::ss7_route(std::size_t g) {
  Ss7Asp& asp = ss7_asps_[g];
  const bool routable = asp.active && asp.dpc_available;
  if (routable == asp.routed) return;
  asp.routed = routable;
  if (routable) {
    ev("ss7-route-up", g);
    ss7_out(ss7_->sg_active(g, now_));
    // A restarted gateway (or one the STP reconnected to, or one that
    // announced the DPC available again) takes its SLSs back after the
    // changeback: the calls on them meet a gateway that did not place
    // them, as at a death. So does a pair's gateway whose first ASPAC
    // came after the calls started (a retransmission on the SS7
    // association): the mate carried its SLSs until then (seeds 266, 618).
    if (asp.was_routed || (gws_.size() == 2 && !calls_.empty())) schedule_at(now_ + 50ms, [this] { gateway_event(); });
    asp.was_routed = true;
  } else {
    ev("ss7-route-away", g);
    ss7_out(ss7_->sg_lost(g, {}, now_));
  }
}

// The ASP core's actions at the SS7 side.
void World::run_asp(std::size_t g, mxua::Actions actions) {
  Gateway& w = gws_[g];
  Ss7Asp& asp = ss7_asps_[g];
  for (auto& act : actions) {
    if (auto* s = std::get_if<mxua::Send>(&act)) {
      if (!asp.up) continue;
      Packet p;
      p.stream = s->stream;
      p.payload = mxua::encode(s->message);
      w.from_ss7.send(std::move(p), now_, w.ss7_delay, draw_ss7_extra(), seq_++);
    } else if (auto* sd = std::get_if<mxua::SendData>(&act)) {
      Packet p;
      p.stream = sd->stream;
      mxua::encode_data(sd->view(), p.payload);
      w.from_ss7.send(std::move(p), now_, w.ss7_delay, draw_ss7_extra(), seq_++);
    } else if (auto* d = std::get_if<mxua::DataIndication>(&act)) {
      at_ss7(to_mtp(std::move(d->data.protocol_data)));
    } else if (auto* c = std::get_if<mxua::AspStateChanged>(&act)) {
      ev("ss7-asp", g, static_cast<std::uint64_t>(c->from), static_cast<std::uint64_t>(c->to));
      const bool active = asp.client->active_for(kRc);
      if (active && !asp.active) {
        asp.active = true;
        ss7_route(g);
      }
    } else if (auto* ds = std::get_if<mxua::DestinationStateChanged>(&act)) {
      if (!ds->destination.contains(mxua::PointCode{kPoolDpc})) continue;
      const bool available = ds->availability == mxua::DestinationAvailability::Available;
      ev(available ? "ss7-dava" : "ss7-duna", g);
      ++(available ? out_.dava_seen : out_.duna_seen);
      out_.announcements.emplace_back(now_ - TimePoint{}, available);
      dpc_announced(g, available);
      ss7_route(g);
    } else if (auto* dr = std::get_if<mxua::Drop>(&act)) {
      violation("the SS7 side's ASP towards gateway " + std::to_string(g) + " dropped " + std::to_string(dr->count) +
                " message(s): " + std::string(mxua::to_string(dr->reason)));
    } else if (auto* rf = std::get_if<mxua::RequestFailed>(&act)) {
      ev("ss7-request-failed", g, rf->request.msg_type);
    } else if (auto* e = std::get_if<mxua::ErrIndication>(&act)) {
      violation("the SS7 side's ASP got ERR " + std::string(mxua::to_string(e->err.code)) + " from gateway " +
                std::to_string(g));
    }
  }
}

void World::at_ss7(MtpMessage m) {
  ev("ss7-receive", tag(m));
  if (m.si == kSiIsup) {
    if (auto h = ss7::parse_isup_header(m.data)) {
      using T = ss7::IsupMessageType;
      const auto type = static_cast<T>(h->message_type);
      auto& rec = calls_[h->cic];
      if (type == T::acm || type == T::anm || type == T::rlc) {
        if (!rec.open) {
          if (!exempt(h->cic)) violation("SS7 side: " + std::string(type == T::rlc ? "RLC" : type == T::anm ? "ANM" : "ACM") +
                                         " for no call on circuit " + std::to_string(h->cic));
        } else if (!rec.seen.insert(h->message_type).second) {
          if (!exempt(h->cic)) violation("SS7 side: duplicate " + std::to_string(h->message_type) + " on circuit " +
                                         std::to_string(h->cic));
        } else if (type == T::acm && rec.seen.count(static_cast<std::uint8_t>(T::anm))) {
          if (!exempt(h->cic)) violation("SS7 side: ACM after ANM on circuit " + std::to_string(h->cic));
        }
        if (type == T::rlc) rec.open = false;
      }
    }
  }
  const auto unexpected = gen_->stats().unexpected_messages;
  auto back = gen_->on_message(m, now_);
  if (gen_->stats().unexpected_messages != unexpected && m.si == kSiIsup) {
    auto h = ss7::parse_isup_header(m.data);
    if (h && !exempt(h->cic)) violation("SS7 side: unexpected message on circuit " + std::to_string(h->cic));
  }
  from_generator(std::move(back));
}

}  // namespace world

}  // namespace sg::sim::seeded
