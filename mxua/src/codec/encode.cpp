// M3UA encoder: header, then parameters in the order RFC 4666 section 3
// lists them. Every parameter is padded to 4 bytes and the message length
// counts that padding.
#include <type_traits>

#include "mxua/codec.hpp"

namespace mxua {
namespace {

using rserpool::ByteWriter;

class ParamWriter {
 public:
  explicit ParamWriter(Bytes& out) : w_(out) {}

  std::size_t open(Tag tag) {
    const std::size_t at = w_.size();
    w_.u16(static_cast<std::uint16_t>(tag));
    w_.u16(0);
    return at;
  }
  // Length counts the header and the value (and nested padding), never this
  // parameter's own padding.
  void close(std::size_t at) {
    w_.patch_u16(at + 2, static_cast<std::uint16_t>(w_.size() - at));
    w_.zeros(rserpool::pad4(w_.size() - at) - (w_.size() - at));
  }

  void u32(Tag tag, std::uint32_t v) {
    auto at = open(tag);
    w_.u32(v);
    close(at);
  }
  void u32_list(Tag tag, const std::vector<std::uint32_t>& v) {
    auto at = open(tag);
    for (auto x : v) w_.u32(x);
    close(at);
  }
  void bytes(Tag tag, ByteView v) {
    auto at = open(tag);
    w_.bytes(v);
    close(at);
  }
  void text(Tag tag, const std::string& s) {
    auto at = open(tag);
    w_.bytes(std::string_view(s));
    close(at);
  }
  void pcs(Tag tag, const std::vector<MaskedPointCode>& v) {
    auto at = open(tag);
    for (const auto& p : v) w_.u32(masked(p));
    close(at);
  }
  static std::uint32_t masked(const MaskedPointCode& p) {
    return (std::uint32_t{p.mask} << 24) | (p.pc.value & 0x00ffffffU);
  }
  ByteWriter& raw() { return w_; }

