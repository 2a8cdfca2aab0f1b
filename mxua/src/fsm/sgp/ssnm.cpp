#include "mxua/fsm/sgp/ssnm.hpp"

#include <algorithm>

namespace mxua {

std::vector<std::uint32_t> active_contexts(const AsMap& ases, AssocId assoc) {
  std::vector<std::uint32_t> rcs;
  for (const auto& [rc, as] : ases)
    if (as.is_active(assoc)) rcs.push_back(rc);
  return rcs;
}

void SgpSsnm::announce(MaskedPointCode pc, DestinationAvailability a, const AspTable& asps, const AsMap& ases,
                       Actions& out) {
  destinations_.set_availability(pc, a);
  for (const auto& [id, asp] : asps) {
    auto rcs = active_contexts(ases, id);
    if (rcs.empty()) continue;  // SSNM goes to ASPs that are ACTIVE
    SsnmCommon c;
    c.routing_contexts = std::move(rcs);
    c.affected_point_codes.push_back(pc);
    Message m = a == DestinationAvailability::Unavailable ? Message{Duna{c}}
                : a == DestinationAvailability::Restricted ? Message{Drst{c}}
                                                           : Message{Dava{c}};
    out.push_back(Send{id, 0, std::move(m)});
  }
}

void SgpSsnm::announce_congestion(PointCode pc, std::uint8_t level, const AspTable& asps, const AsMap& ases,
                                  Actions& out) {
  destinations_.set_congestion(pc, level);
  for (const auto& [id, asp] : asps) {
    Scon s;
    s.routing_contexts = active_contexts(ases, id);
    if (s.routing_contexts.empty()) continue;
    s.affected_point_codes.push_back(MaskedPointCode{0, pc});
    s.congestion_level = level;
    out.push_back(Send{id, 0, Message{std::move(s)}});
  }
}

void SgpSsnm::announce_user_unavailable(PointCode pc, UserCause uc, const AspTable& asps, const AsMap& ases,
                                        Actions& out) {
  destinations_.set_user_unavailable(pc, uc);
  for (const auto& [id, asp] : asps) {
    Dupu d;
    d.routing_contexts = active_contexts(ases, id);
    if (d.routing_contexts.empty()) continue;
    d.affected_point_codes.push_back(MaskedPointCode{0, pc});
    d.user_cause = uc;
    out.push_back(Send{id, 0, Message{std::move(d)}});
  }
}

void SgpSsnm::tell_newly_active(AssocId assoc, std::uint32_t rc, Actions& out) const {
  // Several messages when the list is long: receivers bound the point
  // codes they accept per message.
  constexpr std::size_t kPerMessage = 32;
  std::vector<MaskedPointCode> unavailable, restricted;
  destinations_.for_each([&](MaskedPointCode range, const DestinationStatus& st) {
    if (st.availability == DestinationAvailability::Unavailable) unavailable.push_back(range);
    if (st.availability == DestinationAvailability::Restricted) restricted.push_back(range);
  });
  auto emit = [&](const std::vector<MaskedPointCode>& pcs, bool down) {
    for (std::size_t i = 0; i < pcs.size(); i += kPerMessage) {
      SsnmCommon c;
      c.routing_contexts = {rc};
      c.affected_point_codes.assign(pcs.begin() + static_cast<std::ptrdiff_t>(i),
                                    pcs.begin() + static_cast<std::ptrdiff_t>(std::min(pcs.size(), i + kPerMessage)));
      out.push_back(Send{assoc, 0, down ? Message{Duna{c}} : Message{Drst{c}}});
    }
  };
  emit(unavailable, true);
  emit(restricted, false);
}

void SgpSsnm::on_daud(AssocId from, const Daud& m, const SgpConfig& cfg, ErrCounters& errs, Actions& out) const {
  Duna duna;
  Dava dava;
  Drst drst;
  Err unknown;
  unknown.code = ErrorCode::DestinationStatusUnknown;
  std::vector<Scon> scons;
  for (const auto& r : m.affected_point_codes) {
    const auto st = destinations_.lookup(r.pc);
    if (!st) {
      (cfg.daud_unknown_is_available ? dava.affected_point_codes : unknown.affected_point_codes).push_back(r);
      continue;
    }
    switch (st->availability) {
      case DestinationAvailability::Unavailable: duna.affected_point_codes.push_back(r); break;
      case DestinationAvailability::Restricted: drst.affected_point_codes.push_back(r); break;
      case DestinationAvailability::Available: dava.affected_point_codes.push_back(r); break;
    }
    if (st->availability != DestinationAvailability::Unavailable && st->congestion_level > 0) {
      Scon s;
      s.affected_point_codes.push_back(MaskedPointCode{0, r.pc});
      s.congestion_level = st->congestion_level;
      scons.push_back(std::move(s));
    }
  }
  auto finish = [&](SsnmCommon& c) {
    c.network_appearance = m.network_appearance;
    c.routing_contexts = m.routing_contexts;
  };
  if (!duna.affected_point_codes.empty()) finish(duna), out.push_back(Send{from, 0, Message{duna}});
  if (!dava.affected_point_codes.empty()) finish(dava), out.push_back(Send{from, 0, Message{dava}});
  if (!drst.affected_point_codes.empty()) finish(drst), out.push_back(Send{from, 0, Message{drst}});
  for (auto& s : scons) finish(s), out.push_back(Send{from, 0, Message{s}});
  if (!unknown.affected_point_codes.empty()) {
    unknown.routing_contexts = m.routing_contexts;
    unknown.network_appearance = m.network_appearance;
    errs.count_sent(unknown.code);
    out.push_back(Send{from, 0, Message{std::move(unknown)}});
  }
}

}  // namespace mxua
