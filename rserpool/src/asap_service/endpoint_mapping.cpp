#include "rserpool/asap/service/endpoint_mapping.hpp"

#include "rserpool/transport/endpoint.hpp"

namespace rserpool::asap {

Result<transport::EndpointConfig, std::string> endpoint_for(const TransportParameter& t) {
  transport::EndpointConfig cfg;
  switch (t.protocol) {
    case TransportProtocol::sctp: cfg.kind = transport::TransportKind::sctp; break;
    case TransportProtocol::tcp: cfg.kind = transport::TransportKind::tcp; break;
    default:
      return unexpected(std::string("user transport protocol ") +
                        std::to_string(static_cast<unsigned>(t.protocol)) + " is not SCTP or TCP");
  }
  if (t.port == 0) return unexpected(std::string("user transport has port 0"));
  if (t.addresses.empty()) return unexpected(std::string("user transport has no address"));
  for (const auto& a : t.addresses)
    if (a.is_unspecified()) return unexpected("user transport address " + a.to_string() + " is unspecified");
  cfg.remote_addresses = t.addresses;
  cfg.remote_port = t.port;
  return cfg;
}

TransportParameter user_transport_for(transport::TransportKind kind, std::vector<IpAddress> addresses,
                                      std::uint16_t port, TransportUse use) {
  TransportParameter t;
  t.protocol = transport::resolve_kind(kind) == transport::TransportKind::sctp ? TransportProtocol::sctp
                                                                                 : TransportProtocol::tcp;
  t.port = port;
  t.use = use;
  t.addresses = std::move(addresses);
  return t;
}

}  // namespace rserpool::asap
