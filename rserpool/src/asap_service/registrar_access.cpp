#include "rserpool/asap/service/registrar_access.hpp"

namespace rserpool::asap {

transport::EndpointConfig registrar_endpoint(const RegistrarAccess& access, const TransportAddress& registrar) {
  transport::EndpointConfig cfg;
  cfg.remote_addresses = {registrar.ip};
  cfg.remote_port = registrar.port != 0 ? registrar.port : kAsapPort;
  cfg.kind = access.kind;
  if (access.aggressive) {
    cfg.sctp = transport::SctpOptions::aggressive();
    cfg.tcp = transport::TcpMappingOptions::aggressive();
  }
  return cfg;
}

}  // namespace rserpool::asap
