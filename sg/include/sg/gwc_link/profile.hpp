#pragma once
// The association between the gateway (a pool user) and one gateway
// controller (a pool element): what both ends agree on.
//
// The pool user opens it, towards the user transport the PE registered, so
// the SG is the M3UA IPSP that initiates (single exchange, RFC 4666 4.3.1:
// only the initiator sends ASPUP/ASPAC); the controller is the responding
// IPSP. One AS per association, routing context kRoutingContext, loadshare.
//
// The same association carries the ASAP control channel (PPID 11) beside
// M3UA (PPID 3), as RSerPool's enhanced mode does: the controller sends
// ASAP_COOKIE with its call state; after a failover the SG sends
// ASAP_COOKIE_ECHO to the heir before any DATA, on the same association and
// on the stream of that DATA (echo_before_data.hpp): SCTP orders only within
// a stream, so the cookie is repeated once on each data stream, and the
// controller accepts it on any stream and treats repeats as one.
#include <chrono>
#include <cstdint>
#include <optional>

#include "mxua/fsm/endpoint.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/message.hpp"
#include "rserpool/wire/asap.hpp"

namespace sg::gwc_link {

inline constexpr std::uint32_t kRoutingContext = 1;
inline constexpr std::uint32_t kAsapPpid = 11;
inline constexpr std::uint32_t kM3uaPpid = 3;

// `t_beat`: M3UA BEAT interval, for transports whose own heartbeat cannot
// see a hung peer fast enough (none: rely on the transport).
mxua::IpspConfig pool_user_side(std::optional<std::chrono::milliseconds> t_beat = std::nullopt);
mxua::IpspConfig pool_element_side(std::optional<std::chrono::milliseconds> t_beat = std::nullopt);

// One ASAP control message as a transport message on stream 0 (the SG's
// COOKIE_ECHO goes per data stream instead: EchoBeforeData).
rserpool::transport::Message control_message(const rserpool::wire::asap::Message& m);

}  // namespace sg::gwc_link
