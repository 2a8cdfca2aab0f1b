#pragma once
// Configuration of an SGP (RFC 4666 1.2, 4.3): its Application Servers
// (one per routing context), what RKM may create, and its timers.
#include <optional>
#include <string>
#include <vector>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"
#include "mxua/fsm/sgp/sgp_peers.hpp"

namespace mxua {

struct AsConfig {
  std::string name;
  std::uint32_t routing_context = 0;
  TrafficMode mode = TrafficMode::Loadshare;
  unsigned min_active_asps = 1;  // n: ASPs needed before AS-ACTIVE (loadshare start-up)
  std::optional<std::uint32_t> network_appearance;
  std::vector<RoutingKeyDestination> destinations;  // static routing key; empty: reachable by RC only
  std::vector<std::uint32_t> asp_ids;               // ASPs allowed to serve it; empty: any ASP
  // Configured peers (SgpConfig::peers, by name) whose associations may
  // serve the AS; empty: any association. An ASPAC, REG REQ or DATA for
  // the AS from another peer is refused (Invalid Routing Context,
  // Permission Denied).
  std::vector<std::string> owners{};
  // RFC 4666 4.3.4.3: an ASPAC asking another traffic mode than `mode` is
  // refused with ERR Unsupported Traffic Mode Type, unless this is set:
  // then the AS takes the mode the ASP asks for while no other ASP is
  // active in it (and returns to `mode` when it is no longer in use).
  bool accept_peer_mode = false;
};

enum class RkmPermission : std::uint8_t { StaticOnly, DynamicPermitted };

struct SgpConfig {
  std::vector<AsConfig> application_servers;
  // Configured peers (sgp_peers.hpp). With peers, an association given
  // with its addresses (SgpNode::association_up) is bound to the peer all
  // its addresses belong to, or refused unless accept_unknown_peers.
  std::vector<SgpPeerConfig> peers{};
  bool accept_unknown_peers = false;
  // Associations one configured peer may hold (the unconfigured peers of
  // accept_unknown_peers count as one); 0 = unlimited. A host with a peer's
  // address (the same machine, the same NAT) could otherwise hold any
  // number of idle associations, each a descriptor and buffers. When the
  // peer is at its cap, its oldest association whose ASP is DOWN (no ASPUP
  // accepted) is closed to make room; with none, the newcomer is refused.
  // ASPs that are up are never closed for a newcomer.
  std::size_t max_associations_per_peer = 16;
  RkmPermission rkm = RkmPermission::StaticOnly;
  TrafficMode default_dynamic_mode = TrafficMode::Loadshare;
  std::uint32_t first_dynamic_rc = 0x10000;
  std::size_t max_dynamic_as = 256;
  Duration t_r = Millis{2000};
  std::size_t pending_queue_limit = 1024;
  std::optional<Duration> t_beat;
  bool require_asp_id = false;
  bool rc_required = false;  // ASPAC without RC -> ERR Missing Parameter
  bool err_on_unexpected_data = true;
  // DATA on an association whose ASP never came up (no ASP Up accepted on
  // it) comes from a peer that believes in an ASP state this association
  // never had: an ASP sends nothing but ASPSM before its ASP Up is
  // acknowledged (RFC 4666 4.3.4.1), and no DATA before its ASP Active is
  // (4.3.4.3), so a conforming peer never does it. It happens when a peer's
  // ASP state survives the loss of its association (seen with osmo-stp 1.6:
  // a send error reconnects without telling its ASP state machine, which
  // stays ACTIVE and sends DATA on the new association, never ASP Up).
  // Every such message would be refused for as long as it lasts; the
  // association is aborted instead, so the peer loses the stale state and
  // starts over with ASP Up.
  bool reset_on_data_before_asp_up = true;
  bool daud_unknown_is_available = false;  // else ERR Destination Status Unknown
  std::vector<std::uint32_t> blocked_asp_ids;  // management blocking: ERR 0x0d
  std::optional<std::uint32_t> asp_id;         // our own, sent in ASPUP ACK (IPSP)
  DecodeLimits limits;
};

}  // namespace mxua
