#pragma once
// How an ASAP endpoint reaches its registrars (ENRP servers): the
// configured hunt list and the transport profile of the registrar
// associations (PPID 11, normally port 3863).
#include <vector>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/transport/config.hpp"

namespace rserpool::asap {

inline constexpr std::uint32_t kAsapPpid = 11;
inline constexpr std::uint16_t kAsapPort = 3863;

struct RegistrarAccess {
  std::vector<TransportAddress> registrars;  // configured list (hunt order); v4/v6
  transport::TransportKind kind = transport::TransportKind::automatic;
  bool aggressive = false;  // aggressive SCTP / TCP-mapping failure detection
};

// The association configuration for one registrar of `access`.
transport::EndpointConfig registrar_endpoint(const RegistrarAccess& access, const TransportAddress& registrar);

}  // namespace rserpool::asap
