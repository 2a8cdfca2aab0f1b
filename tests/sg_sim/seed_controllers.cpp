// The controllers: GwcCallModel with its cookie over the ASAP codec;
// what they read, and how they send back.
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

Controller* World::controller(PeIdentifier id) {
  for (auto& c : ctls_)
    if (c.id == id) return &c;
  return nullptr;
}

void World::controller_sees_abort(Assoc& a) {
  if (a.ctl_down) return;
  Controller* c = controller(a.pe);
  a.ctl_down = true;
  auto unsent = a.take_unsent_to_gw();
  a.ctl_active = false;
  // Acknowledged by its kernel and unread: gone with the association.
  for (auto& p : a.unread)
    if (!p.control) lost_in_kernel(a, p);
  a.unread.clear();
  if (!c || c->proc == Proc::dead) {
    // Handed back to a process that is gone: lost with it.
    for (auto& p : unsent) {
      if (!p.control) expose(p.data, Why::controller_sent);
      else for (auto cic : calls_in_cookie(p)) expose_call(cic, Why::controller_sent);
    }
    return;
  }
  if (c->assoc[a.g] == a.id) c->assoc[a.g] = 0;
  if (c->last_gw == a.g) c->last_gw = SIZE_MAX;
  if (c->proc == Proc::hung) {
    c->unseen_aborts.emplace_back(a.id, a.gateway_died);
    for (auto& p : unsent)
      if (!p.control) c->held.push_back(std::move(p.data));
    return;
  }
  ev("ctl-assoc-lost", a.g, a.pe, a.id);
  lose_association(*c, a.id, a.gateway_died);
  for (auto& p : unsent)
    if (!p.control) controller_send(*c, SIZE_MAX, std::move(p.data));
}

// The controller sees an association end abnormally. Right after a stall
// of its own the model takes it as a fence and gives the calls up
// (GwcConfig::fenced_after_stall); when the gateway in fact died, those
// calls were still its own: the model's heuristic, counted.
void World::lose_association(Controller& c, std::uint64_t aid, bool gateway_died) {
  const auto before = calls_in(c.model->make_cookie());
  if (c.model->association_lost(aid, /*abnormal=*/true, now_) == 0 || !gateway_died) return;
  const auto after = calls_in(c.model->make_cookie());
  for (auto cic : before)
    if (std::find(after.begin(), after.end(), cic) == after.end()) expose_call(cic, Why::gave_up);
}

std::vector<std::uint16_t> World::calls_in_echo(const Packet& p) {
  auto d = asap::decode(p.payload);
  if (!d) return {};
  auto* ck = std::get_if<asap::CookieEcho>(&d->message);
  return ck ? calls_in(ck->cookie) : std::vector<std::uint16_t>{};
}

std::vector<std::uint16_t> World::calls_in_cookie(const Packet& p) {
  auto d = asap::decode(p.payload);
  if (!d) return {};
  auto* ck = std::get_if<asap::Cookie>(&d->message);
  return ck ? calls_in(ck->cookie) : std::vector<std::uint16_t>{};
}

void World::controller_reads(Controller& c, Assoc& a, Packet p) {
  if (p.control) {
    auto d = asap::decode(p.payload);
    auto* echo = d ? std::get_if<asap::CookieEcho>(&d->message) : nullptr;
    if (!echo) {
      violation("undecodable control message at a controller");
      return;
    }
    const auto before = c.model->counters().adopted_calls;
    auto adopted = c.model->adopt_cookie(echo->cookie, now_, a.id);
    ev("ctl-adopt", c.id, adopted ? *adopted : 0, c.model->counters().adopted_calls - before);
    if (!adopted) violation("cookie rejected");
    if (adopted && *adopted > 0) table_changed(c);
    return;
  }
  const auto before = c.model->counters();
  const auto calls_before = c.model->active_calls();
  auto replies = c.model->on_message(p.data, now_, a.id);
  c.last_gw = a.g;
  const auto& after = c.model->counters();
  ev("ctl-read", c.id, tag(p.data), a.id);
  check_sls_order(c, p.data);
  if (after.unknown_call_messages != before.unknown_call_messages ||
      after.ordering_violations != before.ordering_violations) {
    auto h = ss7::parse_isup_header(p.data.data);
    const std::uint16_t cic = h ? h->cic : 0;
    if (!h || !exempt(cic)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "controller %" PRIu32 " %s for circuit %u (message type %u)", c.id,
                    after.unknown_call_messages != before.unknown_call_messages ? "got a message for a call it does not hold"
                                                                             : "saw its circuit out of order",
                    cic, h ? h->message_type : 0U);
      violation(buf);
    } else {
      ++unknown_exempt_;
    }
  }
  if (after.calls_offered != before.calls_offered || after.calls_released != before.calls_released ||
      c.model->active_calls() != calls_before)
    table_changed(c);
  for (auto& r : replies) controller_send(c, a.g, std::move(r));
}

// As gwc-sim: the cookie (its call table) to every association, before
// the replies it covers; ASAP control on stream 0.
void World::table_changed(Controller& c) {
  const auto cookie = c.model->make_cookie();
  cookie_origin_[fingerprint_bytes(cookie)] = c.id;
  cookie_incarnation_[fingerprint_bytes(cookie)] = c.incarnation;
  const auto encoded = asap::encode(asap::Cookie{cookie});
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    Assoc* a = assoc(c.assoc[g]);
    if (!a || a->ctl_down || !a->ctl_active) continue;
    Packet p;
    p.control = true;
    p.stream = 0;
    p.payload = encoded;
    a->to_gw.send(std::move(p), now_, a->delay, draw_extra(), seq_++);
  }
}

// Back the way the call came, else any association, else it waits.
void World::controller_send(Controller& c, std::size_t via, MtpMessage m) {
  if (c.held.empty()) {
    for (std::size_t choice : {via, c.last_gw}) {
      if (choice >= gws_.size()) continue;
      if (send_on(c, choice, m)) return;
    }
    for (std::size_t g = 0; g < gws_.size(); ++g)
      if (send_on(c, g, m)) return;
  }
  ev("ctl-held", c.id, tag(m));
  c.held.push_back(std::move(m));
}

bool World::send_on(Controller& c, std::size_t g, const MtpMessage& m) {
  Assoc* a = assoc(c.assoc[g]);
  if (!a || a->ctl_down || !a->ctl_active) return false;
  Packet p;
  p.stream = mxua::data_stream(m.sls, plan_.streams).value_or(0);
  p.data = m;
  ev("ctl-send", c.id, g, tag(m));
  // Sent into a partition its SCTP has not noticed yet: it waits there and
  // comes back to it (or arrives late at the heal): may fail.
  if (ctl_cut(*a)) expose(m, Why::partition);
  a->to_gw.send(std::move(p), now_, a->delay, draw_extra(), seq_++);
  return true;
}

void World::flush_held(Controller& c) {
  std::deque<MtpMessage> held = std::move(c.held);
  c.held.clear();
  for (auto& m : held) controller_send(c, SIZE_MAX, std::move(m));
}

}  // namespace world

}  // namespace sg::sim::seeded
