#pragma once
// From the user transport a PE registered (RFC 5354 transport parameter) to
// the association configuration that reaches it, and back: the PU side
// (sgd, asap-echo-pu) connects with endpoint_for(); the PE side builds its
// registered transport from its listener with user_transport_for().
#include <string>
#include <vector>

#include "rserpool/base/result.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::asap {

// SCTP transport parameter -> kernel SCTP (all addresses: multi-homing);
// TCP transport parameter -> the TCP mapping. Other protocols, port 0 or no
// address are refused with a readable reason. Only the addressing and kind
// are filled in; the caller adds its timer profile.
Result<transport::EndpointConfig, std::string> endpoint_for(const TransportParameter& t);

// The transport parameter to register for a listener of `kind` (sctp or
// tcp; automatic is resolved first) on `addresses`:`port`.
TransportParameter user_transport_for(transport::TransportKind kind, std::vector<IpAddress> addresses,
                                      std::uint16_t port,
                                      TransportUse use = TransportUse::data_and_control);

}  // namespace rserpool::asap
