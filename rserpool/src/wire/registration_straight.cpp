// The common REGISTRATION read in one pass over fixed offsets (issue 16).
//
// Nearly every REGISTRATION a registrar sees has one shape: the Pool
// Handle, then one Pool Element parameter holding an SCTP, TCP, UDP or
// UDP-Lite user transport with 1-4 addresses, a policy parameter of a
// known type with exactly its values, and, optionally, an SCTP ASAP
// transport. Every length in that shape but the handle's is a multiple of
// 4, so no padding needs to be worked out past the handle. Walking it with
// the general TLV walker (which must handle any order, unknown parameters,
// their top-bit rules and every framing error) cost about 740 instructions
// of a registration; here it is a run of bounds checks and loads.
//
// Anything else is declined (false), and the caller walks the message by
// the general rules (decode_registration_walked, then decode()). Where this
// decodes, the walker gives the same value: the test is
// tests/rserpool_wire/view_decode_test.cpp, RegistrationStraight.*.
#include <array>
#include <cstring>

#include "rserpool/wire/asap.hpp"
#include "policy_values.hpp"
#include "rserpool/wire/parameters.hpp"

namespace rserpool::wire::asap {

namespace {

constexpr std::uint16_t kIpv4Type = 0x0001;
constexpr std::uint16_t kIpv6Type = 0x0002;
constexpr std::uint16_t kSctpType = 0x0004;
constexpr std::uint16_t kUdpLiteType = 0x0007;
constexpr std::uint16_t kPolicyType = 0x0008;
constexpr std::uint16_t kPoolHandleType = 0x0009;
constexpr std::uint16_t kPoolElementType = 0x000a;

// A transport parameter at p, with n bytes left in the PE parameter: SCTP
// (or, unless `sctp_only`, TCP, UDP, UDP-Lite), 1 to AddressList::kInline
// IPv4/IPv6 address parameters and nothing else. Fills every field of
// `out` (a reused value) and returns the parameter's length, or 0 when it
// is not that form.
std::size_t straight_transport(const std::uint8_t* p, std::size_t n, bool sctp_only,
                               TransportParameter& out) noexcept {
  if (n < 16) return 0;  // header, port and use, one IPv4 address
  const std::uint16_t type = load_u16(p);
  const std::size_t length = load_u16(p + 2);
  if (type < kSctpType || type > kUdpLiteType || (sctp_only && type != kSctpType)) return 0;
  if (length < 16 || length > n || (length & 3) != 0) return 0;
  const std::uint16_t second = load_u16(p + 6);
  // SCTP's transport use is 0 or 1; other values are the walker's error.
  // TCP's and UDP's second field is reserved: read, not kept (as the walker).
  if (type == kSctpType && second > static_cast<std::uint16_t>(TransportUse::data_and_control)) return 0;
  out.protocol = static_cast<TransportProtocol>(type);
  out.port = load_u16(p + 4);
  out.use = type == kSctpType ? static_cast<TransportUse>(second) : TransportUse::data_only;
  out.dccp_service_code = 0;
  out.opaque.clear();
  out.addresses.clear();
  std::size_t at = 8;
  while (at < length) {
    if (out.addresses.size() == AddressList::kInline || length - at < 8) return 0;
    const std::uint16_t address_type = load_u16(p + at);
    const std::size_t address_length = load_u16(p + at + 2);
    if (address_type == kIpv4Type && address_length == 8) {
      out.addresses.push_back(IpAddress::v4({p[at + 4], p[at + 5], p[at + 6], p[at + 7]}));
    } else if (address_type == kIpv6Type && address_length == 20 && length - at >= 20) {
      std::array<std::uint8_t, 16> b;
      std::memcpy(b.data(), p + at + 4, 16);
      out.addresses.push_back(IpAddress::v6(b));
    } else {
      return 0;
    }
    at += address_length;
  }
  return length;  // at == length: both address lengths are multiples of 4
}

// A policy parameter at p (n bytes left) of a known type carrying exactly
// that type's values. Fills every field of `out`; its length, or 0.
std::size_t straight_policy(const std::uint8_t* p, std::size_t n, PolicyParameters& out) noexcept {
  if (n < 8 || load_u16(p) != kPolicyType) return 0;
  const std::size_t length = load_u16(p + 2);
  const auto type = static_cast<PolicyType>(load_u32(p + 4));
  const auto need = policy_value_size(type);
  if (!need || length != 8 + *need || length > n) return 0;
  out.type = type;
  out.weight = out.priority = out.load = out.degradation = out.dpf = out.distance = 0;
  out.raw_value.clear();
  const std::uint8_t* v = p + 8;
  wire::detail::assign_policy_values(out, [&v] {
    const std::uint32_t x = load_u32(v);
    v += 4;
    return x;
  });
  return length;
}

}  // namespace

bool decode_registration_straight(ByteView data, RegistrationView& into) noexcept {
  const std::uint8_t* m = data.data();
  const std::size_t length = data.size();
  // Header (4), handle (at least 8 with its padding), PE (at least 16 + 16 + 8).
  if (length < 4 + 8 + 40 || m[0] != static_cast<std::uint8_t>(MessageType::registration)) return false;
  // The common form has no trailing padding: its length is a multiple of 4
  // and the buffer holds exactly the message.
  const std::size_t message_length = load_u16(m + 2);
  if (message_length != length || (length & 3) != 0) return false;
  const std::uint8_t* p = m + 4;
  std::size_t left = length - 4;

  if (load_u16(p) != kPoolHandleType) return false;
  const std::size_t handle_length = load_u16(p + 2);
  if (handle_length < 5 || handle_length > 4 + kMaxPoolHandleSize || pad4(handle_length) > left) return false;
  into.pool_handle = ByteView(p + 4, handle_length - 4);
  p += pad4(handle_length);
  left -= pad4(handle_length);

  // The Pool Element parameter fills the rest of the message.
  if (left < 40 || load_u16(p) != kPoolElementType) return false;
  const std::size_t element_length = load_u16(p + 2);
  if (element_length != left) return false;
  PoolElementParameter& pe = into.pool_element;
  pe.id = load_u32(p + 4);
  pe.home_registrar = load_u32(p + 8);
  pe.registration_life_ms = static_cast<std::int32_t>(load_u32(p + 12));
  p += 16;
  left -= 16;
  const std::size_t user = straight_transport(p, left, false, pe.user_transport);
  if (user == 0) return false;
  p += user;
  left -= user;
  const std::size_t policy = straight_policy(p, left, pe.policy);
  if (policy == 0) return false;
  p += policy;
  left -= policy;
  if (left == 0) {
    pe.asap_transport.reset();
    return true;
  }
  if (!pe.asap_transport) pe.asap_transport.emplace();
  return straight_transport(p, left, true, *pe.asap_transport) == left;
}

}  // namespace rserpool::wire::asap