 private:
  ByteWriter w_;
};

void opt_u32(ParamWriter& p, Tag t, const std::optional<std::uint32_t>& v) {
  if (v) p.u32(t, *v);
}
void opt_info(ParamWriter& p, const std::optional<std::string>& v) {
  if (v) p.text(Tag::InfoString, *v);
}
void rcs(ParamWriter& p, const std::vector<std::uint32_t>& v) {
  if (!v.empty()) p.u32_list(Tag::RoutingContext, v);
}

void body(ParamWriter& p, const Err& m) {
  p.u32(Tag::ErrorCode, static_cast<std::uint32_t>(m.code));
  rcs(p, m.routing_contexts);
  opt_u32(p, Tag::NetworkAppearance, m.network_appearance);
  if (!m.affected_point_codes.empty()) p.pcs(Tag::AffectedPointCode, m.affected_point_codes);
  if (m.diagnostic) p.bytes(Tag::DiagnosticInformation, *m.diagnostic);
}
void body(ParamWriter& p, const Ntfy& m) {
  auto at = p.open(Tag::Status);
  p.raw().u16(static_cast<std::uint16_t>(m.status.type));
  p.raw().u16(m.status.info);
  p.close(at);
  opt_u32(p, Tag::AspIdentifier, m.asp_id);
  rcs(p, m.routing_contexts);
  opt_info(p, m.info);
}
void body(ParamWriter& p, const Data& m) {
  // Protocol Data is written by the shared DATA encoder (see encode()).
  (void)p;
  (void)m;
}
void ssnm_head(ParamWriter& p, const SsnmCommon& m) {
  opt_u32(p, Tag::NetworkAppearance, m.network_appearance);
  rcs(p, m.routing_contexts);
  p.pcs(Tag::AffectedPointCode, m.affected_point_codes);
}
void body(ParamWriter& p, const Duna& m) { ssnm_head(p, m); opt_info(p, m.info); }
void body(ParamWriter& p, const Dava& m) { ssnm_head(p, m); opt_info(p, m.info); }
void body(ParamWriter& p, const Daud& m) { ssnm_head(p, m); opt_info(p, m.info); }
void body(ParamWriter& p, const Drst& m) { ssnm_head(p, m); opt_info(p, m.info); }
void body(ParamWriter& p, const Scon& m) {
  ssnm_head(p, m);
  if (m.concerned_destination) p.u32(Tag::ConcernedDestination, m.concerned_destination->value & 0x00ffffffU);
  if (m.congestion_level) p.u32(Tag::CongestionIndications, *m.congestion_level);
  opt_info(p, m.info);
}
void body(ParamWriter& p, const Dupu& m) {
  ssnm_head(p, m);
  auto at = p.open(Tag::UserCause);
  p.raw().u16(static_cast<std::uint16_t>(m.user_cause.cause));
  p.raw().u16(m.user_cause.user);
  p.close(at);
  opt_info(p, m.info);
}
template <class M>
void asp_id_info(ParamWriter& p, const M& m) {
  opt_u32(p, Tag::AspIdentifier, m.asp_id);
  opt_info(p, m.info);
}
void body(ParamWriter& p, const AspUp& m) { asp_id_info(p, m); }
void body(ParamWriter& p, const AspUpAck& m) { asp_id_info(p, m); }
void body(ParamWriter& p, const AspDn& m) { opt_info(p, m.info); }
void body(ParamWriter& p, const AspDnAck& m) { opt_info(p, m.info); }
void body(ParamWriter& p, const Beat& m) {
  if (m.heartbeat_data) p.bytes(Tag::HeartbeatData, *m.heartbeat_data);
}
void body(ParamWriter& p, const BeatAck& m) {
  if (m.heartbeat_data) p.bytes(Tag::HeartbeatData, *m.heartbeat_data);
}
template <class M>
void activation(ParamWriter& p, const M& m) {
  if (m.traffic_mode) p.u32(Tag::TrafficModeType, static_cast<std::uint32_t>(*m.traffic_mode));
  rcs(p, m.routing_contexts);
  opt_info(p, m.info);
}
void body(ParamWriter& p, const AspAc& m) { activation(p, m); }
void body(ParamWriter& p, const AspAcAck& m) { activation(p, m); }
void body(ParamWriter& p, const AspIa& m) { rcs(p, m.routing_contexts); opt_info(p, m.info); }
void body(ParamWriter& p, const AspIaAck& m) { rcs(p, m.routing_contexts); opt_info(p, m.info); }
void body(ParamWriter& p, const RegReq& m) {
  for (const auto& rk : m.routing_keys) {
    auto at = p.open(Tag::RoutingKey);
    p.u32(Tag::LocalRkIdentifier, rk.local_rk_id);
    opt_u32(p, Tag::RoutingContext, rk.routing_context);
    if (rk.traffic_mode) p.u32(Tag::TrafficModeType, static_cast<std::uint32_t>(*rk.traffic_mode));
    bool first = true;
    for (const auto& d : rk.destinations) {
      p.u32(Tag::DestinationPointCode, ParamWriter::masked(d.dpc));
      // RFC 4666 3.6.1 lists NA right after the (first) DPC.
      if (first) opt_u32(p, Tag::NetworkAppearance, rk.network_appearance);
      first = false;
      if (!d.service_indicators.empty()) p.bytes(Tag::ServiceIndicators, d.service_indicators);
      if (!d.opc_list.empty()) p.pcs(Tag::OriginatingPointCodeList, d.opc_list);
    }
    if (first) opt_u32(p, Tag::NetworkAppearance, rk.network_appearance);
    p.close(at);
  }
}
void body(ParamWriter& p, const RegRsp& m) {
  for (const auto& r : m.results) {
    auto at = p.open(Tag::RegistrationResult);
    p.u32(Tag::LocalRkIdentifier, r.local_rk_id);
    p.u32(Tag::RegistrationStatus, static_cast<std::uint32_t>(r.status));
    p.u32(Tag::RoutingContext, r.routing_context);
    p.close(at);
  }
}
void body(ParamWriter& p, const DeregReq& m) { p.u32_list(Tag::RoutingContext, m.routing_contexts); }
void body(ParamWriter& p, const DeregRsp& m) {
  for (const auto& r : m.results) {
    auto at = p.open(Tag::DeregistrationResult);
    p.u32(Tag::RoutingContext, r.routing_context);
    p.u32(Tag::DeregistrationStatus, static_cast<std::uint32_t>(r.status));
    p.close(at);
  }
}

}  // namespace

void encode(const Message& m, Bytes& out) {
  if (const auto* d = std::get_if<Data>(&m)) {
    Bytes tmp;
    encode_data(to_view(*d), tmp);
    out.insert(out.end(), tmp.begin(), tmp.end());
    return;
  }
  const std::size_t start = out.size();
  const auto id = message_id(m);
  ByteWriter w(out);
  w.u8(kVersion);
  w.u8(0);
  w.u8(id.msg_class);
  w.u8(id.msg_type);
  w.u32(0);
  ParamWriter p(out);
  std::visit([&](const auto& msg) { body(p, msg); }, m);
  w.patch_u32(start + 4, static_cast<std::uint32_t>(out.size() - start));
}

Bytes encode(const Message& m) {
  Bytes out;
  encode(m, out);
  return out;
}

}  // namespace mxua
