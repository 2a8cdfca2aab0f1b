// A partition between one controller and one gateway while the controller
// still reaches the other gateway of a pair and the registrars, with
// SCTP's semantics: nothing crosses while it lasts (what was sent waits and
// arrives in order when it heals, if the association still exists); the
// gateway's link goes heartbeat-silent and M3UA BEAT fails it after the
// plan's beat detection (as for a hung controller: the transport hands
// back what the controller had not acknowledged, the distributor gives the
// controller's calls to an heir with its cookie and reports it
// unreachable); the controller's SCTP gives the association up on its own
// (`b` into the cut) and re-sends what it had not got acknowledged through
// another gateway, or holds it. When the cut heals, an end that still
// believes in the association gets ABORT from the other; the gateway
// reconnects (the registrar's audit keeps the controller listed, so the
// audit bound lifts the fence) and the link comes back.
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

namespace {
// After the heal the gateway has the controller ACTIVE again within this:
// its report's audit bound (2 s) lifts the fence, then a reconnection (its
// back-off, 0.5 s doubling, may have started during the cut), the
// association's and the ASP's round trips. Seeds 1-300 relinked within
// 3.6 s of the heal.
constexpr auto kRelinkBound = 5000ms;
}  // namespace

bool World::ctl_cut(std::size_t g, const Controller& c) const {
  return g < c.cut_until.size() && c.cut_until[g] && now_ < *c.cut_until[g];
}

bool World::ctl_cut(const Assoc& a) const {
  for (const auto& c : ctls_)
    if (c.id == a.pe) return ctl_cut(a.g, c);
  return false;
}

// What is on its way either way when the cut begins waits for the heal
// or comes back to its sender behind newer messages (a cookie the gateway
// never got leaves its heir an older call table): those calls may fail.
void World::ctl_cut_in_flight(const Assoc& a) {
  a.to_ctl.for_each([&](const Packet& p) {
    if (!p.control) expose(p.data, Why::partition);
    else for (auto cic : calls_in_echo(p)) expose_call(cic, Why::partition);
  });
  a.to_gw.for_each([&](const Packet& p) {
    if (!p.control) expose(p.data, Why::partition);
    else for (auto cic : calls_in_cookie(p)) expose_call(cic, Why::partition);
  });
  for (const auto& p : a.unread)
    if (!p.control) expose(p.data, Why::partition);
}

void World::ctl_partition(const Fault& f) {
  const std::size_t g = f.gateway;
  Controller& c = ctls_[f.target];
  if (c.proc != Proc::running || !gws_[g].alive || ctl_cut(g, c)) return;
  ++out_.ctl_cuts;
  c.cut_until[g] = now_ + f.a;
  ev("ctl-cut", g, c.id, static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(f.a).count()));
  for (const auto& [id, a] : assocs_)
    if (a->g == g && a->pe == c.id) ctl_cut_in_flight(*a);
  // A call ringing at it answers by its own timer into the cut (or through
  // the mate), while the heir answers the copy the gateway echoes it.
  for (auto cic : calls_in(c.model->make_cookie(), /*ringing_only=*/true)) expose_call(cic, Why::partition);
  const auto inc = c.incarnation;
  schedule_at(now_ + plan_.beat_detection, [this, g, id = c.id, inc] { ctl_gateway_gives_up(g, id, inc); });
  schedule_at(now_ + f.b, [this, g, id = c.id, inc] { ctl_controller_gives_up(g, id, inc); });
  schedule_at(now_ + f.a, [this, g, id = c.id, inc] { ctl_heal(g, id, inc); });
}

