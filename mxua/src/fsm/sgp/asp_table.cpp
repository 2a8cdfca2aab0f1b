#include "mxua/fsm/sgp/asp_table.hpp"

#include <algorithm>

namespace mxua {

std::pair<Asp*, bool> AspTable::add(AssocId assoc, std::uint16_t outbound_streams, std::optional<Duration> t_beat,
                                    std::optional<PeerId> peer) {
  auto [it, fresh] =
      asps_.try_emplace(assoc, Asp{assoc, outbound_streams, false, std::nullopt, Heartbeat(assoc, t_beat), peer});
  if (!fresh) {
    it->second.outbound_streams = outbound_streams;
    it->second.peer = peer;
  }
  return {&it->second, fresh};
}

Asp* AspTable::find(AssocId assoc) {
  auto it = asps_.find(assoc);
  return it == asps_.end() ? nullptr : &it->second;
}

const Asp* AspTable::find(AssocId assoc) const {
  auto it = asps_.find(assoc);
  return it == asps_.end() ? nullptr : &it->second;
}

std::uint16_t AspTable::outbound_streams(AssocId assoc) const {
  const Asp* a = find(assoc);
  return a ? a->outbound_streams : 0;
}

std::optional<ErrorCode> AspTable::refuse_aspup(const Asp& asp, const AspUp& m, const SgpConfig& cfg) const {
  if (m.asp_id && std::find(cfg.blocked_asp_ids.begin(), cfg.blocked_asp_ids.end(), *m.asp_id) !=
                      cfg.blocked_asp_ids.end())
    return ErrorCode::RefusedManagementBlocking;
  if (cfg.require_asp_id && !m.asp_id) return ErrorCode::AspIdentifierRequired;
  if (m.asp_id)
    for (const auto& [id, other] : asps_)
      if (id != asp.assoc && other.up && other.asp_id == m.asp_id) return ErrorCode::InvalidAspIdentifier;
  return std::nullopt;
}

}  // namespace mxua
