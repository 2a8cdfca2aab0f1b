// Each gateway's SS7 face: the real M3UA SGP core (mxua::SgpNode), as sgd
// runs it, with the SS7 side's ASP on one simulated association. This file
// executes the core's actions: messages go out encoded (the driver encodes
// once), DATA it indicates goes to the PoolDistributor, the pool's
// availability goes in as MTP-PAUSE / MTP-RESUME (DUNA / DAVA, RFC 4666
// 4.5.1).
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

mxua::SgpConfig World::sgp_config() {
  mxua::SgpConfig c;
  mxua::AsConfig as;
  as.name = "stp";
  as.routing_context = kRc;
  as.mode = mxua::TrafficMode::Loadshare;
  c.application_servers.push_back(as);
  c.accept_unknown_peers = true;
  return c;
}

void World::run_sgp(std::size_t g, mxua::Actions actions) {
  Gateway& w = gws_[g];
  for (auto& act : actions) {
    if (!w.alive) return;
    if (auto* s = std::get_if<mxua::Send>(&act)) {
      Packet p;
      p.stream = s->stream;
      p.payload = mxua::encode(s->message);
      if (std::holds_alternative<mxua::Duna>(s->message) || std::holds_alternative<mxua::Dava>(s->message))
        ev(std::holds_alternative<mxua::Duna>(s->message) ? "gw-send-duna" : "gw-send-dava", g);
      w.to_ss7.send(std::move(p), now_, w.ss7_delay, draw_ss7_extra(), seq_++);
    } else if (auto* sd = std::get_if<mxua::SendData>(&act)) {
      Packet p;
      p.stream = sd->stream;
      mxua::encode_data(sd->view(), p.payload);
      w.to_ss7.send(std::move(p), now_, w.ss7_delay, draw_ss7_extra(), seq_++);
    } else if (auto* d = std::get_if<mxua::DataIndication>(&act)) {
      MtpMessage m = to_mtp(std::move(d->data.protocol_data));
      ev("gw-accept", g, tag(m));
      w.ledger.in(m);
      if (w.announced_unavailable) w.crossed_duna.insert(fingerprint(m));
      apply(g, w.dist->message(std::move(m), now_));
    } else if (auto* ac = std::get_if<mxua::AspStateChanged>(&act)) {
      ev("gw-sgp-asp", g, static_cast<std::uint64_t>(ac->from), static_cast<std::uint64_t>(ac->to));
    } else if (auto* as = std::get_if<mxua::AsStateChanged>(&act)) {
      ev("gw-sgp-as", g, static_cast<std::uint64_t>(as->from), static_cast<std::uint64_t>(as->to));
      if (as->to == mxua::AsState::Active) w.queued_for_ss7.clear();  // the pending queue went out first
    } else if (auto* tr = std::get_if<mxua::Drop>(&act);
               tr && (tr->reason == mxua::DropReason::TrExpired || tr->reason == mxua::DropReason::QueueFull)) {
      // T(r) expired with no ASP back (RFC 4666 4.3.2): the pending queue
      // is dropped, counted; oldest first.
      ev("gw-sgp-tr-expired", g, tr->count);
      for (std::uint32_t i = 0; i < tr->count && !w.queued_for_ss7.empty(); ++i) {
        expose(w.queued_for_ss7.front(), Why::partition);
        w.queued_for_ss7.pop_front();
      }
    } else if (auto* dr = std::get_if<mxua::Drop>(&act)) {
      // Nothing the SS7 side sends here may be refused, and the gateway
      // routes towards the SS7 side only while the AS is up (gw_to_ss7).
      violation("gateway " + std::to_string(g) + "'s SGP dropped " + std::to_string(dr->count) + " message(s): " +
                std::string(mxua::to_string(dr->reason)));
    } else if (std::holds_alternative<mxua::AssociationRefused>(act)) {
      violation("gateway " + std::to_string(g) + "'s SGP refused the SS7 side's association");
    } else if (auto* e = std::get_if<mxua::ErrIndication>(&act)) {
      violation("gateway " + std::to_string(g) + "'s SGP got ERR " + std::string(mxua::to_string(e->err.code)));
    }
  }
}

// An answer from a controller towards the SS7 side: as sgd's M3uaSide,
// routed through the SGP while its AS is ACTIVE (or PENDING: queued for
// T(r)); otherwise dropped and counted (the SS7 side's association is not
// up: a restarted gateway whose STP has not come back yet).
void World::gw_to_ss7(std::size_t g, const MtpMessage& m) {
  Gateway& w = gws_[g];
  const auto st = w.sgp->as_state(kRc);
  if (st != mxua::AsState::Active && st != mxua::AsState::Pending) {
    ev("gw-no-ss7-path", g, tag(m));
    ++out_.no_ss7_path;
    expose(m, Why::gateway);
    return;
  }
  // Held by the AS for T(r) (its only ASP went down: a partition).
  if (st == mxua::AsState::Pending) w.queued_for_ss7.push_back(m);
  mxua::Actions out;
  w.sgp->route(to_data_view(m), now_, out);
  run_sgp(g, std::move(out));
}

// The pool's availability, as the gateway's nodal interworking function
// tells its SGP (sgd: Gateway::start_pool's availability hook).
void World::announce(std::size_t g, bool available) {
  Gateway& w = gws_[g];
  ev(available ? "pool-available" : "pool-unavailable", g);
  w.announced_unavailable = !available;
  run_sgp(g, w.sgp->announce(mxua::MaskedPointCode{0, mxua::PointCode{kPoolDpc}},
                             available ? mxua::DestinationAvailability::Available
                                       : mxua::DestinationAvailability::Unavailable,
                             now_));
}

}  // namespace world
}  // namespace sg::sim::seeded
