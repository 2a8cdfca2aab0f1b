#pragma once
// M3UA DATA <-> the gateway's MtpMessage (routing label + user part).
#include <optional>

#include "mxua/messages.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg::gateway {

inline MtpMessage to_mtp(mxua::ProtocolData&& p) {
  return MtpMessage{p.opc.value, p.dpc.value, p.si, p.ni, p.mp, p.sls, std::move(p.user_data), p.user_at};
}

// A view of `m` for the M3UA layer; `m` must outlive it.
inline mxua::DataView to_data_view(const MtpMessage& m, std::optional<std::uint32_t> rc,
                                   std::optional<std::uint32_t> na = std::nullopt) {
  mxua::DataView d;
  d.network_appearance = na;
  d.routing_context = rc;
  d.protocol_data = mxua::ProtocolDataView{mxua::PointCode{m.opc}, mxua::PointCode{m.dpc}, m.si, m.ni, m.mp, m.sls,
                                           m.user_part()};
  return d;
}

}  // namespace sg::gateway
