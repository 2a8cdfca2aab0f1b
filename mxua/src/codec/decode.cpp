// M3UA decoder. The header is checked first (version, length, class, type),
// then the parameters are split into (tag, value) views with every length
// bounds-checked, then each message picks the parameters it allows. The first
// problem found becomes the M3uaError that names the ERR code to send back.
#include <algorithm>
#include <array>
#include <initializer_list>

#include "mxua/codec.hpp"

namespace mxua {
namespace {

using rserpool::load_u16;
using rserpool::load_u32;

struct Param {
  std::uint16_t tag;
  ByteView value;
  ByteView whole;
};

constexpr std::size_t kMaxParams = 256;

bool type_known(std::uint8_t c, std::uint8_t t) {
  switch (c) {
    case 0: return t <= type::kNtfy;
    case 1: return t == type::kData;
    case 2: return t >= type::kDuna && t <= type::kDrst;
    case 3: return t >= type::kAspUp && t <= type::kBeatAck;
    case 4: return t >= type::kAspAc && t <= type::kAspIaAck;
    case 9: return t >= type::kRegReq && t <= type::kDeregRsp;
    default: return false;
  }
}
bool class_known(std::uint8_t c) { return c <= 4 || c == 9; }

ByteView first_bytes(ByteView b, std::size_t n) { return b.first(std::min(b.size(), n)); }

class Decoder {
 public:
  Decoder(ByteView wire, std::uint8_t c, std::uint8_t t, const DecodeLimits& l)
      : wire_(wire), class_(c), type_(t), limits_(l) {}

  bool failed() const { return err_.has_value(); }
  M3uaError take_error() { return std::move(*err_); }

  void fail(ErrorCode code, std::string detail, ByteView offending = {}) {
    if (err_) return;
    M3uaError e;
    e.code = code;
    e.detail = std::move(detail);
    e.msg_class = class_;
    e.msg_type = type_;
    e.offender_is_err = class_ == 0 && type_ == type::kErr;
    auto diag = offending.empty() ? wire_ : offending;
    diag = first_bytes(diag, kDiagnosticBytes);
    e.diagnostic.assign(diag.begin(), diag.end());
    err_ = std::move(e);
  }

  // Splits a region into parameters. The final parameter's padding may be
  // absent (message lengths that leave out the final padding are accepted).
  std::vector<Param> split(ByteView region) {
    std::vector<Param> out;
    std::size_t pos = 0;
    while (pos < region.size() && !failed()) {
      const std::size_t left = region.size() - pos;
      if (left < 4) {
        fail(ErrorCode::ParameterFieldError, "truncated parameter header", region.subspan(pos));
        break;
      }
      const std::uint16_t tag = load_u16(region.data() + pos);
      const std::size_t len = load_u16(region.data() + pos + 2);
      if (len < 4 || len > left) {
        fail(ErrorCode::ParameterFieldError, "parameter length out of bounds", region.subspan(pos));
        break;
      }
      if (out.size() >= kMaxParams) {
        fail(ErrorCode::ParameterFieldError, "too many parameters");
        break;
      }
      out.push_back(Param{tag, region.subspan(pos + 4, len - 4), region.subspan(pos, len)});
      pos += std::min(rserpool::pad4(len), left);
    }
    return out;
  }

  // Every parameter must be in `allowed`, and appear once unless repeatable.
  void check_allowed(const std::vector<Param>& ps, std::initializer_list<Tag> allowed,
                     std::initializer_list<Tag> repeatable = {}) {
    for (std::size_t i = 0; i < ps.size() && !failed(); ++i) {
      const auto t = static_cast<Tag>(ps[i].tag);
      if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) {
        fail(ErrorCode::UnexpectedParameter, "parameter not allowed in this message", ps[i].whole);
        return;
      }
      if (std::find(repeatable.begin(), repeatable.end(), t) != repeatable.end()) continue;
      for (std::size_t j = 0; j < i; ++j)
        if (ps[j].tag == ps[i].tag) {
          fail(ErrorCode::UnexpectedParameter, "repeated parameter", ps[i].whole);
          return;
        }
    }
  }

  static const Param* find(const std::vector<Param>& ps, Tag t) {
    for (const auto& p : ps)
      if (p.tag == static_cast<std::uint16_t>(t)) return &p;
    return nullptr;
  }

