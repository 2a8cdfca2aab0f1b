#pragma once
// Collects the top-level parameters of a message into typed slots, applying
// the RFC 5354 rules to whatever the message type does not allow. Each
// message decoder then only checks which slots are mandatory.
#include <cstdint>
#include <optional>
#include <vector>

#include "codec.hpp"

namespace rserpool::wire::detail {

// Which parameters a message type allows at its top level.
namespace allow {
inline constexpr std::uint32_t pool_handle = 1U << 0;
inline constexpr std::uint32_t pool_element = 1U << 1;   // exactly one
inline constexpr std::uint32_t pool_elements = 1U << 2;  // any number
inline constexpr std::uint32_t pe_identifier = 1U << 3;
inline constexpr std::uint32_t operation_error = 1U << 4;
inline constexpr std::uint32_t policy = 1U << 5;
inline constexpr std::uint32_t cookie = 1U << 6;
inline constexpr std::uint32_t handle_resolution_option = 1U << 7;
inline constexpr std::uint32_t announce_transports = 1U << 8;  // SCTP and TCP, any number
inline constexpr std::uint32_t pe_checksum = 1U << 9;
inline constexpr std::uint32_t server_information = 1U << 10;   // exactly one
inline constexpr std::uint32_t server_informations = 1U << 11;  // any number
}  // namespace allow

struct Fields {
  std::optional<PoolHandle> pool_handle;
  std::optional<PoolElementParameter> pool_element;  // allow::pool_element
  std::vector<PoolElementParameter> pool_elements;   // allow::pool_elements
  std::optional<PeIdentifier> pe_id;
  bool has_error = false;
  std::vector<OperationErrorCause> error;
  std::optional<PolicyParameters> policy;
  std::optional<Bytes> cookie;
  std::optional<std::uint32_t> items;
  std::vector<TransportParameter> transports;
  std::optional<std::uint16_t> pe_checksum;
  std::vector<ServerInformation> servers;
};

Status collect(ByteView region, std::uint32_t allowed, Context& ctx, Fields& f);

}  // namespace rserpool::wire::detail
