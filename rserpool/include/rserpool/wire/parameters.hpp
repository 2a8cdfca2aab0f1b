#pragma once
// RFC 5354 parameters on their own: type codes, and encoders/decoders for
// single TLVs. The message codecs (asap.hpp, enrp.hpp) use the same code;
// these entry points exist for callers that must put a parameter into an
// error cause (Inconsistent Pooling Policy carries the pool's policy TLV,
// Inconsistent Transport Type a transport TLV) and for tests.
//
// Encoders return one TLV without trailing padding (its Length field value
// equals the returned size). Decoders accept exactly one TLV, optionally
// followed by up to three padding bytes.
#include <cstdint>
#include <string_view>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/wire/decode_error.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::wire {

enum class ParameterType : std::uint16_t {
  ipv4_address = 0x0001,
  ipv6_address = 0x0002,
  dccp_transport = 0x0003,
  sctp_transport = 0x0004,
  tcp_transport = 0x0005,
  udp_transport = 0x0006,
  udp_lite_transport = 0x0007,
  pool_member_selection_policy = 0x0008,
  pool_handle = 0x0009,
  pool_element = 0x000a,
  server_information = 0x000b,
  operation_error = 0x000c,
  cookie = 0x000d,
  pe_identifier = 0x000e,
  pe_checksum = 0x000f,
  opaque_transport = 0x0010,
  // draft-dreibholz-rserpool-asap-hropt: top bits 10, so peers that do not
  // know it skip it silently.
  handle_resolution_option = 0x803f,
};

std::string_view to_string(ParameterType t) noexcept;

// What RFC 5354 section 3 tells a receiver to do with an unknown parameter
// type, from its top two bits.
enum class UnknownParameterAction : std::uint8_t {
  stop_discard,             // 00
  stop_discard_report,      // 01
  skip,                     // 10
  skip_report,              // 11
};
constexpr UnknownParameterAction unknown_parameter_action(std::uint16_t type) noexcept {
  return static_cast<UnknownParameterAction>(type >> 14);
}

// Encoders: one TLV, no trailing padding. Throw std::length_error if the
// value cannot be represented in a 16-bit length.
Bytes encode_parameter(const IpAddress& a);
Bytes encode_parameter(const TransportParameter& t);
Bytes encode_parameter(const PolicyParameters& p);
Bytes encode_parameter(const PoolHandle& h);
Bytes encode_parameter(const PoolElementParameter& pe);
Bytes encode_parameter(const ServerInformation& s);
Bytes encode_operation_error(const std::vector<OperationErrorCause>& causes);
Bytes encode_cookie(ByteView cookie);
Bytes encode_pe_identifier(PeIdentifier id);
Bytes encode_pe_checksum(std::uint16_t checksum);
Bytes encode_handle_resolution_option(std::uint32_t items);

// Decoders for one TLV. Unknown nested parameters follow the top-bit rules;
// causes to report for "skip and report" ones are appended to `unrecognized`.
Result<IpAddress, DecodeError> decode_address(ByteView tlv);
Result<TransportParameter, DecodeError> decode_transport(ByteView tlv,
                                                         std::vector<OperationErrorCause>* unrecognized = nullptr);
Result<PolicyParameters, DecodeError> decode_policy(ByteView tlv);
Result<PoolHandle, DecodeError> decode_pool_handle(ByteView tlv);
Result<PoolElementParameter, DecodeError> decode_pool_element(ByteView tlv,
                                                              std::vector<OperationErrorCause>* unrecognized = nullptr);
Result<ServerInformation, DecodeError> decode_server_information(
    ByteView tlv, std::vector<OperationErrorCause>* unrecognized = nullptr);
Result<std::vector<OperationErrorCause>, DecodeError> decode_operation_error(ByteView tlv);

// Policy-specific value length (after the 32-bit type) for a known policy
// type; for unknown types, nullopt.
std::optional<std::size_t> policy_value_size(PolicyType t) noexcept;

}  // namespace rserpool::wire