  std::optional<std::uint32_t> u32(const Param* p) {
    if (!p) return std::nullopt;
    if (p->value.size() != 4) {
      fail(ErrorCode::ParameterFieldError, "expected a 32-bit value", p->whole);
      return std::nullopt;
    }
    return load_u32(p->value.data());
  }
  std::optional<std::uint32_t> opt_u32(const std::vector<Param>& ps, Tag t) { return u32(find(ps, t)); }
  std::uint32_t req_u32(const std::vector<Param>& ps, Tag t) {
    const Param* p = find(ps, t);
    if (!p) {
      fail(ErrorCode::MissingParameter, "missing mandatory parameter");
      return 0;
    }
    return u32(p).value_or(0);
  }

  std::vector<std::uint32_t> u32_list(const Param* p, std::size_t max) {
    std::vector<std::uint32_t> out;
    if (!p) return out;
    const auto n = p->value.size();
    if (n == 0 || n % 4 != 0) {
      fail(ErrorCode::ParameterFieldError, "list length not a multiple of 4", p->whole);
      return out;
    }
    if (n / 4 > max) {
      fail(ErrorCode::ParameterFieldError, "too many list entries", p->whole);
      return out;
    }
    out.reserve(n / 4);
    for (std::size_t i = 0; i < n; i += 4) out.push_back(load_u32(p->value.data() + i));
    return out;
  }
  std::vector<std::uint32_t> rcs(const std::vector<Param>& ps) {
    return u32_list(find(ps, Tag::RoutingContext), limits_.max_routing_contexts);
  }
  std::vector<MaskedPointCode> pcs(const Param* p) {
    std::vector<MaskedPointCode> out;
    for (auto v : u32_list(p, limits_.max_point_codes))
      out.push_back(MaskedPointCode{static_cast<std::uint8_t>(v >> 24), PointCode{v & 0x00ffffffU}});
    return out;
  }
  std::optional<std::string> info(const std::vector<Param>& ps) {
    const Param* p = find(ps, Tag::InfoString);
    if (!p) return std::nullopt;
    if (p->value.size() > limits_.max_info_string) {
      fail(ErrorCode::ParameterFieldError, "INFO String longer than 255 bytes", p->whole);
      return std::nullopt;
    }
    return std::string(p->value.begin(), p->value.end());
  }
  std::optional<Bytes> opaque(const std::vector<Param>& ps, Tag t) {
    const Param* p = find(ps, t);
    if (!p) return std::nullopt;
    return Bytes(p->value.begin(), p->value.end());
  }
  std::optional<TrafficMode> traffic_mode(const std::vector<Param>& ps) {
    auto v = opt_u32(ps, Tag::TrafficModeType);
    if (!v) return std::nullopt;
    return static_cast<TrafficMode>(*v);
  }