// M3UA BEAT goes unanswered: the gateway's driver aborts the association
// (the ABORT cannot cross the cut); the transport hands back what the
// controller's kernel had not acknowledged.
void World::ctl_gateway_gives_up(std::size_t g, PeIdentifier pe, std::uint32_t incarnation) {
  Controller& c = *controller(pe);
  if (c.incarnation != incarnation || !ctl_cut(g, c) || !gws_[g].alive) return;
  bool failed = false;
  for (auto& [aid, a] : assocs_) {
    if (a->g != g || a->pe != pe || a->gw_down || !a->link) continue;
    ev("ctl-cut-beat-timeout", g, pe, aid);
    if (!failed) pool_changed();  // this gateway's placement loses it
    failed = true;
    a->link->send_failed(a->take_unsent_to_ctl());
    gw_association_down(*a, rserpool::transport::DownReason::heartbeat_timeout);
  }
  if (failed) {
    ++out_.ctl_cut_failovers;
    c.relink_after_cut[g] = true;
  }
}

// The controller's SCTP declares the association lost: what it had sent
// and the gateway had not acknowledged comes back to it (re-sent through
// another gateway, or held); its call model takes an abnormal loss with
// no stall of its own as the gateway's death (its calls stay with it).
void World::ctl_controller_gives_up(std::size_t g, PeIdentifier pe, std::uint32_t incarnation) {
  Controller& c = *controller(pe);
  if (c.incarnation != incarnation || c.proc != Proc::running || !ctl_cut(g, c)) return;
  bool lost = false;
  for (auto& [aid, a] : assocs_) {
    if (a->g != g || a->pe != pe || a->ctl_down) continue;
    ev("ctl-cut-sctp-lost", g, pe, aid);
    lost = true;
    controller_sees_abort(*a);
  }
  if (lost) ++out_.ctl_cut_ctl_lost;
}

// The cut heals: what waited moves (deliver_assoc); an end that still
// believes in an association the other gave up meets the other's ABORT
// (its next packet, a heartbeat at the latest, one round trip).
void World::ctl_heal(std::size_t g, PeIdentifier pe, std::uint32_t incarnation) {
  Controller& c = *controller(pe);
  if (c.incarnation != incarnation) return;
  c.cut_until[g].reset();
  ev("ctl-heal", g, pe);
  // The link comes back: checked if the run lasts long enough, and the
  // controller and the gateway are those of the cut, running, with the
  // gateway still listing it.
  if (now_ + kRelinkBound <= TimePoint{} + plan_.end) {
    schedule_at(now_ + kRelinkBound, [this, g, pe, incarnation, ginc = gws_[g].incarnation] {
      Controller& x = *controller(pe);
      const Gateway& w = gws_[g];
      if (x.incarnation != incarnation || x.proc != Proc::running || !w.alive || w.incarnation != ginc) return;
      const auto st = w.dist->state_of(pe);
      if (!st) return;  // the registrar no longer lists it
      ++out_.ctl_relink_checks;
      if (*st != MemberState::active)
        violation("controller " + std::to_string(pe) + " is " + std::string(to_string(*st)) + " at gateway " +
                  std::to_string(g) + " " + std::to_string(kRelinkBound.count() / 1000000) +
                  " ms after its partition from it healed");
    });
  }
  for (auto& [aid, a] : assocs_) {
    if (a->g != g || a->pe != pe) continue;
    if (!a->gw_down && a->ctl_down) {
      schedule_at(now_ + 2 * a->delay, [this, id = aid] {
        Assoc* x = assoc(id);
        if (!x || x->gw_down || !x->link || !gws_[x->g].alive) return;
        ev("ctl-cut-abort-at-gw", x->g, x->pe, id);
        x->link->send_failed(x->take_unsent_to_ctl());
        gw_association_down(*x, rserpool::transport::DownReason::aborted);
        if (Controller* y = controller(x->pe)) y->relink_after_cut[x->g] = true;
      });
    } else if (a->gw_down && !a->ctl_down) {
      schedule_at(now_ + 2 * a->delay, [this, id = aid] {
        if (Assoc* x = assoc(id)) controller_sees_abort(*x);
      });
    }
  }
}

}  // namespace world
}  // namespace sg::sim::seeded
