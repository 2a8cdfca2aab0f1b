#pragma once
// The gateway's configuration as a value: what the config file (Osmocom VTY
// style, see docs/configuration.md) describes. Parsing fills it, validate()
// checks what a single command cannot (references, completeness), render()
// writes it back for `write file`. The daemon builds itself from it.
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mxua/constants.hpp"
#include "mxua/point_code.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/ops/sctp_overrides.hpp"
#include "rserpool/transport/config.hpp"
#include "sg/routing/pool_distributor.hpp"
#include "sg/routing/route_table.hpp"

namespace sg {

enum class TransportChoice : std::uint8_t { automatic, sctp, tcp };
// standard: RFC timer defaults; aggressive: sub-second failure detection
// (SCTP heartbeat and RTO, M3UA BEAT, ASAP keep-alives).
enum class TimerProfile : std::uint8_t { standard, aggressive };
enum class PeerRole : std::uint8_t { asp, ipsp };
// RFC 4666 4.3.4.3: what happens when the other side's AS uses another
// traffic mode. strict: our SGP refuses the ASPAC (ERR Unsupported Traffic
// Mode Type), our ASP reports the refusal and retries later with its own
// mode; follow: our SGP takes the mode the ASP asks for (while no other
// ASP is active in the AS), our ASP asks again with the SGP's mode.
enum class ModeNegotiation : std::uint8_t { strict, follow };

// SCTP parameters set one by one; each one unset keeps the timer profile's
// value (the profile applies first, then these). Shared with the registrar
// daemon (rserpool/ops/sctp_commands.hpp).
using rserpool::ops::SctpOverrides;
using rserpool::ops::apply;

struct Ss7Peer {  // an upstream peer allowed to connect to our SGP
  std::string name;
  std::vector<rserpool::IpAddress> remote_ips;
  std::optional<std::uint32_t> routing_context;
  mxua::TrafficMode traffic_mode = mxua::TrafficMode::Loadshare;  // of its AS
  ModeNegotiation negotiation = ModeNegotiation::strict;
  // OPC screening: the originating point codes its DATA may carry; empty: any.
  std::vector<mxua::MaskedPointCode> allowed_opcs{};
  friend bool operator==(const Ss7Peer&, const Ss7Peer&) = default;
};

struct Ss7Connect {  // an upstream STP we connect to as ASP or IPSP
  std::string name;
  std::vector<rserpool::IpAddress> remote_ips;
  std::uint16_t remote_port = 2905;
  std::vector<rserpool::IpAddress> local_ips;
  PeerRole role = PeerRole::asp;
  std::optional<std::uint32_t> routing_context;
  mxua::TrafficMode traffic_mode = mxua::TrafficMode::Loadshare;  // asked in our ASPAC
  ModeNegotiation negotiation = ModeNegotiation::strict;
  std::vector<mxua::MaskedPointCode> allowed_opcs{};
  friend bool operator==(const Ss7Connect&, const Ss7Connect&) = default;
};

struct Ss7Side {
  std::vector<rserpool::IpAddress> listen_ips;  // empty: no SGP listener
  std::uint16_t listen_port = 2905;
  bool accept_any_peer = false;  // false: only configured peers (every address of an association)
  std::size_t max_associations_per_peer = 16;  // mxua::SgpConfig::max_associations_per_peer
  SctpOverrides sctp{};          // SGP listener and STP connections
  // Lists: a VTY node keeps a pointer to the entry it configures.
  std::list<Ss7Peer> peers;
  std::list<Ss7Connect> connects;
  friend bool operator==(const Ss7Side&, const Ss7Side&) = default;
};

struct ColocatedRegistrar {
  std::vector<rserpool::IpAddress> asap_ips;
  std::uint16_t asap_port = 3863;
  std::vector<rserpool::IpAddress> enrp_ips;
  std::uint16_t enrp_port = 9901;
  std::vector<rserpool::TransportAddress> enrp_peers;
  // Addresses whose ENRP associations are accepted although no enrp-peer
  // names them (the mate of a pair that connects to us: its registrar knows
  // our port, we need not know its).
  std::vector<rserpool::IpAddress> enrp_allowed;
  std::optional<std::uint32_t> server_id;  // random when absent
  // ENDPOINT_KEEP_ALIVE audit of the PEs it owns (RFC 5352); unset: the
  // timer profile's value.
  std::optional<std::uint32_t> keep_alive_interval_ms{};
  std::optional<std::uint32_t> keep_alive_timeout_ms{};
  // Its ASAP and ENRP associations (timer-profile first, then these).
  SctpOverrides sctp{};
  friend bool operator==(const ColocatedRegistrar&, const ColocatedRegistrar&) = default;
};

struct RegistrarSettings {
  std::optional<ColocatedRegistrar> colocated;
  std::vector<rserpool::TransportAddress> remote;  // registrars the pool user asks
  friend bool operator==(const RegistrarSettings&, const RegistrarSettings&) = default;
};

struct PoolSettings {
  std::string handle;
  DistributorConfig distributor;
};

struct RouteSettings {
  std::string name;
  RoutingKey key;
  bool has_dpc = false;
  std::string pool;
};

inline constexpr std::uint16_t kSgdVtyPort = 4260;  // telnet CLI on loopback (osmo-stp uses 4239)

struct SgConfig {
  mxua::PcFormat pc_format = mxua::PcFormat::Itu;
  std::optional<mxua::PointCode> point_code;
  std::uint8_t network_indicator = 2;  // national
  TransportChoice transport = TransportChoice::automatic;
  TimerProfile timers = TimerProfile::standard;
  // Local addresses of the associations to the gateway controllers (empty:
  // any, except loopback towards controllers registered on loopback).
  std::vector<rserpool::IpAddress> pe_local_ips;
  // M3UA BEAT interval on the links to the gateway controllers: the only
  // way to see a controller that hangs while its kernel still answers (two
  // intervals without any message = failed). 0: off; unset: 500 ms with the
  // aggressive profile, 5000 ms with the standard one.
  std::optional<std::uint32_t> pe_beat_ms;
  // Fencing: how long after reporting a failed controller unreachable the
  // gateway waits for the registrar's audit before reconnecting to it while
  // it stays listed. Unset: the registrar keep-alive timeout plus one
  // re-resolution (3 s aggressive, 10 s standard).
  std::optional<std::uint32_t> pe_audit_bound_ms;
  // How long a controller the registrar lost while our link to it is up
  // stays suspected (no new traffic) before it counts as alive. Unset:
  // 3 x pe-beat (1.5 s aggressive, 15 s standard).
  std::optional<std::uint32_t> pe_suspicion_ms;
  // SCTP of the links to the gateway controllers (profile, then these).
  SctpOverrides pe_sctp;
  // Prometheus text endpoint (GET /metrics), when set.
  std::optional<rserpool::TransportAddress> metrics_endpoint;
  Ss7Side ss7;
  RegistrarSettings registrar;
  std::map<std::string, PoolSettings> pools;
  std::list<RouteSettings> routes;  // configuration order
  std::map<std::string, std::string> log_levels;  // category -> level

  PoolSettings& pool(const std::string& handle);
  RouteSettings& route(const std::string& name);
  bool remove_route(const std::string& name);
};

// Problems that only the whole configuration shows, each a readable sentence.
std::vector<std::string> validate(const SgConfig& config);
// The configuration as a config file that parses back to the same value.
std::string render(const SgConfig& config);

std::string_view to_string(TransportChoice t) noexcept;
std::string_view to_string(TimerProfile t) noexcept;
std::string_view to_string(ModeNegotiation n) noexcept;
// The SCTP options of a timer profile, before any override.
rserpool::transport::SctpOptions sctp_profile(TimerProfile t);
// The gateway's relaying associations (the SS7 side, the links to the
// controllers): the timer profile's options, and every packet SACKed as it
// arrives (sack-frequency 1). The kernel generates that SACK before sgd can
// read the message, so nothing sgd passed on is still unacknowledged at its
// sender when sgd is killed, and the sender's hand-back cannot repeat it
// through the mate (docs/gateway.md, "Duplicates from the hand-back").
// `sctp sack-frequency 2` in `ss7-side` or `pe-sctp` restores the delay.
rserpool::transport::SctpOptions relay_sctp_profile(TimerProfile t);

}  // namespace sg
