// Top-level parameter collection shared by the ASAP and ENRP decoders.
#include "fields.hpp"

#include <algorithm>

namespace rserpool::wire::detail {

namespace {
DecodeError repeated(const Tlv& t) { return unexpected_known(t, "parameter repeated"); }
}  // namespace

Status collect(ByteView region, std::uint32_t allowed, Context& ctx, Fields& f) {
  if ((allowed & allow::pool_elements) != 0) {
    // One allocation for the PE list: a PE TLV takes at least 40 bytes.
    f.pool_elements.reserve(std::min(kMaxPoolElementsPerMessage, region.size() / 40));
  }
  TlvWalker walker(region);
  Tlv t;
  while (walker.next(t)) {
    const auto type = static_cast<ParameterType>(t.type);
    if (type == ParameterType::pool_handle && (allowed & allow::pool_handle) != 0) {
      if (f.pool_handle) return repeated(t);
      if (auto e = decode_pool_handle(t, f.pool_handle.emplace())) return e;
    } else if (type == ParameterType::pool_element && (allowed & allow::pool_elements) != 0) {
      if (auto e = decode_pool_element(t, ctx, f.pool_elements.emplace_back())) return e;
    } else if (type == ParameterType::pool_element && (allowed & allow::pool_element) != 0) {
      if (f.pool_element) return repeated(t);
      if (auto e = decode_pool_element(t, ctx, f.pool_element.emplace())) return e;
    } else if (type == ParameterType::pe_identifier && (allowed & allow::pe_identifier) != 0) {
      if (f.pe_id) return repeated(t);
      std::uint32_t id = 0;
      if (auto e = decode_u32_value(t, id, "PE identifier of the wrong length")) return e;
      f.pe_id = id;
    } else if (type == ParameterType::operation_error && (allowed & allow::operation_error) != 0) {
      if (f.has_error) return repeated(t);
      if (auto e = decode_operation_error(t, f.error)) return e;
      f.has_error = true;
    } else if (type == ParameterType::pool_member_selection_policy && (allowed & allow::policy) != 0) {
      if (f.policy) return repeated(t);
      if (auto e = decode_policy(t, f.policy.emplace())) return e;
    } else if (type == ParameterType::cookie && (allowed & allow::cookie) != 0) {
      if (f.cookie) return repeated(t);
      Bytes c;
      if (auto e = decode_opaque(t, c, "cookie")) return e;
      f.cookie = std::move(c);
    } else if (type == ParameterType::handle_resolution_option && (allowed & allow::handle_resolution_option) != 0) {
      if (f.items) return repeated(t);
      std::uint32_t items = 0;
      if (auto e = decode_u32_value(t, items, "handle resolution option of the wrong length")) return e;
      f.items = items;
    } else if ((type == ParameterType::sctp_transport || type == ParameterType::tcp_transport) &&
               (allowed & allow::announce_transports) != 0) {
      if (f.transports.size() == kMaxTransportsPerAnnounce) return too_many("too many transports in an announce");
      if (auto e = decode_transport(t, ctx, f.transports.emplace_back())) return e;
    } else if (type == ParameterType::pe_checksum && (allowed & allow::pe_checksum) != 0) {
      if (f.pe_checksum) return repeated(t);
      std::uint16_t sum = 0;
      if (auto e = decode_pe_checksum(t, sum)) return e;
      f.pe_checksum = sum;
    } else if (type == ParameterType::server_information &&
               (allowed & (allow::server_information | allow::server_informations)) != 0) {
      if ((allowed & allow::server_informations) == 0 && !f.servers.empty()) return repeated(t);
      if (f.servers.size() == kMaxServersPerMessage) return too_many("too many server information parameters");
      if (auto e = decode_server_information(t, ctx, f.servers.emplace_back())) return e;
    } else if (auto e = unrecognized_tlv(t, ctx)) {
      return e;
    }
  }
  return walker.error();
}

}  // namespace rserpool::wire::detail