  // ---- per message
  Message err(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::ErrorCode, Tag::RoutingContext, Tag::NetworkAppearance, Tag::AffectedPointCode,
                       Tag::DiagnosticInformation});
    Err m;
    m.code = static_cast<ErrorCode>(req_u32(ps, Tag::ErrorCode));
    m.routing_contexts = rcs(ps);
    m.network_appearance = opt_u32(ps, Tag::NetworkAppearance);
    m.affected_point_codes = pcs(find(ps, Tag::AffectedPointCode));
    m.diagnostic = opaque(ps, Tag::DiagnosticInformation);
    return m;
  }
  Message ntfy(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::Status, Tag::AspIdentifier, Tag::RoutingContext, Tag::InfoString});
    Ntfy m;
    const Param* s = find(ps, Tag::Status);
    if (!s) {
      fail(ErrorCode::MissingParameter, "NTFY without Status");
    } else if (s->value.size() != 4) {
      fail(ErrorCode::ParameterFieldError, "Status is 4 bytes", s->whole);
    } else {
      m.status.type = static_cast<StatusType>(load_u16(s->value.data()));
      m.status.info = load_u16(s->value.data() + 2);
    }
    m.asp_id = opt_u32(ps, Tag::AspIdentifier);
    m.routing_contexts = rcs(ps);
    m.info = info(ps);
    return m;
  }
  template <class M>
  M ssnm(const std::vector<Param>& ps) {
    M m;
    m.network_appearance = opt_u32(ps, Tag::NetworkAppearance);
    m.routing_contexts = rcs(ps);
    const Param* a = find(ps, Tag::AffectedPointCode);
    if (!a) fail(ErrorCode::MissingParameter, "missing Affected Point Code");
    m.affected_point_codes = pcs(a);
    m.info = info(ps);
    return m;
  }
  template <class M>
  Message ssnm_plain(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::NetworkAppearance, Tag::RoutingContext, Tag::AffectedPointCode, Tag::InfoString});
    return ssnm<M>(ps);
  }
  Message scon(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::NetworkAppearance, Tag::RoutingContext, Tag::AffectedPointCode,
                       Tag::ConcernedDestination, Tag::CongestionIndications, Tag::InfoString});
    auto m = ssnm<Scon>(ps);
    if (auto cd = opt_u32(ps, Tag::ConcernedDestination)) m.concerned_destination = PointCode{*cd & 0x00ffffffU};
    if (auto ci = opt_u32(ps, Tag::CongestionIndications)) {
      if (*ci > 0xff) fail(ErrorCode::InvalidParameterValue, "reserved bits set in Congestion Indications");
      m.congestion_level = static_cast<std::uint8_t>(*ci & 0xffU);
    }
    return m;
  }
  Message dupu(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::NetworkAppearance, Tag::RoutingContext, Tag::AffectedPointCode, Tag::UserCause,
                       Tag::InfoString});
    auto m = ssnm<Dupu>(ps);
    if (!failed() && (m.affected_point_codes.size() != 1 || m.affected_point_codes[0].mask != 0))
      fail(ErrorCode::InvalidParameterValue, "DUPU needs one affected point code with mask 0",
           find(ps, Tag::AffectedPointCode)->whole);
    const Param* uc = find(ps, Tag::UserCause);
    if (!uc) {
      fail(ErrorCode::MissingParameter, "DUPU without User/Cause");
    } else if (uc->value.size() != 4) {
      fail(ErrorCode::ParameterFieldError, "User/Cause is 4 bytes", uc->whole);
    } else {
      m.user_cause.cause = static_cast<UnavailabilityCause>(load_u16(uc->value.data()));
      m.user_cause.user = load_u16(uc->value.data() + 2);
    }
    return m;
  }
  template <class M>
  Message asp_up(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::AspIdentifier, Tag::InfoString});
    M m;
    m.asp_id = opt_u32(ps, Tag::AspIdentifier);
    m.info = info(ps);
    return m;
  }
  template <class M>
  Message info_only(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::InfoString});
    M m;
    m.info = info(ps);
    return m;
  }
  template <class M>
  Message beat(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::HeartbeatData});
    M m;
    m.heartbeat_data = opaque(ps, Tag::HeartbeatData);
    return m;
  }
  template <class M>
  Message activation(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::TrafficModeType, Tag::RoutingContext, Tag::InfoString});
    M m;
    m.traffic_mode = traffic_mode(ps);
    m.routing_contexts = rcs(ps);
    m.info = info(ps);
    return m;
  }
  template <class M>
  Message inactivation(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::RoutingContext, Tag::InfoString});
    M m;
    m.routing_contexts = rcs(ps);
    m.info = info(ps);
    return m;
  }

  RoutingKey routing_key(const Param& outer) {
    RoutingKey rk;
    auto ps = split(outer.value);
    if (failed()) return rk;
    check_allowed(ps,
                  {Tag::LocalRkIdentifier, Tag::RoutingContext, Tag::TrafficModeType, Tag::DestinationPointCode,
                   Tag::NetworkAppearance, Tag::ServiceIndicators, Tag::OriginatingPointCodeList},
                  {Tag::DestinationPointCode, Tag::ServiceIndicators, Tag::OriginatingPointCodeList});
    rk.local_rk_id = req_u32(ps, Tag::LocalRkIdentifier);
    rk.routing_context = opt_u32(ps, Tag::RoutingContext);
    rk.traffic_mode = traffic_mode(ps);
    rk.network_appearance = opt_u32(ps, Tag::NetworkAppearance);
    // Each DPC opens a group; SI and OPC List belong to the group of the
    // preceding DPC and appear at most once in it.
    bool have_si = false, have_opc = false;
    for (const auto& p : ps) {
      if (failed()) break;
      const auto t = static_cast<Tag>(p.tag);
      if (t == Tag::DestinationPointCode) {
        if (rk.destinations.size() >= limits_.max_destinations) {
          fail(ErrorCode::ParameterFieldError, "too many DPC groups in a routing key", p.whole);
          break;
        }
        auto v = u32(&p);
        if (!v) break;
        rk.destinations.push_back({MaskedPointCode{static_cast<std::uint8_t>(*v >> 24), PointCode{*v & 0x00ffffffU}}, {}, {}});
        have_si = have_opc = false;
      } else if (t == Tag::ServiceIndicators || t == Tag::OriginatingPointCodeList) {
        bool& seen = t == Tag::ServiceIndicators ? have_si : have_opc;
        if (rk.destinations.empty() || seen) {
          fail(ErrorCode::UnexpectedParameter, "SI / OPC List outside a DPC group", p.whole);
          break;
        }
        seen = true;
        auto& g = rk.destinations.back();
        if (t == Tag::ServiceIndicators) {
          // n one-byte SIs padded with zeros to 32 bits; trailing zeros are padding.
          if (p.value.empty() || p.value.size() > 256) {
            fail(ErrorCode::ParameterFieldError, "bad Service Indicators length", p.whole);
            break;
          }
          g.service_indicators.assign(p.value.begin(), p.value.end());
          while (!g.service_indicators.empty() && g.service_indicators.back() == 0) g.service_indicators.pop_back();
          if (g.service_indicators.empty()) {
            fail(ErrorCode::InvalidParameterValue, "Service Indicators lists no SI", p.whole);
            break;
          }
        } else {
          g.opc_list = pcs(&p);
        }
      }
    }
    if (!failed() && rk.destinations.empty()) fail(ErrorCode::MissingParameter, "routing key without DPC", outer.whole);
    return rk;
  }

  Message reg_req(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::RoutingKey}, {Tag::RoutingKey});
    RegReq m;
    for (const auto& p : ps) {
      if (failed()) break;
      if (m.routing_keys.size() >= limits_.max_routing_keys) {
        fail(ErrorCode::ParameterFieldError, "too many routing keys", p.whole);
        break;
      }
      m.routing_keys.push_back(routing_key(p));
    }
    if (!failed() && m.routing_keys.empty()) fail(ErrorCode::MissingParameter, "REG REQ without Routing Key");
    return m;
  }
  Message reg_rsp(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::RegistrationResult}, {Tag::RegistrationResult});
    RegRsp m;
    for (const auto& p : ps) {
      if (failed()) break;
      if (m.results.size() >= limits_.max_results) {
        fail(ErrorCode::ParameterFieldError, "too many registration results", p.whole);
        break;
      }
      auto inner = split(p.value);
      check_allowed(inner, {Tag::LocalRkIdentifier, Tag::RegistrationStatus, Tag::RoutingContext});
      RegistrationResult r;
      r.local_rk_id = req_u32(inner, Tag::LocalRkIdentifier);
      r.status = static_cast<RegistrationStatus>(req_u32(inner, Tag::RegistrationStatus));
      r.routing_context = req_u32(inner, Tag::RoutingContext);
      m.results.push_back(r);
    }
    if (!failed() && m.results.empty()) fail(ErrorCode::MissingParameter, "REG RSP without result");
    return m;
  }
  Message dereg_req(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::RoutingContext});
    DeregReq m;
    const Param* p = find(ps, Tag::RoutingContext);
    if (!p) fail(ErrorCode::MissingParameter, "DEREG REQ without Routing Context");
    m.routing_contexts = u32_list(p, limits_.max_routing_contexts);
    return m;
  }
  Message dereg_rsp(const std::vector<Param>& ps) {
    check_allowed(ps, {Tag::DeregistrationResult}, {Tag::DeregistrationResult});
    DeregRsp m;
    for (const auto& p : ps) {
      if (failed()) break;
      if (m.results.size() >= limits_.max_results) {
        fail(ErrorCode::ParameterFieldError, "too many deregistration results", p.whole);
        break;
      }
      auto inner = split(p.value);
      check_allowed(inner, {Tag::RoutingContext, Tag::DeregistrationStatus});
      DeregistrationResult r;
      r.routing_context = req_u32(inner, Tag::RoutingContext);
      r.status = static_cast<DeregistrationStatus>(req_u32(inner, Tag::DeregistrationStatus));
      m.results.push_back(r);
    }
    if (!failed() && m.results.empty()) fail(ErrorCode::MissingParameter, "DEREG RSP without result");
    return m;
  }

  Message run(ByteView body) {
    auto ps = split(body);
    if (failed()) return Err{};
    switch (class_) {
      case 0: return type_ == type::kErr ? err(ps) : ntfy(ps);
      case 2:
        switch (type_) {
          case type::kDuna: return ssnm_plain<Duna>(ps);
          case type::kDava: return ssnm_plain<Dava>(ps);
          case type::kDaud: return ssnm_plain<Daud>(ps);
          case type::kScon: return scon(ps);
          case type::kDupu: return dupu(ps);
          default: return ssnm_plain<Drst>(ps);
        }
      case 3:
        switch (type_) {
          case type::kAspUp: return asp_up<AspUp>(ps);
          case type::kAspUpAck: return asp_up<AspUpAck>(ps);
          case type::kAspDn: return info_only<AspDn>(ps);
          case type::kAspDnAck: return info_only<AspDnAck>(ps);
          case type::kBeat: return beat<Beat>(ps);
          default: return beat<BeatAck>(ps);
        }
      case 4:
        switch (type_) {
          case type::kAspAc: return activation<AspAc>(ps);
          case type::kAspAcAck: return activation<AspAcAck>(ps);
          case type::kAspIa: return inactivation<AspIa>(ps);
          default: return inactivation<AspIaAck>(ps);
        }
      default:
        switch (type_) {
          case type::kRegReq: return reg_req(ps);
          case type::kRegRsp: return reg_rsp(ps);
          case type::kDeregReq: return dereg_req(ps);
          default: return dereg_rsp(ps);
        }
    }
  }

 private:
  ByteView wire_;
  std::uint8_t class_;
  std::uint8_t type_;
  const DecodeLimits& limits_;
  std::optional<M3uaError> err_;
};

