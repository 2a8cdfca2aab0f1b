// ASAP message codec (RFC 5352 section 2).
#include "rserpool/wire/asap.hpp"

#include <type_traits>

#include "codec.hpp"
#include "fields.hpp"

namespace rserpool::wire::asap {

using namespace detail;

std::string_view to_string(MessageType t) noexcept {
  switch (t) {
    case MessageType::registration: return "ASAP_REGISTRATION";
    case MessageType::deregistration: return "ASAP_DEREGISTRATION";
    case MessageType::registration_response: return "ASAP_REGISTRATION_RESPONSE";
    case MessageType::deregistration_response: return "ASAP_DEREGISTRATION_RESPONSE";
    case MessageType::handle_resolution: return "ASAP_HANDLE_RESOLUTION";
    case MessageType::handle_resolution_response: return "ASAP_HANDLE_RESOLUTION_RESPONSE";
    case MessageType::endpoint_keep_alive: return "ASAP_ENDPOINT_KEEP_ALIVE";
    case MessageType::endpoint_keep_alive_ack: return "ASAP_ENDPOINT_KEEP_ALIVE_ACK";
    case MessageType::endpoint_unreachable: return "ASAP_ENDPOINT_UNREACHABLE";
    case MessageType::server_announce: return "ASAP_SERVER_ANNOUNCE";
    case MessageType::cookie: return "ASAP_COOKIE";
    case MessageType::cookie_echo: return "ASAP_COOKIE_ECHO";
    case MessageType::business_card: return "ASAP_BUSINESS_CARD";
    case MessageType::error: return "ASAP_ERROR";
  }
  return "ASAP_UNKNOWN";
}

static_assert(std::variant_size_v<Message> == 14 && std::is_same_v<std::variant_alternative_t<0, Message>, Registration> &&
                  std::is_same_v<std::variant_alternative_t<13, Message>, Error>,
              "Message alternatives must stay in type-code order");

MessageType message_type(const Message& m) noexcept {
  // The variant lists the messages in type-code order, 0x01 first.
  return static_cast<MessageType>(m.index() + 1);
}

namespace {

std::uint8_t flags(const Message& m) {
  if (const auto* r = std::get_if<RegistrationResponse>(&m)) return r->rejected ? kRejectFlag : 0;
  if (const auto* r = std::get_if<HandleResolution>(&m)) return r->subscribe ? kSubscribeFlag : 0;
  if (const auto* r = std::get_if<HandleResolutionResponse>(&m)) return r->accepted ? kAcceptFlag : 0;
  if (const auto* k = std::get_if<EndpointKeepAlive>(&m)) return k->home ? kHomeFlag : 0;
  return 0;
}

void put_error_if_any(Encoder& e, const std::vector<OperationErrorCause>& causes) {
  if (!causes.empty()) put_operation_error(e, causes);
}

void put_body(Encoder& e, const Registration& m) {
  put_pool_handle(e, m.pool_handle);
  put_pool_element(e, m.pool_element);
}
void put_body(Encoder& e, const Deregistration& m) {
  put_pool_handle(e, m.pool_handle);
  put_u32_parameter(e, ParameterType::pe_identifier, m.pe_id);
}
void put_body(Encoder& e, const RegistrationResponse& m) {
  put_pool_handle(e, m.pool_handle);
  put_u32_parameter(e, ParameterType::pe_identifier, m.pe_id);
  put_error_if_any(e, m.error);
}
void put_body(Encoder& e, const DeregistrationResponse& m) {
  put_pool_handle(e, m.pool_handle);
  put_u32_parameter(e, ParameterType::pe_identifier, m.pe_id);
  put_error_if_any(e, m.error);
}
void put_body(Encoder& e, const HandleResolution& m) {
  put_pool_handle(e, m.pool_handle);
  if (m.items) put_u32_parameter(e, ParameterType::handle_resolution_option, *m.items);
}
void put_body(Encoder& e, const HandleResolutionResponse& m) {
  put_pool_handle(e, m.pool_handle);
  if (m.overall_policy) put_policy(e, *m.overall_policy);
  for (const auto& pe : m.pool_elements) put_pool_element(e, pe);
  put_error_if_any(e, m.error);
}
void put_body(Encoder& e, const EndpointKeepAlive& m) {
  e.u32(m.server_id);
  put_pool_handle(e, m.pool_handle);
  if (m.pe_id) put_u32_parameter(e, ParameterType::pe_identifier, *m.pe_id);
}
void put_body(Encoder& e, const EndpointKeepAliveAck& m) {
  put_pool_handle(e, m.pool_handle);
  put_u32_parameter(e, ParameterType::pe_identifier, m.pe_id);
}
void put_body(Encoder& e, const EndpointUnreachable& m) {
  put_pool_handle(e, m.pool_handle);
  put_u32_parameter(e, ParameterType::pe_identifier, m.pe_id);
}
void put_body(Encoder& e, const ServerAnnounce& m) {
  e.u32(m.server_id);
  for (const auto& t : m.transports) put_transport(e, t);
}
void put_body(Encoder& e, const Cookie& m) { put_opaque(e, ParameterType::cookie, m.cookie); }
void put_body(Encoder& e, const CookieEcho& m) { put_opaque(e, ParameterType::cookie, m.cookie); }
void put_body(Encoder& e, const BusinessCard& m) {
  put_pool_handle(e, m.pool_handle);
  for (const auto& pe : m.pool_elements) put_pool_element(e, pe);
}
void put_body(Encoder& e, const Error& m) { put_operation_error(e, m.causes); }

}  // namespace

void encode_into(const Message& m, Bytes& out) {
  Encoder e(out);
  const auto start = e.begin_message(static_cast<std::uint8_t>(message_type(m)), flags(m));
  std::visit([&](const auto& msg) { put_body(e, msg); }, m);
  e.end_message(start);
}

void encode_resolution_response(Bytes& out, bool accepted, const PoolHandle& pool_handle,
                                const std::optional<PolicyParameters>& overall_policy,
                                std::span<const ByteView> encoded_pool_elements) {
  encode_resolution_response(out, accepted, pool_handle.bytes(), overall_policy, encoded_pool_elements);
}

namespace {

// The registrar's answers, written straight into `out`: the exact size is
// known before a byte is written, so `out` grows once, its zero fill is the
// padding, and no Encoder bookkeeping runs per field (issue 16). Layout and
// bytes are those of put_body() through the Encoder: every parameter starts
// 4-aligned from the message start, the message length leaves out the last
// parameter's padding, and the message is padded to 4.

void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void store32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// The policy parameter's values after its type, as put_policy() writes them.
std::size_t policy_values(const PolicyParameters& p, std::uint32_t (&v)[3]) {
  switch (p.type) {
    case PolicyType::round_robin:
    case PolicyType::random: return 0;
    case PolicyType::weighted_round_robin:
    case PolicyType::weighted_random: v[0] = p.weight; return 1;
    case PolicyType::priority: v[0] = p.priority; return 1;
    case PolicyType::least_used:
    case PolicyType::randomized_least_used: v[0] = p.load; return 1;
    case PolicyType::least_used_degradation:
    case PolicyType::priority_least_used:
      v[0] = p.load;
      v[1] = p.degradation;
      return 2;
    case PolicyType::weighted_random_dpf:
      v[0] = p.weight;
      v[1] = p.dpf;
      v[2] = p.distance;
      return 3;
    case PolicyType::least_used_dpf:
      v[0] = p.load;
      v[1] = p.dpf;
      v[2] = p.distance;
      return 3;
    default: return 0;  // an unknown type: its verbatim value instead
  }
}

// Grows `out` by `total` zeroed bytes, or throws as the Encoder does when
// the message length does not fit its 16-bit field (`out` untouched).
std::uint8_t* grow(Bytes& out, std::size_t length, std::size_t total) {
  if (length > 0xFFFF) throw std::length_error("RSerPool message or parameter longer than 65535 bytes");
  const std::size_t at = out.size();
  out.resize(at + total);
  return out.data() + at;
}

std::uint8_t* put_header(std::uint8_t* p, std::uint16_t type, std::size_t length) {
  store16(p, type);
  store16(p + 2, static_cast<std::uint16_t>(length));
  return p + 4;
}

// A HANDLE_RESOLUTION_RESPONSE's length without trailing padding: the Pool
// Handle, a policy parameter of `policy_length` bytes (0: none), the
// encoded Pool Elements; 0x10000 (refused by grow()) when the handle does
// not fit its parameter, as the Encoder would.
std::size_t resolution_response_length(ByteView pool_handle, std::size_t policy_length,
                                       std::span<const ByteView> encoded_pool_elements) {
  std::size_t length = 4 + 4 + pool_handle.size();
  if (policy_length != 0) length = pad4(length) + policy_length;
  for (const ByteView pe : encoded_pool_elements) length = pad4(length) + pe.size();
  return pool_handle.size() + 4 > 0xFFFF ? 0x10000 : length;
}

// Its header and Pool Handle, in `length` bytes grown onto `out`; returns
// where the next parameter goes.
std::uint8_t* put_resolution_head(Bytes& out, bool accepted, std::size_t length, ByteView pool_handle) {
  std::uint8_t* const m = grow(out, length, pad4(length));
  m[0] = static_cast<std::uint8_t>(MessageType::handle_resolution_response);
  m[1] = accepted ? kAcceptFlag : 0;
  store16(m + 2, static_cast<std::uint16_t>(length));
  std::uint8_t* p = put_header(m + 4, static_cast<std::uint16_t>(ParameterType::pool_handle), 4 + pool_handle.size());
  if (!pool_handle.empty()) std::memcpy(p, pool_handle.data(), pool_handle.size());
  return p + pad4(pool_handle.size());
}

void put_pool_elements(std::uint8_t* p, std::span<const ByteView> encoded_pool_elements) {
  for (const ByteView pe : encoded_pool_elements) {
    if (!pe.empty()) std::memcpy(p, pe.data(), pe.size());
    p += pad4(pe.size());
  }
}

}  // namespace

void encode_resolution_response(Bytes& out, bool accepted, ByteView pool_handle,
                                const std::optional<PolicyParameters>& overall_policy,
                                std::span<const ByteView> encoded_pool_elements) {
  std::uint32_t values[3] = {0, 0, 0};
  std::size_t policy_length = 0;
  if (overall_policy) {
    const std::size_t n = policy_values(*overall_policy, values);
    policy_length = 8 + (is_known_policy(static_cast<std::uint32_t>(overall_policy->type))
                             ? 4 * n
                             : overall_policy->raw_value.size());
  }
  std::size_t length = resolution_response_length(pool_handle, policy_length, encoded_pool_elements);
  if (policy_length > 0xFFFF) length = 0x10000;  // as the Encoder would
  std::uint8_t* p = put_resolution_head(out, accepted, length, pool_handle);
  if (overall_policy) {
    std::uint8_t* q = put_header(p, static_cast<std::uint16_t>(ParameterType::pool_member_selection_policy),
                                 policy_length);
    store32(q, static_cast<std::uint32_t>(overall_policy->type));
    q += 4;
    if (is_known_policy(static_cast<std::uint32_t>(overall_policy->type))) {
      for (std::size_t i = 0; 8 + 4 * i < policy_length; ++i, q += 4) store32(q, values[i]);
    } else if (!overall_policy->raw_value.empty()) {
      std::memcpy(q, overall_policy->raw_value.data(), overall_policy->raw_value.size());
    }
    p += pad4(policy_length);
  }
  put_pool_elements(p, encoded_pool_elements);
}

void encode_resolution_response(Bytes& out, bool accepted, ByteView pool_handle, std::optional<PolicyType> overall_policy,
                                std::span<const ByteView> encoded_pool_elements) {
  // A fresh PolicyParameters of the type: its values are zeros, which the
  // zero fill of grow() already wrote.
  const std::size_t policy_length = overall_policy ? 8 + policy_value_size(*overall_policy).value_or(0) : 0;
  const std::size_t length = resolution_response_length(pool_handle, policy_length, encoded_pool_elements);
  std::uint8_t* p = put_resolution_head(out, accepted, length, pool_handle);
  if (overall_policy) {
    store32(put_header(p, static_cast<std::uint16_t>(ParameterType::pool_member_selection_policy), policy_length),
            static_cast<std::uint32_t>(*overall_policy));
    p += policy_length;  // a multiple of 4
  }
  put_pool_elements(p, encoded_pool_elements);
}

void encode_registration_response(Bytes& out, ByteView pool_handle, PeIdentifier pe_id) {
  const std::size_t length = 4 + pad4(4 + pool_handle.size()) + 8;
  std::uint8_t* const m = grow(out, pool_handle.size() + 4 > 0xFFFF ? 0x10000 : length, length);
  m[0] = static_cast<std::uint8_t>(MessageType::registration_response);
  m[1] = 0;
  store16(m + 2, static_cast<std::uint16_t>(length));
  std::uint8_t* p = put_header(m + 4, static_cast<std::uint16_t>(ParameterType::pool_handle), 4 + pool_handle.size());
  if (!pool_handle.empty()) std::memcpy(p, pool_handle.data(), pool_handle.size());
  p += pad4(pool_handle.size());
  p = put_header(p, static_cast<std::uint16_t>(ParameterType::pe_identifier), 8);
  store32(p, pe_id);
}

std::optional<HandleResolutionView> decode_handle_resolution_view(ByteView data) noexcept {
  // The framing rules of read_header() and TlvWalker, restricted to the
  // plain form; every other case is left to decode().
  if (data.size() < 4 || data[0] != static_cast<std::uint8_t>(MessageType::handle_resolution)) return std::nullopt;
  const std::size_t length = load_u16(data.data() + 2);
  if (length < 4 || length > data.size() || data.size() > pad4(length)) return std::nullopt;
  const ByteView body = data.subspan(4, length - 4);
  std::size_t pos = 0;
  // One TLV at `pos` of `type`; its value, or an empty span when it is not there.
  const auto tlv = [&](std::uint16_t type, ByteView& value) {
    const std::size_t left = body.size() - pos;
    if (left < 4 || load_u16(body.data() + pos) != type) return false;
    const std::size_t l = load_u16(body.data() + pos + 2);
    if (l < 4 || l > left) return false;
    value = body.subspan(pos + 4, l - 4);
    pos = std::min(pos + pad4(l), body.size());
    return true;
  };
  HandleResolutionView v;
  v.subscribe = (data[1] & kSubscribeFlag) != 0;
  if (!tlv(static_cast<std::uint16_t>(ParameterType::pool_handle), v.pool_handle) || v.pool_handle.empty() ||
      v.pool_handle.size() > kMaxPoolHandleSize)
    return std::nullopt;
  if (pos < body.size()) {
    ByteView option;
    if (!tlv(static_cast<std::uint16_t>(ParameterType::handle_resolution_option), option) || option.size() != 4)
      return std::nullopt;
    v.items = load_u32(option.data());
  }
  if (pos != body.size()) return std::nullopt;
  return v;
}

bool decode_registration_view(ByteView data, RegistrationView& into) {
  return decode_registration_straight(data, into) || decode_registration_walked(data, into);
}

bool decode_registration_walked(ByteView data, RegistrationView& into) {
  if (data.size() < 4 || data[0] != static_cast<std::uint8_t>(MessageType::registration)) return false;
  const std::size_t length = load_u16(data.data() + 2);
  if (length < 4 || length > data.size() || data.size() > pad4(length)) return false;
  TlvWalker walker(data.subspan(4, length - 4));
  Tlv handle, element, extra;
  if (!walker.next(handle) || handle.type != static_cast<std::uint16_t>(ParameterType::pool_handle) ||
      handle.value.empty() || handle.value.size() > kMaxPoolHandleSize)
    return false;
  if (!walker.next(element) || element.type != static_cast<std::uint16_t>(ParameterType::pool_element)) return false;
  if (walker.next(extra) || walker.error()) return false;
  into.pool_handle = handle.value;
  // A fresh parameter (its address lists are inline: no allocation for
  // the common 1-4 addresses).
  PoolElementParameter& pe = into.pool_element;
  pe = PoolElementParameter{};
  std::vector<OperationErrorCause> reported;  // stays empty (no allocation) on the plain form
  Context ctx{&reported, 0};
  return !decode_pool_element(element, ctx, pe) && reported.empty();
}

std::optional<RegistrationView> decode_registration_view(ByteView data) {
  std::optional<RegistrationView> v;
  v.emplace();
  if (!decode_registration_view(data, *v)) return std::nullopt;
  return v;
}

Bytes encode(const Message& m) {
  Bytes out;
  out.reserve(128);
  encode_into(m, out);
  return out;
}

namespace {

namespace al = detail::allow;

// Messages whose body is Pool Handle + PE Identifier (mandatory both).
template <class M>
Status handle_and_id(ByteView body, Context& ctx, M& out) {
  Fields f;
  if (auto e = collect(body, al::pool_handle | al::pe_identifier, ctx, f)) return e;
  if (!f.pool_handle) return missing("pool handle missing");
  if (!f.pe_id) return missing("PE identifier missing");
  out.pool_handle = std::move(*f.pool_handle);
  out.pe_id = *f.pe_id;
  return std::nullopt;
}

template <class M>
Status handle_id_error(ByteView body, Context& ctx, M& out) {
  Fields f;
  if (auto e = collect(body, al::pool_handle | al::pe_identifier | al::operation_error, ctx, f)) return e;
  if (!f.pool_handle) return missing("pool handle missing");
  if (!f.pe_id) return missing("PE identifier missing");
  out.pool_handle = std::move(*f.pool_handle);
  out.pe_id = *f.pe_id;
  out.error = std::move(f.error);
  return std::nullopt;
}

Status decode_body(const Header& h, Context& ctx, Message& out) {
  const ByteView body = h.body;
  switch (static_cast<MessageType>(h.type)) {
    case MessageType::registration: {
      Fields f;
      if (auto e = collect(body, al::pool_handle | al::pool_element, ctx, f)) return e;
      if (!f.pool_handle) return missing("pool handle missing");
      if (!f.pool_element) return missing("pool element missing");
      out = Registration{std::move(*f.pool_handle), std::move(*f.pool_element)};
      return std::nullopt;
    }
    case MessageType::deregistration: {
      Deregistration m;
      if (auto e = handle_and_id(body, ctx, m)) return e;
      out = std::move(m);
      return std::nullopt;
    }
    case MessageType::registration_response: {
      RegistrationResponse m;
      m.rejected = (h.flags & kRejectFlag) != 0;
      if (auto e = handle_id_error(body, ctx, m)) return e;
      out = std::move(m);
      return std::nullopt;
    }
    case MessageType::deregistration_response: {
      DeregistrationResponse m;
      if (auto e = handle_id_error(body, ctx, m)) return e;
      out = std::move(m);
      return std::nullopt;
    }
    case MessageType::handle_resolution: {
      Fields f;
      if (auto e = collect(body, al::pool_handle | al::handle_resolution_option, ctx, f)) return e;
      if (!f.pool_handle) return missing("pool handle missing");
      out = HandleResolution{(h.flags & kSubscribeFlag) != 0, std::move(*f.pool_handle), f.items};
      return std::nullopt;
    }
    case MessageType::handle_resolution_response: {
      Fields f;
      if (auto e = collect(body, al::pool_handle | al::policy | al::pool_elements | al::operation_error, ctx, f)) {
        return e;
      }
      if (!f.pool_handle) return missing("pool handle missing");
      out = HandleResolutionResponse{(h.flags & kAcceptFlag) != 0, std::move(*f.pool_handle), std::move(f.policy),
                                     std::move(f.pool_elements), std::move(f.error)};
      return std::nullopt;
    }
    case MessageType::endpoint_keep_alive: {
      if (body.size() < 4) {
        return make_error(DecodeFailure::truncated, std::nullopt, {}, "keep-alive without server identifier");
      }
      Fields f;
      if (auto e = collect(body.subspan(4), al::pool_handle | al::pe_identifier, ctx, f)) return e;
      if (!f.pool_handle) return missing("pool handle missing");
      out = EndpointKeepAlive{(h.flags & kHomeFlag) != 0, load_u32(body.data()), std::move(*f.pool_handle), f.pe_id};
      return std::nullopt;
    }
    case MessageType::endpoint_keep_alive_ack: {
      EndpointKeepAliveAck m;
      if (auto e = handle_and_id(body, ctx, m)) return e;
      out = std::move(m);
      return std::nullopt;
    }
    case MessageType::endpoint_unreachable: {
      EndpointUnreachable m;
      if (auto e = handle_and_id(body, ctx, m)) return e;
      out = std::move(m);
      return std::nullopt;
    }
    case MessageType::server_announce: {
      if (body.size() < 4) {
        return make_error(DecodeFailure::truncated, std::nullopt, {}, "server announce without server identifier");
      }
      Fields f;
      if (auto e = collect(body.subspan(4), al::announce_transports, ctx, f)) return e;
      out = ServerAnnounce{load_u32(body.data()), std::move(f.transports)};
      return std::nullopt;
    }
    case MessageType::cookie:
    case MessageType::cookie_echo: {
      Fields f;
      if (auto e = collect(body, al::cookie, ctx, f)) return e;
      if (!f.cookie) return missing("cookie missing");
      if (h.type == static_cast<std::uint8_t>(MessageType::cookie)) {
        out = Cookie{std::move(*f.cookie)};
      } else {
        out = CookieEcho{std::move(*f.cookie)};
      }
      return std::nullopt;
    }
    case MessageType::business_card: {
      Fields f;
      if (auto e = collect(body, al::pool_handle | al::pool_elements, ctx, f)) return e;
      if (!f.pool_handle) return missing("pool handle missing");
      out = BusinessCard{std::move(*f.pool_handle), std::move(f.pool_elements)};
      return std::nullopt;
    }
    case MessageType::error: {
      Fields f;
      if (auto e = collect(body, al::operation_error, ctx, f)) return e;
      if (!f.has_error) return missing("operation error missing");
      out = Error{std::move(f.error)};
      return std::nullopt;
    }
  }
  return unrecognized_message(h);
}

}  // namespace

Result<Decoded<Message>, DecodeError> decode(ByteView data) {
  Header h;
  if (auto e = read_header(data, h)) return unexpected(std::move(*e));
  Decoded<Message> d;
  Context ctx{&d.unrecognized, 0};
  if (auto e = decode_body(h, ctx, d.message)) {
    e->message_type = h.type;
    return unexpected(std::move(*e));
  }
  return d;
}

std::optional<Error> error_reply(const DecodeError& e) {
  if (e.silent() || e.message_type == static_cast<std::uint8_t>(MessageType::error)) return std::nullopt;
  // Message header + Operation Error header + cause header.
  constexpr std::size_t overhead = 4 + 4 + 4;
  return Error{{OperationErrorCause{*e.cause, bounded_info(e.offending, overhead)}}};
}

std::optional<Error> error_reply(const Decoded<Message>& d) {
  if (d.unrecognized.empty() || std::holds_alternative<Error>(d.message)) return std::nullopt;
  auto causes = bounded_causes(d.unrecognized, 4 + 4);
  if (causes.empty()) return std::nullopt;
  return Error{std::move(causes)};
}

}  // namespace rserpool::wire::asap
