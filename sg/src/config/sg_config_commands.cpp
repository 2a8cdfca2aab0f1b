#include "sg/config/sg_config_commands.hpp"

#include "rserpool/ops/number.hpp"
#include "rserpool/ops/sctp_commands.hpp"

#include <functional>

namespace sg {
namespace {

using rserpool::ops::CommandContext;
using rserpool::ops::kConfigNode;
using rserpool::ops::number_arg;

// A point-code mask: the number of wildcarded low-order bits (`mask <0-24>`).
std::optional<std::uint8_t> mask_arg(CommandContext& c, std::size_t i) {
  return number_arg<std::uint8_t>(c, i, 0, 24);
}

std::optional<rserpool::IpAddress> ip(CommandContext& c, std::size_t i) {
  auto a = rserpool::IpAddress::parse(c.args.at(i));
  if (!a) c.error = "invalid IP address '" + c.args.at(i) + "'";
  return a;
}

std::optional<std::uint8_t> network_indicator(const std::string& s) {
  if (s == "international") return 0;
  if (s == "spare") return 1;
  if (s == "national") return 2;
  if (s == "reserved") return 3;
  return std::nullopt;
}

template <class T>
T& object(CommandContext& c) {
  return *static_cast<T*>(c.node_object);
}

const std::vector<std::string> kIpDoc = {"IPv4 address", "IPv6 address"};

std::optional<mxua::TrafficMode> traffic_mode(const std::string& s) {
  if (s == "override") return mxua::TrafficMode::Override;
  if (s == "loadshare") return mxua::TrafficMode::Loadshare;
  if (s == "broadcast") return mxua::TrafficMode::Broadcast;
  return std::nullopt;
}

using rserpool::ops::declare_sctp_commands;

// traffic-mode, traffic-mode-negotiation and allowed-opc of a peer or connect node.
template <class T>
void declare_traffic_commands(rserpool::ops::Vty& vty, int node, SgConfig* cfg, bool serving) {
  vty.add_command(node, "traffic-mode (override|loadshare|broadcast)",
                  {serving ? "Traffic mode of the peer's AS (RFC 4666 4.3.4.3)" : "Traffic mode our ASPAC asks for",
                   "One active ASP at a time", "Shared by SLS over the active ASPs", "Every active ASP"},
                  [](CommandContext& c) { object<T>(c).traffic_mode = *traffic_mode(c.args[0]); });
  vty.add_command(node, "traffic-mode-negotiation (strict|follow)",
                  {"When the other side's AS uses another traffic mode",
                   serving ? "Refuse the ASPAC with ERR Unsupported Traffic Mode Type" : "Report the refusal, retry later",
                   serving ? "Take the mode the peer's ASPAC asks for" : "Ask again with the STP's mode"},
                  [](CommandContext& c) {
                    object<T>(c).negotiation = c.args[0] == "follow" ? ModeNegotiation::follow : ModeNegotiation::strict;
                  });
  auto opc = [cfg](CommandContext& c, std::uint8_t mask) {
    auto pc = mxua::parse_point_code(c.args[0], cfg->pc_format);
    if (!pc) {
      c.error = "invalid point code '" + c.args[0] + "': " + pc.error();
      return;
    }
    object<T>(c).allowed_opcs.push_back(mxua::MaskedPointCode{mask, *pc});
  };
  vty.add_command(node, "allowed-opc PC", {"An originating point code its DATA may carry (repeat; none: any)", "Point code"},
                  [opc](CommandContext& c) { opc(c, 0); });
  vty.add_command(node, "allowed-opc PC mask <0-24>",
                  {"A range of originating point codes its DATA may carry", "Point code", "Wildcard the low-order bits",
                   "Number of bits"},
                  [opc](CommandContext& c) {
                    if (const auto mask = mask_arg(c, 1)) opc(c, *mask);
                  });
}

std::vector<std::string> doc(std::initializer_list<std::string> first, const std::vector<std::string>& more = {}) {
  std::vector<std::string> d(first);
  d.insert(d.end(), more.begin(), more.end());
  return d;
}

}  // namespace

void declare_config_commands(rserpool::ops::Vty& vty, SgConfig& config, ConfigChangeHandler on_change) {
  auto changed = [on_change](CommandContext& c, ConfigChange what, const std::string& name) {
    if (!c.from_config_file && c.error.empty() && on_change) on_change(what, name);
  };
  const int sg_node = vty.add_node("sg", "%s(config-sg)# ");
  const int ss7_node = vty.add_node("ss7-side", "%s(config-ss7)# ");
  const int peer_node = vty.add_node("ss7-peer", "%s(config-ss7-peer)# ");
  const int connect_node = vty.add_node("ss7-connect", "%s(config-ss7-connect)# ");
  const int registrar_node = vty.add_node("registrar", "%s(config-registrar)# ");
  const int colocated_node = vty.add_node("colocated", "%s(config-registrar-colocated)# ");
  const int pool_node = vty.add_node("pool", "%s(config-pool)# ");
  const int route_node = vty.add_node("route", "%s(config-route)# ");
  SgConfig* cfg = &config;

  // --- sg ------------------------------------------------------------------
  vty.add_command(kConfigNode, "sg", {"The gateway's own settings"}, [sg_node](CommandContext& c) {
    c.enter_node = sg_node;
  });
  vty.add_command(sg_node, "point-code-format (itu|ansi)",
                  {"How point codes are written", "ITU: 14 bits, 3.8.3", "ANSI: 24 bits, 8.8.8"},
                  [cfg](CommandContext& c) { cfg->pc_format = c.args[0] == "itu" ? mxua::PcFormat::Itu : mxua::PcFormat::Ansi; });
  vty.add_command(sg_node, "point-code PC", {"The gateway's own point code", "Point code (e.g. 1.2.3)"},
                  [cfg](CommandContext& c) {
                    auto pc = mxua::parse_point_code(c.args[0], cfg->pc_format);
                    if (!pc) c.error = "invalid point code '" + c.args[0] + "': " + pc.error();
                    else cfg->point_code = *pc;
                  });
  vty.add_command(sg_node, "network-indicator (international|spare|national|reserved)",
                  {"Network indicator of our traffic", "International network", "Spare", "National network",
                   "Reserved for national use"},
                  [cfg](CommandContext& c) { cfg->network_indicator = *network_indicator(c.args[0]); });
  vty.add_command(sg_node, "transport (auto|sctp|tcp)",
                  {"Transport for M3UA and ASAP", "Kernel SCTP when available, else the TCP mapping",
                   "Kernel SCTP only", "The TCP mapping only"},
                  [cfg](CommandContext& c) {
                    cfg->transport = c.args[0] == "sctp"  ? TransportChoice::sctp
                                     : c.args[0] == "tcp" ? TransportChoice::tcp
                                                          : TransportChoice::automatic;
                  });
  vty.add_command(sg_node, "timer-profile (standard|aggressive)",
                  {"Failure-detection timers", "RFC defaults", "Sub-second detection of dead peers"},
                  [cfg](CommandContext& c) {
                    cfg->timers = c.args[0] == "aggressive" ? TimerProfile::aggressive : TimerProfile::standard;
                  });
  vty.add_command(sg_node, "log-level WORD (trace|debug|info|warn|error|critical|off)",
                  {"Log level of a category", "Category (transport, asap, enrp, m3ua, sg, all)", "Trace",
                   "Debug", "Info", "Warnings", "Errors", "Critical", "Off"},
                  [cfg, changed](CommandContext& c) {
                    cfg->log_levels[c.args[0]] = c.args[1];
                    changed(c, ConfigChange::log_level, c.args[0]);
                  });

  vty.add_command(sg_node, "pe-local-ip (A.B.C.D|X:X::X:X)",
                  doc({"Local address for the associations to gateway controllers (repeat: multi-homing)"}, kIpDoc),
                  [cfg](CommandContext& c) {
                    if (auto a = ip(c, 0)) cfg->pe_local_ips.push_back(*a);
                  });
  vty.add_command(sg_node, "pe-beat <0-60000>",
                  {"M3UA BEAT interval towards the gateway controllers (hung-peer detection)",
                   "Milliseconds (0: off)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->pe_beat_ms = *n; });
  vty.add_command(sg_node, "pe-audit-bound <100-600000>",
                  {"Fencing: wait for the registrar's audit of a reported controller before reconnecting",
                   "Milliseconds after the ENDPOINT_UNREACHABLE report"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->pe_audit_bound_ms = *n; });
  vty.add_command(sg_node, "pe-suspicion <100-600000>",
                  {"A controller the registrar lost while its link is up is suspected this long",
                   "Milliseconds"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->pe_suspicion_ms = *n; });
  declare_sctp_commands(vty, sg_node, "pe-sctp", "the links to the gateway controllers",
                        [cfg](CommandContext&) -> SctpOverrides& { return cfg->pe_sctp; });
  vty.add_command(sg_node, "metrics-endpoint (A.B.C.D|X:X::X:X) <0-65535>",
                  doc({"Prometheus text endpoint (GET /metrics)"}, {"IPv4 address", "IPv6 address", "TCP port (0: any free port)"}),
                  [cfg](CommandContext& c) {
                    const auto a = ip(c, 0);
                    const auto port = number_arg<std::uint16_t>(c, 1);
                    if (a && port) cfg->metrics_endpoint = rserpool::TransportAddress{*a, *port};
                  });

  // --- ss7-side --------------------------------------------------------------
  vty.add_command(kConfigNode, "ss7-side", {"The SS7-facing M3UA side"}, [ss7_node](CommandContext& c) {
    c.enter_node = ss7_node;
  });
  vty.add_command(ss7_node, "local-ip (A.B.C.D|X:X::X:X)", doc({"Listen as SGP on this address"}, kIpDoc),
                  [cfg](CommandContext& c) {
                    if (auto a = ip(c, 0)) cfg->ss7.listen_ips.push_back(*a);
                  });
  vty.add_command(ss7_node, "local-port <0-65535>", {"SGP listening port", "Port (M3UA: 2905; 0: any free port, see sgd --ports-file)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint16_t>(c, 0)) cfg->ss7.listen_port = *n; });
  vty.add_command(ss7_node, "accept-peers (configured|any)",
                  {"Which upstream peers may connect", "Only the configured peers' addresses", "Anyone"},
                  [cfg](CommandContext& c) { cfg->ss7.accept_any_peer = c.args[0] == "any"; });
  vty.add_command(ss7_node, "max-associations-per-peer <0-100000>",
                  {"Associations one peer may hold (idle ones make room for a newcomer)", "Count (0: unlimited)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::size_t>(c, 0)) cfg->ss7.max_associations_per_peer = *n; });
  declare_sctp_commands(vty, ss7_node, "sctp", "the SS7 side (SGP and STP connections)",
                        [cfg](CommandContext&) -> SctpOverrides& { return cfg->ss7.sctp; });
  vty.add_command(ss7_node, "peer NAME", {"An upstream peer allowed to connect", "Peer name"},
                  [cfg, peer_node](CommandContext& c) {
                    auto it = std::find_if(cfg->ss7.peers.begin(), cfg->ss7.peers.end(),
                                           [&](const Ss7Peer& p) { return p.name == c.args[0]; });
                    if (it == cfg->ss7.peers.end()) {
                      Ss7Peer p;
                      p.name = c.args[0];
                      cfg->ss7.peers.push_back(std::move(p));
                      it = std::prev(cfg->ss7.peers.end());
                    }
                    c.enter_node = peer_node;
                    c.enter_object = &*it;
                  });
  vty.add_command(peer_node, "remote-ip (A.B.C.D|X:X::X:X)", doc({"An address of the peer"}, kIpDoc),
                  [](CommandContext& c) {
                    if (auto a = ip(c, 0)) object<Ss7Peer>(c).remote_ips.push_back(*a);
                  });
  vty.add_command(peer_node, "routing-context <0-4294967295>", {"Routing context of the peer's AS", "Value"},
                  [](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) object<Ss7Peer>(c).routing_context = *n; });
  declare_traffic_commands<Ss7Peer>(vty, peer_node, cfg, true);
  vty.add_command(ss7_node, "connect NAME", {"An upstream STP to connect to", "Name"},
                  [cfg, connect_node](CommandContext& c) {
                    auto it = std::find_if(cfg->ss7.connects.begin(), cfg->ss7.connects.end(),
                                           [&](const Ss7Connect& k) { return k.name == c.args[0]; });
                    if (it == cfg->ss7.connects.end()) {
                      Ss7Connect k;
                      k.name = c.args[0];
                      cfg->ss7.connects.push_back(std::move(k));
                      it = std::prev(cfg->ss7.connects.end());
                    }
                    c.enter_node = connect_node;
                    c.enter_object = &*it;
                  });
  vty.add_command(connect_node, "remote-ip (A.B.C.D|X:X::X:X)", doc({"An address of the STP"}, kIpDoc),
                  [](CommandContext& c) {
                    if (auto a = ip(c, 0)) object<Ss7Connect>(c).remote_ips.push_back(*a);
                  });
  vty.add_command(connect_node, "remote-port <1-65535>", {"The STP's port", "Port"}, [](CommandContext& c) {
    if (const auto n = number_arg<std::uint16_t>(c, 0)) object<Ss7Connect>(c).remote_port = *n;
  });
  vty.add_command(connect_node, "local-ip (A.B.C.D|X:X::X:X)", doc({"Bind to this local address"}, kIpDoc),
                  [](CommandContext& c) {
                    if (auto a = ip(c, 0)) object<Ss7Connect>(c).local_ips.push_back(*a);
                  });
  vty.add_command(connect_node, "role (asp|ipsp)", {"Our M3UA role", "ASP towards an SGP", "IPSP"},
                  [](CommandContext& c) { object<Ss7Connect>(c).role = c.args[0] == "ipsp" ? PeerRole::ipsp : PeerRole::asp; });
  vty.add_command(connect_node, "routing-context <0-4294967295>", {"Routing context to activate", "Value"},
                  [](CommandContext& c) {
                    if (const auto n = number_arg<std::uint32_t>(c, 0)) object<Ss7Connect>(c).routing_context = *n;
                  });
  declare_traffic_commands<Ss7Connect>(vty, connect_node, cfg, false);

  // --- registrar -------------------------------------------------------------
  vty.add_command(kConfigNode, "registrar", {"ENRP registrars for the pools"}, [registrar_node](CommandContext& c) {
    c.enter_node = registrar_node;
  });
  vty.add_command(registrar_node, "colocated", {"Run a registrar inside the gateway"},
                  [cfg, colocated_node](CommandContext& c) {
                    if (!cfg->registrar.colocated) cfg->registrar.colocated.emplace();
                    c.enter_node = colocated_node;
                    c.enter_object = &*cfg->registrar.colocated;
                  });
  vty.add_command(registrar_node, "remote (A.B.C.D|X:X::X:X) <1-65535>",
                  doc({"A registrar the pool user asks"}, {"IPv4 address", "IPv6 address", "ASAP port (3863)"}),
                  [cfg](CommandContext& c) {
                    const auto a = ip(c, 0);
                    const auto port = number_arg<std::uint16_t>(c, 1);
                    if (a && port) cfg->registrar.remote.push_back({*a, *port});
                  });
  vty.add_command(colocated_node, "asap-ip (A.B.C.D|X:X::X:X)", doc({"ASAP listening address"}, kIpDoc),
                  [](CommandContext& c) {
                    if (auto a = ip(c, 0)) object<ColocatedRegistrar>(c).asap_ips.push_back(*a);
                  });
  vty.add_command(colocated_node, "asap-port <0-65535>", {"ASAP port", "Port (3863; 0: any free port, see sgd --ports-file)"}, [](CommandContext& c) {
    if (const auto n = number_arg<std::uint16_t>(c, 0)) object<ColocatedRegistrar>(c).asap_port = *n;
  });
  vty.add_command(colocated_node, "enrp-ip (A.B.C.D|X:X::X:X)", doc({"ENRP listening address"}, kIpDoc),
                  [](CommandContext& c) {
                    if (auto a = ip(c, 0)) object<ColocatedRegistrar>(c).enrp_ips.push_back(*a);
                  });
  vty.add_command(colocated_node, "enrp-port <0-65535>", {"ENRP port", "Port (9901; 0: any free port, see sgd --ports-file)"}, [](CommandContext& c) {
    if (const auto n = number_arg<std::uint16_t>(c, 0)) object<ColocatedRegistrar>(c).enrp_port = *n;
  });
  declare_sctp_commands(vty, colocated_node, "sctp", "the co-located registrar's ASAP and ENRP associations",
                        [](CommandContext& c) -> SctpOverrides& { return object<ColocatedRegistrar>(c).sctp; });
  vty.add_command(colocated_node, "enrp-peer (A.B.C.D|X:X::X:X) <1-65535>",
                  {"A peer registrar (mentor)", "IPv4 address", "IPv6 address", "ENRP port (9901)"},
                  [](CommandContext& c) {
                    const auto a = ip(c, 0);
                    const auto port = number_arg<std::uint16_t>(c, 1);
                    if (a && port) object<ColocatedRegistrar>(c).enrp_peers.push_back({*a, *port});
                  });
  vty.add_command(colocated_node, "enrp-allow (A.B.C.D|X:X::X:X)",
                  doc({"Accept ENRP associations from this address (a mate that connects to us)"}, kIpDoc),
                  [](CommandContext& c) {
                    if (auto a = ip(c, 0)) object<ColocatedRegistrar>(c).enrp_allowed.push_back(*a);
                  });
  vty.add_command(colocated_node, "server-id <1-4294967295>", {"ENRP server identifier", "Identifier"},
                  [](CommandContext& c) {
                    if (const auto n = number_arg<std::uint32_t>(c, 0)) object<ColocatedRegistrar>(c).server_id = *n;
                  });
  vty.add_command(colocated_node, "keep-alive-interval <100-3600000>",
                  {"Mean interval of the ENDPOINT_KEEP_ALIVE audit of owned PEs (RFC 5352)", "Milliseconds"},
                  [](CommandContext& c) {
                    if (const auto n = number_arg<std::uint32_t>(c, 0)) object<ColocatedRegistrar>(c).keep_alive_interval_ms = *n;
                  });
  vty.add_command(colocated_node, "keep-alive-timeout <100-3600000>",
                  {"A PE that does not answer its keep-alive within this is removed", "Milliseconds"},
                  [](CommandContext& c) {
                    if (const auto n = number_arg<std::uint32_t>(c, 0)) object<ColocatedRegistrar>(c).keep_alive_timeout_ms = *n;
                  });

  // --- pool ------------------------------------------------------------------
  vty.add_command(kConfigNode, "pool NAME", {"A pool of gateway controllers", "Pool handle"},
                  [cfg, pool_node, changed](CommandContext& c) {
                    if (c.args[0].size() > rserpool::kMaxPoolHandleSize) {
                      c.error = "pool handle longer than " + std::to_string(rserpool::kMaxPoolHandleSize) + " bytes";
                      return;
                    }
                    c.enter_node = pool_node;
                    c.enter_object = &cfg->pool(c.args[0]);
                    changed(c, ConfigChange::pool, c.args[0]);
                  });
  // Each setting typed at run time reaches the running pool at once.
  auto pool_changed = [changed](CommandContext& c) { changed(c, ConfigChange::pool, object<PoolSettings>(c).handle); };
  vty.add_command(pool_node, "pool-wait <0-600000>",
                  {"How long traffic waits while no PE is usable", "Milliseconds"}, [pool_changed](CommandContext& c) {
                    const auto ms = number_arg<std::uint32_t>(c, 0);
                    if (!ms) return;
                    object<PoolSettings>(c).distributor.pool_wait = std::chrono::milliseconds(*ms);
                    pool_changed(c);
                  });
  vty.add_command(pool_node, "drain-deadline <0-86400000>",
                  {"How long a leaving PE keeps its calls", "Milliseconds"}, [pool_changed](CommandContext& c) {
                    const auto ms = number_arg<std::uint32_t>(c, 0);
                    if (!ms) return;
                    object<PoolSettings>(c).distributor.drain_deadline = std::chrono::milliseconds(*ms);
                    pool_changed(c);
                  });
  vty.add_command(pool_node, "max-queue <1-10000000>", {"Bound of each queue", "Messages"},
                  [pool_changed](CommandContext& c) {
                    const auto messages = number_arg<std::size_t>(c, 0);
                    if (!messages) return;
                    object<PoolSettings>(c).distributor.max_queue = *messages;
                    pool_changed(c);
                  });
  vty.add_command(pool_node, "placement (rendezvous|policy)",
                  {"How new flows are placed on the pool's PEs",
                   "Weighted rendezvous hash over the members: the same choice at both gateways of a pair and after a restart",
                   "The RFC 5356 policy the PEs registered (load-based policies)"},
                  [pool_changed](CommandContext& c) {
                    object<PoolSettings>(c).distributor.placement =
                        c.args[0] == "policy" ? PlacementMode::policy : PlacementMode::rendezvous;
                    pool_changed(c);
                  });
  vty.add_command(pool_node, "placement-settle <0-60000>",
                  {"How long the pool's PE list must stay unchanged after start-up before calls in progress are placed",
                   "Milliseconds"},
                  [pool_changed](CommandContext& c) {
                    const auto ms = number_arg<std::uint32_t>(c, 0);
                    if (!ms) return;
                    object<PoolSettings>(c).distributor.placement_settle = std::chrono::milliseconds(*ms);
                    pool_changed(c);
                  });
  vty.add_command(pool_node, "congestion onset <1-10000000> abatement <0-10000000>",
                  {"Congestion signalling (SCON) thresholds", "Queued messages that start congestion", "Messages",
                   "Queued messages that end it", "Messages"},
                  [pool_changed](CommandContext& c) {
                    auto& d = object<PoolSettings>(c).distributor;
                    const auto onset_arg = number_arg<std::size_t>(c, 0);
                    const auto abatement_arg = number_arg<std::size_t>(c, 1);
                    if (!onset_arg || !abatement_arg) return;
                    const auto onset = *onset_arg;
                    const auto abatement = *abatement_arg;
                    if (abatement >= onset) {
                      c.error = "abatement must be below onset";
                      return;
                    }
                    d.congestion_onset = onset;
                    d.congestion_abatement = abatement;
                    pool_changed(c);
                  });

  // --- route -----------------------------------------------------------------
  vty.add_command(kConfigNode, "route NAME", {"A routing key leading to a pool", "Route name"},
                  [cfg, route_node](CommandContext& c) {
                    c.enter_node = route_node;
                    c.enter_object = &cfg->route(c.args[0]);
                  });
  vty.add_command(kConfigNode, "no route NAME", {"Negate", "Remove a route", "Route name"},
                  [cfg, changed](CommandContext& c) {
                    if (!cfg->remove_route(c.args[0])) c.error = "no route named " + c.args[0];
                    changed(c, ConfigChange::route_removed, c.args[0]);
                  });
  auto point_code_match = [cfg](CommandContext& c, std::uint8_t mask) -> std::optional<PointCodeMatch> {
    auto pc = mxua::parse_point_code(c.args[0], cfg->pc_format);
    if (!pc) {
      c.error = "invalid point code '" + c.args[0] + "': " + pc.error();
      return std::nullopt;
    }
    return PointCodeMatch{pc->value, mask};
  };
  auto route_changed = [changed](CommandContext& c) { changed(c, ConfigChange::route, object<RouteSettings>(c).name); };
  vty.add_command(route_node, "dpc PC", {"Destination point code", "Point code"},
                  [point_code_match, route_changed](CommandContext& c) {
                    if (auto m = point_code_match(c, 0)) {
                      object<RouteSettings>(c).key.dpc = *m;
                      object<RouteSettings>(c).has_dpc = true;
                      route_changed(c);
                    }
                  });
  vty.add_command(route_node, "dpc PC mask <0-24>",
                  {"Destination point code", "Point code", "Wildcard the low-order bits", "Number of bits"},
                  [point_code_match, route_changed](CommandContext& c) {
                    const auto mask = mask_arg(c, 1);
                    if (!mask) return;
                    if (auto m = point_code_match(c, *mask)) {
                      object<RouteSettings>(c).key.dpc = *m;
                      object<RouteSettings>(c).has_dpc = true;
                      route_changed(c);
                    }
                  });
  vty.add_command(route_node, "opc PC", {"Originating point code", "Point code"},
                  [point_code_match, route_changed](CommandContext& c) {
                    if (auto m = point_code_match(c, 0)) {
                      object<RouteSettings>(c).key.opc = *m;
                      route_changed(c);
                    }
                  });
  vty.add_command(route_node, "opc PC mask <0-24>",
                  {"Originating point code", "Point code", "Wildcard the low-order bits", "Number of bits"},
                  [point_code_match, route_changed](CommandContext& c) {
                    const auto mask = mask_arg(c, 1);
                    if (!mask) return;
                    if (auto m = point_code_match(c, *mask)) {
                      object<RouteSettings>(c).key.opc = *m;
                      route_changed(c);
                    }
                  });
  vty.add_command(route_node, "si (isup|sccp|tup|<0-15>)",
                  {"Service indicator (repeat for several)", "ISUP (5)", "SCCP (3)", "TUP (4)", "Numeric value"},
                  [route_changed](CommandContext& c) {
                    const auto& a = c.args[0];
                    std::size_t si = 0;
                    if (a == "isup") si = 5;
                    else if (a == "sccp") si = 3;
                    else if (a == "tup") si = 4;
                    else if (const auto n = number_arg<std::uint8_t>(c, 0, 0, 15)) si = *n;  // a 4-bit field
                    else return;
                    object<RouteSettings>(c).key.service_indicators.set(si);
                    route_changed(c);
                  });
  vty.add_command(route_node, "ni (international|spare|national|reserved)",
                  {"Network indicator", "International", "Spare", "National", "Reserved"},
                  [route_changed](CommandContext& c) {
                    object<RouteSettings>(c).key.network_indicator = network_indicator(c.args[0]);
                    route_changed(c);
                  });
  vty.add_command(route_node, "cic-range <0-16383> <0-16383>",
                  {"ISUP circuits of this route", "First CIC", "Last CIC"}, [route_changed](CommandContext& c) {
                    // A CIC is 12 bits in ITU ISUP, 14 in ANSI: the larger bound.
                    const auto first = number_arg<std::uint16_t>(c, 0, 0, 16383);
                    const auto last = number_arg<std::uint16_t>(c, 1, 0, 16383);
                    if (!first || !last) return;
                    if (*first > *last) {
                      c.error = "first CIC above last CIC";
                      return;
                    }
                    object<RouteSettings>(c).key.cics = CicRange{*first, *last};
                    route_changed(c);
                  });
  vty.add_command(route_node, "pool NAME", {"The pool this route leads to", "Pool handle"},
                  [route_changed](CommandContext& c) {
                    object<RouteSettings>(c).pool = c.args[0];
                    route_changed(c);
                  });

  vty.set_config_writer([cfg] { return render(*cfg); });
}

}  // namespace sg