rserpool::Unexpected<M3uaError> header_error(ByteView wire, ErrorCode code, std::string detail) {
  M3uaError e;
  e.code = code;
  e.detail = std::move(detail);
  if (wire.size() >= 4) {
    e.msg_class = wire[2];
    e.msg_type = wire[3];
    e.offender_is_err = wire[2] == 0 && wire[3] == type::kErr;
  }
  auto d = first_bytes(wire, kDiagnosticBytes);
  e.diagnostic.assign(d.begin(), d.end());
  return rserpool::unexpected(std::move(e));
}

}  // namespace

rserpool::Result<Header, M3uaError> decode_header(ByteView wire, const DecodeLimits& limits) {
  if (wire.size() > limits.max_message_size) return header_error(wire, ErrorCode::ProtocolError, "message too large");
  if (wire.size() < kHeaderSize) return header_error(wire, ErrorCode::ParameterFieldError, "shorter than the common header");
  Header h{wire[0], wire[2], wire[3], load_u32(wire.data() + 4)};
  if (h.version != kVersion) return header_error(wire, ErrorCode::InvalidVersion, "unsupported version");
  // The length must cover the buffer, with or without the final padding.
  if (h.length < kHeaderSize || h.length > wire.size() ||
      (h.length != wire.size() && rserpool::pad4(h.length) != wire.size()))
    return header_error(wire, ErrorCode::ParameterFieldError, "message length does not match the data");
  if (!class_known(h.msg_class))
    return header_error(wire, ErrorCode::UnsupportedMessageClass, "unsupported message class");
  if (!type_known(h.msg_class, h.msg_type))
    return header_error(wire, ErrorCode::UnsupportedMessageType, "unsupported message type");
  return h;
}

rserpool::Result<Message, M3uaError> decode(ByteView wire, const DecodeLimits& limits) {
  auto h = decode_header(wire, limits);
  if (!h) return rserpool::unexpected(std::move(h.error()));
  if (h->msg_class == static_cast<std::uint8_t>(MessageClass::Transfer)) {
    auto d = decode_data(wire, limits);
    if (!d) return rserpool::unexpected(std::move(d.error()));
    return Message{to_owned(*d)};
  }
  Decoder dec(wire, h->msg_class, h->msg_type, limits);
  Message m = dec.run(wire.subspan(kHeaderSize, h->length - kHeaderSize));
  if (dec.failed()) return rserpool::unexpected(dec.take_error());
  return m;
}

}  // namespace mxua
