#include "peer_protocol.hpp"

#include <type_traits>
#include <variant>

#include "mxua/codec.hpp"
#include "mxua/constants.hpp"

namespace sg::bench {
namespace {

constexpr std::size_t kHeader = 8;        // RFC 4666 3.1: version, reserved, class, type, length
constexpr std::size_t kParamHeader = 4;   // tag, length

std::uint16_t u16(const std::uint8_t* p) noexcept { return rserpool::load_u16(p); }

rserpool::Bytes encoded(const mxua::Message& m) { return mxua::encode(m); }

}  // namespace

std::optional<DataLayout> locate_data(rserpool::ByteView m) noexcept {
  if (m.size() < kHeader || m[0] != 1) return std::nullopt;
  if (m[2] != static_cast<std::uint8_t>(mxua::MessageClass::Transfer) || m[3] != mxua::type::kData)
    return std::nullopt;
  if (rserpool::load_u32(m.data() + 4) != m.size()) return std::nullopt;
  DataLayout out;
  std::size_t pos = kHeader;
  while (pos + kParamHeader <= m.size()) {
    const std::uint16_t tag = u16(m.data() + pos);
    const std::uint16_t len = u16(m.data() + pos + 2);
    if (len < kParamHeader || pos + len > m.size()) return std::nullopt;
    if (tag == static_cast<std::uint16_t>(mxua::Tag::RoutingContext)) {
      // In DATA the Routing Context names exactly one context (RFC 4666 3.3.1).
      if (len != kParamHeader + 4) return std::nullopt;
      out.routing_context_offset = pos + kParamHeader;
    } else if (tag == static_cast<std::uint16_t>(mxua::Tag::ProtocolData)) {
      // Protocol Data: OPC, DPC (4 each), SI, NI, MP, SLS, then user data.
      if (len < kParamHeader + 12) return std::nullopt;
      return out;
    }
    pos += (static_cast<std::size_t>(len) + 3U) & ~std::size_t{3};
  }
  return std::nullopt;  // no Protocol Data
}

void write_routing_context(rserpool::Bytes& m, std::size_t offset, std::uint32_t rc) noexcept {
  m[offset] = static_cast<std::uint8_t>(rc >> 24);
  m[offset + 1] = static_cast<std::uint8_t>(rc >> 16);
  m[offset + 2] = static_cast<std::uint8_t>(rc >> 8);
  m[offset + 3] = static_cast<std::uint8_t>(rc);
}

std::uint16_t data_stream(std::uint16_t received_on, std::uint16_t outbound_streams) noexcept {
  if (outbound_streams < 2) return 0;
  if (received_on != 0 && received_on < outbound_streams) return received_on;
  return static_cast<std::uint16_t>(1U + received_on % (outbound_streams - 1U));
}

PeerProtocol::PeerProtocol(PeerRole role, std::optional<std::uint32_t> routing_context)
    : role_(role), rc_(routing_context), rc_configured_(routing_context.has_value()) {}

void PeerProtocol::association_up(std::vector<rserpool::Bytes>& replies) {
  active_ = false;
  if (!rc_configured_) rc_.reset();
  if (role_ == PeerRole::ipsp_initiator) replies.push_back(encoded(mxua::AspUp{}));
}

Inbound PeerProtocol::receive(rserpool::ByteView message, DataLayout& data, std::vector<rserpool::Bytes>& replies) {
  if (message.size() >= 4 && message[2] == static_cast<std::uint8_t>(mxua::MessageClass::Transfer)) {
    auto d = locate_data(message);
    if (!d) return Inbound::malformed;
    data = *d;
    return Inbound::data;
  }
  return management(message, replies);
}

Inbound PeerProtocol::management(rserpool::ByteView message, std::vector<rserpool::Bytes>& replies) {
  auto decoded = mxua::decode(message);
  if (!decoded) return Inbound::malformed;
  return std::visit(
      [&](const auto& m) -> Inbound {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, mxua::AspUp>) {
          replies.push_back(encoded(mxua::AspUpAck{}));
          return Inbound::management;
        } else if constexpr (std::is_same_v<T, mxua::AspDn>) {
          replies.push_back(encoded(mxua::AspDnAck{}));
          const bool was = active_;
          active_ = false;
          return was ? Inbound::deactivated : Inbound::management;
        } else if constexpr (std::is_same_v<T, mxua::Beat>) {
          replies.push_back(encoded(mxua::BeatAck{m.heartbeat_data}));
          return Inbound::management;
        } else if constexpr (std::is_same_v<T, mxua::AspAc>) {
          replies.push_back(encoded(mxua::AspAcAck{m.traffic_mode, m.routing_contexts, std::nullopt}));
          mxua::Ntfy n;
          n.status = mxua::Status{mxua::StatusType::AsStateChange, mxua::status_info::kAsActive};
          n.routing_contexts = m.routing_contexts;
          replies.push_back(encoded(n));
          if (!rc_configured_ && !m.routing_contexts.empty()) rc_ = m.routing_contexts.front();
          const bool was = active_;
          active_ = true;
          return was ? Inbound::management : Inbound::activated;
        } else if constexpr (std::is_same_v<T, mxua::AspIa>) {
          replies.push_back(encoded(mxua::AspIaAck{m.routing_contexts, std::nullopt}));
          const bool was = active_;
          active_ = false;
          return was ? Inbound::deactivated : Inbound::management;
        } else if constexpr (std::is_same_v<T, mxua::AspUpAck>) {
          if (role_ != PeerRole::ipsp_initiator) return Inbound::ignored;
          mxua::AspAc ac;
          ac.traffic_mode = mxua::TrafficMode::Loadshare;
          if (rc_) ac.routing_contexts = {*rc_};
          replies.push_back(encoded(ac));
          return Inbound::management;
        } else if constexpr (std::is_same_v<T, mxua::AspAcAck>) {
          if (role_ != PeerRole::ipsp_initiator || active_) return Inbound::ignored;
          active_ = true;
          return Inbound::activated;
        } else {
          return Inbound::ignored;
        }
      },
      *decoded);
}

}  // namespace sg::bench
