#pragma once
// Configuration of an SGP (RFC 4666 1.2, 4.3): its Application Servers
// (one per routing context), what RKM may create, and its timers.
#include <optional>
#include <string>
#include <vector>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"

namespace mxua {

struct AsConfig {
  std::string name;
  std::uint32_t routing_context = 0;
  TrafficMode mode = TrafficMode::Loadshare;
  unsigned min_active_asps = 1;  // n: ASPs needed before AS-ACTIVE (loadshare start-up)
  std::optional<std::uint32_t> network_appearance;
  std::vector<RoutingKeyDestination> destinations;  // static routing key; empty: reachable by RC only
  std::vector<std::uint32_t> asp_ids;               // ASPs allowed to serve it; empty: any ASP
};

enum class RkmPermission : std::uint8_t { StaticOnly, DynamicPermitted };

struct SgpConfig {
  std::vector<AsConfig> application_servers;
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
  bool daud_unknown_is_available = false;  // else ERR Destination Status Unknown
  std::vector<std::uint32_t> blocked_asp_ids;  // management blocking: ERR 0x0d
  std::optional<std::uint32_t> asp_id;         // our own, sent in ASPUP ACK (IPSP)
  DecodeLimits limits;
};

}  // namespace mxua
