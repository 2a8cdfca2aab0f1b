// A partition between the STP and one gateway, with SCTP's semantics:
// nothing crosses while the cut lasts (what was sent waits, and arrives in
// order when it heals, if the association still exists); each end's SCTP
// declares the association lost on its own (path failure detection: `b`
// for the STP, `c` for the gateway, 0.6-1.5 s into the cut), handing back
// what its peer had not acknowledged; when the cut heals, an end that
// still believes in the association gets ABORT from the other; once both
// ends have given it up, the STP connects again (ASPUP, ASPAC) and takes
// its SLSs back after the changeback.
//
// The real cores see all of it: the STP's AspClient goes down (SgLoadShare
// moves the gateway's SLSs to the mate, or holds them), the gateway's
// SgpNode loses its only ASP (the AS goes PENDING for T(r), then DOWN).
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

namespace {
// An STP's reconnection timer after its association is gone.
constexpr auto kReconnect = 100ms;
}  // namespace

bool World::ss7_cut(std::size_t g) const {
  const auto& u = gws_[g].ss7_cut_until;
  return u && now_ < *u;
}

bool World::in_ss7_cut_window(std::size_t g, TimePoint t) const {
  return std::any_of(cut_windows_.begin(), cut_windows_.end(), [&](const auto& w) {
    return std::get<0>(w) == g && t >= std::get<1>(w) && t < std::get<2>(w);
  });
}

void World::ss7_partition(const Fault& f) {
  const std::size_t g = f.target;
  Gateway& w = gws_[g];
  if (!w.alive || !ss7_asps_[g].up || w.ss7_gw_lost || ss7_cut(g)) return;
  ++out_.ss7_cuts;
  w.ss7_cut_until = now_ + f.a;
  ev("ss7-cut", g, static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(f.a).count()));
  // What the STP started through this gateway, until the association is
  // back (or for the cut alone) and the changeback is over, may fail.
  const auto longest = std::max(f.a, std::max(f.b, f.c));
  cut_windows_.emplace_back(g, now_, now_ + longest + kReconnect + kOutageSettle + 1s);
  for (auto& [cic, rec] : calls_)
    if (rec.open && ss7_->route_of(rec.sls) == g) expose_call(cic, Why::partition);
  // What is on its way either way waits for the heal, or comes back to its
  // sender: it may arrive after newer messages of its SLS that took the
  // other path (a changeback of the mate meanwhile), or fail.
  auto in_flight = [&](const Packet& p) {
    if (auto m = data_in(p.payload)) expose(*m, Why::partition);
  };
  w.from_ss7.for_each(in_flight);
  w.to_ss7.for_each(in_flight);
  const mxua::AssocId assoc = w.ss7_assoc;
  const int inc = w.incarnation;
  schedule_at(now_ + f.b, [this, g, assoc] {
    if (ss7_cut(g) && ss7_asps_[g].up && gws_[g].ss7_assoc == assoc) stp_side_lost(g);
  });
  schedule_at(now_ + f.c, [this, g, assoc, inc] {
    const Gateway& x = gws_[g];
    if (x.alive && x.incarnation == inc && ss7_cut(g) && !x.ss7_gw_lost && x.ss7_assoc == assoc) gateway_side_lost(g);
  });
  schedule_at(now_ + f.a, [this, g, inc] { ss7_heal(g, inc); });
}

// The STP's SCTP gives the association up (or receives ABORT): its
// transport hands back the DATA the gateway never acknowledged, and
// SgLoadShare re-sends it, in order, through the mate (or holds it).
void World::stp_side_lost(std::size_t g) {
  Gateway& w = gws_[g];
  ++out_.ss7_cut_declared_lost;
  // Oldest first: what the gateway refused (ABORT) and what is still on
  // its way, in send order.
  std::vector<Packet> all = std::move(w.rejected_from_stp);
  w.rejected_from_stp.clear();
  for (auto& p : w.from_ss7.take_all()) all.push_back(std::move(p));
  std::stable_sort(all.begin(), all.end(), [](const Packet& x, const Packet& y) { return x.seq < y.seq; });
  std::vector<MtpMessage> back;
  for (auto& p : all)
    if (auto m = data_in(p.payload)) back.push_back(std::move(*m));
  ev("stp-side-lost", g, back.size());
  // With no other gateway ACTIVE, SgLoadShare holds what came back for its
  // max_wait only: it may fail.
  bool other = false;
  for (std::size_t o = 0; o < ss7_asps_.size(); ++o) other = other || (o != g && ss7_asps_[o].active);
  if (!other)
    for (const auto& m : back) expose(m, Why::partition);
  gateway_event();  // its SLSs move to the mate: calls meet a gateway that did not place them
  ss7_sees_abort(g, std::move(back));
}

// The gateway's SCTP gives the association up (or receives ABORT): what
// it had sent towards the STP and was not acknowledged comes back to the
// SGP's driver, which has no other way to the STP: lost, counted.
void World::gateway_side_lost(std::size_t g) {
  Gateway& w = gws_[g];
  w.ss7_gw_lost = true;
  for (auto& p : w.to_ss7.take_all()) {
    auto m = data_in(p.payload);
    if (!m) continue;
    ++out_.lost_on_ss7_cut;
    expose(*m, Why::partition);
  }
  ev("gw-side-lost", g, w.ss7_assoc);
  run_sgp(g, w.sgp->association_down(w.ss7_assoc, now_));
}

void World::ss7_heal(std::size_t g, int incarnation) {
  Gateway& w = gws_[g];
  w.ss7_cut_until.reset();
  w.ss7_healed_at = now_;
  if (!w.alive || w.incarnation != incarnation) return;
  const bool stp_up = ss7_asps_[g].up;
  ev("ss7-heal", g, stp_up, w.ss7_gw_lost);
  // One end still believes in the association: its next packet (DATA or a
  // HEARTBEAT) meets the other's ABORT.
  if (stp_up && w.ss7_gw_lost) {
    schedule_at(now_ + 2 * w.ss7_delay, [this, g, assoc = w.ss7_assoc] {
      if (ss7_asps_[g].up && gws_[g].ss7_assoc == assoc) stp_side_lost(g);
    });
  } else if (!stp_up && !w.ss7_gw_lost) {
    schedule_at(now_ + 2 * w.ss7_delay, [this, g, assoc = w.ss7_assoc] {
      if (gws_[g].alive && !gws_[g].ss7_gw_lost && gws_[g].ss7_assoc == assoc) gateway_side_lost(g);
    });
  }
  // Once both ends have given it up, the STP connects again.
  schedule_at(now_ + 2 * w.ss7_delay + kReconnect, [this, g, incarnation] {
    Gateway& x = gws_[g];
    if (!x.alive || x.incarnation != incarnation || !x.ss7_gw_lost || ss7_asps_[g].up) return;
    x.ss7_gw_lost = false;
    ss7_association_up(g, incarnation);
  });
}

}  // namespace world
}  // namespace sg::sim::seeded
