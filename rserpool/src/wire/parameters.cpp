// RFC 5354 parameters: encoders and decoders for every TLV that ASAP and
// ENRP carry. Layouts follow RFC 5354 section 3; policy values RFC 5356
// section 7 plus the DPF policies as rsplib and Wireshark lay them out.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "codec.hpp"
#include "policy_values.hpp"

namespace rserpool::wire {

std::string_view to_string(ParameterType t) noexcept {
  switch (t) {
    case ParameterType::ipv4_address: return "IPv4 Address";
    case ParameterType::ipv6_address: return "IPv6 Address";
    case ParameterType::dccp_transport: return "DCCP Transport";
    case ParameterType::sctp_transport: return "SCTP Transport";
    case ParameterType::tcp_transport: return "TCP Transport";
    case ParameterType::udp_transport: return "UDP Transport";
    case ParameterType::udp_lite_transport: return "UDP-Lite Transport";
    case ParameterType::pool_member_selection_policy: return "Pool Member Selection Policy";
    case ParameterType::pool_handle: return "Pool Handle";
    case ParameterType::pool_element: return "Pool Element";
    case ParameterType::server_information: return "Server Information";
    case ParameterType::operation_error: return "Operation Error";
    case ParameterType::cookie: return "Cookie";
    case ParameterType::pe_identifier: return "PE Identifier";
    case ParameterType::pe_checksum: return "PE Checksum";
    case ParameterType::opaque_transport: return "Opaque Transport";
    case ParameterType::handle_resolution_option: return "Handle Resolution Option";
  }
  return "Unknown Parameter";
}

std::optional<std::size_t> policy_value_size(PolicyType t) noexcept {
  switch (t) {
    case PolicyType::round_robin:
    case PolicyType::random:
      return 0;
    case PolicyType::weighted_round_robin:
    case PolicyType::weighted_random:
    case PolicyType::priority:
    case PolicyType::least_used:
    case PolicyType::randomized_least_used:
      return 4;
    case PolicyType::least_used_degradation:
    case PolicyType::priority_least_used:
      return 8;
    case PolicyType::weighted_random_dpf:
    case PolicyType::least_used_dpf:
      return 12;
  }
  return std::nullopt;
}

namespace detail {

namespace {
constexpr std::uint16_t code(ParameterType t) { return static_cast<std::uint16_t>(t); }
}  // namespace

bool is_transport_type(std::uint16_t type) noexcept {
  return (type >= code(ParameterType::dccp_transport) && type <= code(ParameterType::udp_lite_transport)) ||
         type == code(ParameterType::opaque_transport);
}

// ---- decoders -------------------------------------------------------------

Status decode_address(const Tlv& t, IpAddress& out) {
  if (t.type == code(ParameterType::ipv4_address) && t.value.size() == 4) {
    out = IpAddress::v4({t.value[0], t.value[1], t.value[2], t.value[3]});
    return std::nullopt;
  }
  if (t.type == code(ParameterType::ipv6_address) && t.value.size() == 16) {
    std::array<std::uint8_t, 16> b{};
    std::copy(t.value.begin(), t.value.end(), b.begin());
    out = IpAddress::v6(b);
    return std::nullopt;
  }
  return invalid(t.whole, "address parameter of the wrong length");
}

Status decode_transport(const Tlv& t, Context& ctx, TransportParameter& out) {
  out.protocol = static_cast<TransportProtocol>(t.type);
  if (t.type == code(ParameterType::opaque_transport)) {
    out.opaque.assign(t.value.begin(), t.value.end());
    return std::nullopt;
  }
  if (!is_transport_type(t.type)) return invalid(t.whole, "not a transport parameter");
  ByteReader r(t.value);
  out.port = r.u16();
  const std::uint16_t second = r.u16();  // SCTP: transport use; others: reserved
  if (t.type == code(ParameterType::dccp_transport)) out.dccp_service_code = r.u32();
  if (r.failed()) return invalid(t.whole, "transport parameter too short");
  if (t.type == code(ParameterType::sctp_transport)) {
    if (second > static_cast<std::uint16_t>(TransportUse::data_and_control)) {
      return invalid(t.whole, "unknown transport use");
    }
    out.use = static_cast<TransportUse>(second);
  }
  // TCP's second field is "reserved" in RFC 5354 but "transport use" to
  // rsplib and Wireshark: accept any value, keep nothing (we send 0).
  // Room at once: IPv4 address TLVs are 8 bytes, IPv6 ones larger (up to
  // AddressList::kInline addresses no allocation at all).
  out.addresses.reserve(std::min(kMaxTransportAddresses, r.remaining() / 8));
  TlvWalker inner(r.rest());
  Tlv a;
  while (inner.next(a)) {
    if (a.type == code(ParameterType::ipv4_address) || a.type == code(ParameterType::ipv6_address)) {
      if (out.addresses.size() == kMaxTransportAddresses) return too_many("too many addresses in a transport");
      IpAddress ip;
      if (auto e = decode_address(a, ip)) return e;
      out.addresses.push_back(ip);
    } else if (auto e = unrecognized_tlv(a, ctx)) {
      return e;
    }
  }
  if (inner.error()) return inner.error();
  // SCTP carries 1..n addresses, the others exactly one in RFC 5354; we
  // accept a list for all, as rsplib and Wireshark read them.
  if (out.addresses.empty()) return invalid(t.whole, "transport parameter without an address");
  return std::nullopt;
}

Status decode_policy(const Tlv& t, PolicyParameters& out) {
  ByteReader r(t.value);
  const std::uint32_t type = r.u32();
  if (r.failed()) return invalid(t.whole, "policy parameter without a type");
  out.type = static_cast<PolicyType>(type);
  const auto need = policy_value_size(out.type);
  if (!need) {
    // Unknown (e.g. a private policy of a newer peer): kept verbatim.
    const ByteView rest = r.rest();
    out.raw_value.assign(rest.begin(), rest.end());
    return std::nullopt;
  }
  // Shorter than the layout is an error; longer is tolerated and ignored,
  // like Wireshark does.
  if (r.remaining() < *need) return invalid(t.whole, "policy value too short for its type");
  detail::assign_policy_values(out, [&r] { return r.u32(); });
  return std::nullopt;
}

Status decode_pool_handle(const Tlv& t, PoolHandle& out) {
  if (t.value.empty()) return invalid(t.whole, "empty pool handle");
  if (t.value.size() > kMaxPoolHandleSize) return invalid(t.whole, "pool handle longer than kMaxPoolHandleSize");
  out = PoolHandle(t.value);
  return std::nullopt;
}

Status decode_pool_element(const Tlv& t, Context& ctx, PoolElementParameter& out) {
  if (ctx.pool_elements == kMaxPoolElementsPerMessage) return too_many("too many pool elements in a message");
  ++ctx.pool_elements;
  ByteReader r(t.value);
  out.id = r.u32();
  out.home_registrar = r.u32();
  out.registration_life_ms = static_cast<std::int32_t>(r.u32());
  if (r.failed()) return invalid(t.whole, "pool element parameter too short");
  bool have_user = false;
  bool have_policy = false;
  TlvWalker inner(r.rest());
  Tlv p;
  while (inner.next(p)) {
    if (is_transport_type(p.type)) {
      if (!have_user && !have_policy) {
        if (auto e = decode_transport(p, ctx, out.user_transport)) return e;
        have_user = true;
      } else if (have_policy && !out.asap_transport && p.type == code(ParameterType::sctp_transport)) {
        TransportParameter asap;
        if (auto e = decode_transport(p, ctx, asap)) return e;
        out.asap_transport = std::move(asap);
      } else {
        return unexpected_known(p, "transport parameter out of place in a pool element");
      }
    } else if (p.type == code(ParameterType::pool_member_selection_policy)) {
      if (!have_user || have_policy) return unexpected_known(p, "policy parameter out of place in a pool element");
      if (auto e = decode_policy(p, out.policy)) return e;
      have_policy = true;
    } else if (auto e = unrecognized_tlv(p, ctx)) {
      return e;
    }
  }
  if (inner.error()) return inner.error();
  if (!have_user) return invalid(t.whole, "pool element without a user transport");
  if (!have_policy) return invalid(t.whole, "pool element without a selection policy");
  return std::nullopt;
}

Status decode_server_information(const Tlv& t, Context& ctx, ServerInformation& out) {
  ByteReader r(t.value);
  out.id = r.u32();
  if (r.failed()) return invalid(t.whole, "server information too short");
  bool have_transport = false;
  TlvWalker inner(r.rest());
  Tlv p;
  while (inner.next(p)) {
    if (p.type == code(ParameterType::sctp_transport) && !have_transport) {
      if (auto e = decode_transport(p, ctx, out.transport)) return e;
      have_transport = true;
    } else if (auto e = unrecognized_tlv(p, ctx)) {
      return e;
    }
  }
  if (inner.error()) return inner.error();
  if (!have_transport) return invalid(t.whole, "server information without an SCTP transport");
  return std::nullopt;
}

Status decode_operation_error(const Tlv& t, std::vector<OperationErrorCause>& out) {
  out.clear();
  // A cause is framed like a TLV: code(16), length(16, without padding), info.
  TlvWalker causes(t.value);
  Tlv c;
  while (causes.next(c)) {
    if (out.size() == kMaxErrorCauses) return too_many("too many error causes");
    out.push_back({static_cast<ErrorCause>(c.type), Bytes(c.value.begin(), c.value.end())});
  }
  if (causes.error()) {
    // Report the whole Operation Error: the broken cause is not a TLV.
    return invalid(t.whole, "malformed error cause");
  }
  return std::nullopt;
}

Status decode_u32_value(const Tlv& t, std::uint32_t& out, std::string_view what) {
  if (t.value.size() != 4) return invalid(t.whole, what);
  out = load_u32(t.value.data());
  return std::nullopt;
}

Status decode_pe_checksum(const Tlv& t, std::uint16_t& out) {
  // Length is 6 (RFC 5354 3.15: the two pad bytes are not counted); we also
  // accept 8 from a sender that counted them.
  if (t.value.size() != 2 && t.value.size() != 4) return invalid(t.whole, "PE checksum of the wrong length");
  out = load_u16(t.value.data());
  return std::nullopt;
}

Status decode_opaque(const Tlv& t, Bytes& out, std::string_view /*what*/) {
  out.assign(t.value.begin(), t.value.end());
  return std::nullopt;
}

// ---- encoders -------------------------------------------------------------

void put_address(Encoder& e, const IpAddress& a) {
  e.align();
  if (a.is_v4()) {
    std::uint8_t* p = e.take(8);
    Encoder::store_u32(p, 0x00010008);  // type 1, length 8
    std::memcpy(p + 4, a.data(), 4);
  } else {
    std::uint8_t* p = e.take(20);
    Encoder::store_u32(p, 0x00020014);  // type 2, length 20
    std::memcpy(p + 4, a.data(), 16);
  }
}

void put_transport(Encoder& e, const TransportParameter& t) {
  switch (t.protocol) {
    case TransportProtocol::dccp:
    case TransportProtocol::sctp:
    case TransportProtocol::tcp:
    case TransportProtocol::udp:
    case TransportProtocol::udp_lite:
    case TransportProtocol::opaque:
      break;
    default:
      throw std::invalid_argument("transport parameter with an unknown protocol");
  }
  const auto start = e.begin_tlv(static_cast<std::uint16_t>(t.protocol));
  if (t.protocol == TransportProtocol::opaque) {
    e.bytes(t.opaque);
    e.end_tlv(start);
    return;
  }
  // Only SCTP carries the transport use; DCCP/TCP/UDP/UDP-Lite: reserved, 0.
  const std::uint16_t second =
      t.protocol == TransportProtocol::sctp ? static_cast<std::uint16_t>(t.use) : std::uint16_t{0};
  Encoder::store_u32(e.take(4), std::uint32_t{t.port} << 16 | second);
  if (t.protocol == TransportProtocol::dccp) e.u32(t.dccp_service_code);
  for (const auto& a : t.addresses) put_address(e, a);
  e.end_tlv(start);
}

void put_policy(Encoder& e, const PolicyParameters& p) {
  const auto start = e.begin_tlv(ParameterType::pool_member_selection_policy);
  e.u32(static_cast<std::uint32_t>(p.type));
  switch (p.type) {
    case PolicyType::round_robin:
    case PolicyType::random:
      break;
    case PolicyType::weighted_round_robin:
    case PolicyType::weighted_random:
      e.u32(p.weight);
      break;
    case PolicyType::priority:
      e.u32(p.priority);
      break;
    case PolicyType::least_used:
    case PolicyType::randomized_least_used:
      e.u32(p.load);
      break;
    case PolicyType::least_used_degradation:
    case PolicyType::priority_least_used:
      e.u32(p.load);
      e.u32(p.degradation);
      break;
    case PolicyType::weighted_random_dpf:
      e.u32(p.weight);
      e.u32(p.dpf);
      e.u32(p.distance);
      break;
    case PolicyType::least_used_dpf:
      e.u32(p.load);
      e.u32(p.dpf);
      e.u32(p.distance);
      break;
    default:
      e.bytes(p.raw_value);
      break;
  }
  e.end_tlv(start);
}

void put_opaque(Encoder& e, ParameterType type, ByteView data) {
  const auto start = e.begin_tlv(type);
  e.bytes(data);
  e.end_tlv(start);
}

void put_pool_handle(Encoder& e, const PoolHandle& h) { put_opaque(e, ParameterType::pool_handle, h.bytes()); }

void put_pool_element(Encoder& e, const PoolElementParameter& pe) {
  const auto start = e.begin_tlv(ParameterType::pool_element);
  std::uint8_t* p = e.take(12);
  Encoder::store_u32(p, pe.id);
  Encoder::store_u32(p + 4, pe.home_registrar);
  Encoder::store_u32(p + 8, static_cast<std::uint32_t>(pe.registration_life_ms));
  put_transport(e, pe.user_transport);
  put_policy(e, pe.policy);
  if (pe.asap_transport) put_transport(e, *pe.asap_transport);
  e.end_tlv(start);
}

void put_server_information(Encoder& e, const ServerInformation& s) {
  const auto start = e.begin_tlv(ParameterType::server_information);
  e.u32(s.id);
  put_transport(e, s.transport);
  e.end_tlv(start);
}

void put_operation_error(Encoder& e, const std::vector<OperationErrorCause>& causes) {
  const auto start = e.begin_tlv(ParameterType::operation_error);
  for (const auto& c : causes) {
    const auto cause_start = e.begin_tlv(static_cast<std::uint16_t>(c.code));
    e.bytes(c.info);
    e.end_tlv(cause_start);
  }
  e.end_tlv(start);
}

void put_u32_parameter(Encoder& e, ParameterType type, std::uint32_t v) {
  const auto start = e.begin_tlv(type);
  e.u32(v);
  e.end_tlv(start);
}

void put_pe_checksum(Encoder& e, std::uint16_t checksum) {
  const auto start = e.begin_tlv(ParameterType::pe_checksum);
  e.u16(checksum);
  e.end_tlv(start);  // Length 6; the next TLV (or the message end) pads
}

}  // namespace detail

// ---- public single-parameter entry points -------------------------------

namespace {
template <class F>
Bytes encode_one(F&& put) {
  Bytes out;
  {
    detail::Encoder e(out);  // trims `out` when it goes out of scope
    put(e);
  }
  return out;
}

// `expected` = 0: the decoder itself checks the type (addresses, transports).
template <class T, class F>
Result<T, DecodeError> decode_one(ByteView tlv, ParameterType expected, F&& decode) {
  detail::Tlv t;
  if (auto e = detail::single_tlv(tlv, t)) return unexpected(std::move(*e));
  if (expected != ParameterType{} && t.type != static_cast<std::uint16_t>(expected)) {
    return unexpected(detail::invalid(t.whole, "unexpected parameter type"));
  }
  T value{};
  if (auto e = decode(t, value)) return unexpected(std::move(*e));
  return value;
}
}  // namespace

Bytes encode_parameter(const IpAddress& a) {
  return encode_one([&](detail::Encoder& e) { detail::put_address(e, a); });
}
Bytes encode_parameter(const TransportParameter& t) {
  return encode_one([&](detail::Encoder& e) { detail::put_transport(e, t); });
}
Bytes encode_parameter(const PolicyParameters& p) {
  return encode_one([&](detail::Encoder& e) { detail::put_policy(e, p); });
}
Bytes encode_parameter(const PoolHandle& h) {
  return encode_one([&](detail::Encoder& e) { detail::put_pool_handle(e, h); });
}
Bytes encode_parameter(const PoolElementParameter& pe) {
  return encode_one([&](detail::Encoder& e) { detail::put_pool_element(e, pe); });
}
Bytes encode_parameter(const ServerInformation& s) {
  return encode_one([&](detail::Encoder& e) { detail::put_server_information(e, s); });
}
Bytes encode_operation_error(const std::vector<OperationErrorCause>& causes) {
  return encode_one([&](detail::Encoder& e) { detail::put_operation_error(e, causes); });
}
Bytes encode_cookie(ByteView cookie) {
  return encode_one([&](detail::Encoder& e) { detail::put_opaque(e, ParameterType::cookie, cookie); });
}
Bytes encode_pe_identifier(PeIdentifier id) {
  return encode_one([&](detail::Encoder& e) { detail::put_u32_parameter(e, ParameterType::pe_identifier, id); });
}
Bytes encode_pe_checksum(std::uint16_t checksum) {
  return encode_one([&](detail::Encoder& e) { detail::put_pe_checksum(e, checksum); });
}
Bytes encode_handle_resolution_option(std::uint32_t items) {
  return encode_one(
      [&](detail::Encoder& e) { detail::put_u32_parameter(e, ParameterType::handle_resolution_option, items); });
}

Result<IpAddress, DecodeError> decode_address(ByteView tlv) {
  return decode_one<IpAddress>(tlv, ParameterType{}, [](const detail::Tlv& t, IpAddress& v) { return detail::decode_address(t, v); });
}
Result<TransportParameter, DecodeError> decode_transport(ByteView tlv, std::vector<OperationErrorCause>* unrecognized) {
  detail::Context ctx{unrecognized, 0};
  return decode_one<TransportParameter>(
      tlv, ParameterType{}, [&](const detail::Tlv& t, TransportParameter& v) { return detail::decode_transport(t, ctx, v); });
}
Result<PolicyParameters, DecodeError> decode_policy(ByteView tlv) {
  return decode_one<PolicyParameters>(
      tlv, ParameterType::pool_member_selection_policy, [](const detail::Tlv& t, PolicyParameters& v) { return detail::decode_policy(t, v); });
}
Result<PoolHandle, DecodeError> decode_pool_handle(ByteView tlv) {
  return decode_one<PoolHandle>(tlv, ParameterType::pool_handle,
                                [](const detail::Tlv& t, PoolHandle& v) { return detail::decode_pool_handle(t, v); });
}
Result<PoolElementParameter, DecodeError> decode_pool_element(ByteView tlv,
                                                              std::vector<OperationErrorCause>* unrecognized) {
  detail::Context ctx{unrecognized, 0};
  return decode_one<PoolElementParameter>(
      tlv, ParameterType::pool_element, [&](const detail::Tlv& t, PoolElementParameter& v) { return detail::decode_pool_element(t, ctx, v); });
}
Result<ServerInformation, DecodeError> decode_server_information(ByteView tlv,
                                                                 std::vector<OperationErrorCause>* unrecognized) {
  detail::Context ctx{unrecognized, 0};
  return decode_one<ServerInformation>(tlv, ParameterType::server_information, [&](const detail::Tlv& t, ServerInformation& v) {
    return detail::decode_server_information(t, ctx, v);
  });
}
Result<std::vector<OperationErrorCause>, DecodeError> decode_operation_error(ByteView tlv) {
  return decode_one<std::vector<OperationErrorCause>>(
      tlv, ParameterType::operation_error, [](const detail::Tlv& t, std::vector<OperationErrorCause>& v) { return detail::decode_operation_error(t, v); });
}

}  // namespace rserpool::wire
