// The SS7 side: the call generator, SLS load sharing over the gateways,
// and what it receives (duplicates and answers for no call are checked here).
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

void World::ss7_out(std::vector<SgLoadShare::Send> sends) {
  for (auto& s : sends) {
    Gateway& w = gws_[s.sg];
    ev("ss7-send", s.sg, tag(s.message));
    w.from_ss7.send(Packet{false, s.message.sls, std::move(s.message), {}, false}, now_, w.ss7_delay,
                    rserpool::Duration{0}, seq_++);
  }
}

void World::from_generator(std::vector<MtpMessage> ms) {
  for (auto& m : ms) {
    if (m.si == kSiIsup) {
      if (auto h = ss7::parse_isup_header(m.data); h && h->message_type == static_cast<std::uint8_t>(ss7::IsupMessageType::iam)) {
        auto& rec = calls_[h->cic];
        ++rec.serial;
        rec.started = now_;
        rec.open = true;
        rec.seen.clear();
      }
    }
    ss7_out(ss7_->send(std::move(m), now_));
  }
  check_failures();
}

void World::deliver_ss7_side() {
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    Gateway& w = gws_[g];
    while (w.alive) {
      auto p = w.from_ss7.pop_due(now_);
      if (!p) break;
      ev("gw-accept", g, tag(p->data));
      w.ledger.in(p->data);
      apply(g, w.dist->message(std::move(p->data), now_));
    }
    while (auto p = w.to_ss7.pop_due(now_)) at_ss7(std::move(p->data));
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
