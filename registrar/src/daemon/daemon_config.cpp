// Config-file grammar of rserpool-registrar (node `registrar`).
#include "daemon_config.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "rserpool/base/log.hpp"
#include "rserpool/ops/number.hpp"
#include "rserpool/ops/sctp_commands.hpp"

namespace rserpool::registrar::daemon {
namespace {

using ops::CommandContext;
using ops::kConfigNode;
using ops::number_arg;

std::optional<IpAddress> ip(CommandContext& c, std::size_t i) {
  auto a = IpAddress::parse(c.args.at(i));
  if (!a) c.error = "invalid IP address '" + c.args.at(i) + "'";
  return a;
}

constexpr std::pair<TimerName, const char*> kTimerNames[] = {
    {TimerName::keep_alive_interval, "keep-alive-interval"},
    {TimerName::keep_alive_timeout, "keep-alive-timeout"},
    {TimerName::peer_heartbeat_cycle, "peer-heartbeat-cycle"},
    {TimerName::max_time_last_heard, "max-time-last-heard"},
    {TimerName::max_time_no_response, "max-time-no-response"},
    {TimerName::takeover_expire, "takeover-expire"},
    {TimerName::unreachable_report_interval, "unreachable-report-interval"},
};

const char* timer_name(TimerName t) {
  for (const auto& [n, s] : kTimerNames) {
    if (n == t) return s;
  }
  return "?";
}

std::string ip_text(const IpAddress& a) { return a.to_string(); }

const std::vector<std::string> kIpDoc = {"IPv4 address", "IPv6 address"};
const std::vector<std::string> kLevelDoc = {"Log level of a category",
                                            "Category (registrar, transport, all, ...)",
                                            "Trace", "Debug", "Info", "Warnings", "Errors", "Critical", "Off"};

}  // namespace

void declare_config_commands(ops::Vty& vty, DaemonConfig& config) {
  const int node = vty.add_node("registrar", "%s(config-registrar)# ");
  DaemonConfig* cfg = &config;
  vty.add_command(kConfigNode, "registrar", {"The ENRP server (registrar)"},
                  [node](CommandContext& c) { c.enter_node = node; });
  vty.add_command(node, "server-id ID", {"Our ENRP server identifier (RFC 5353 2.2)", "Non-zero, decimal or 0x hex"},
                  [cfg](CommandContext& c) {
                    auto v = ops::parse_number(c.args[0], 1, 0xffffffffULL, ops::NumberBase::decimal_or_hex);
                    if (!v) {
                      c.error = "server-id must be 1..0xffffffff: " + v.error();
                      return;
                    }
                    cfg->server_id = static_cast<ServerIdentifier>(*v);
                  });
  vty.add_command(node, "transport (auto|sctp|tcp)",
                  {"Transport for ASAP and ENRP", "Kernel SCTP when available, else the TCP mapping",
                   "Kernel SCTP only", "The TCP mapping only"},
                  [cfg](CommandContext& c) { cfg->transport = *transport::parse_transport_kind(c.args[0]); });
  vty.add_command(node, "asap local-ip (A.B.C.D|X:X::X:X)",
                  {"ASAP side (pool elements and users)", "Listen on this address (repeatable: multi-homing)",
                   kIpDoc[0], kIpDoc[1]},
                  [cfg](CommandContext& c) {
                    if (auto a = ip(c, 0)) cfg->asap_addresses.push_back(*a);
                  });
  vty.add_command(node, "asap-port <0-65535>", {"ASAP listening port", "Port (3863; 0: ephemeral)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint16_t>(c, 0)) cfg->asap_port = *n; });
  vty.add_command(node, "enrp local-ip (A.B.C.D|X:X::X:X)",
                  {"ENRP side (peer registrars)", "Listen on this address (repeatable; advertised to peers)",
                   kIpDoc[0], kIpDoc[1]},
                  [cfg](CommandContext& c) {
                    if (auto a = ip(c, 0)) cfg->enrp_addresses.push_back(*a);
                  });
  vty.add_command(node, "enrp-port <0-65535>", {"ENRP listening port", "Port (9901; 0: ephemeral)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint16_t>(c, 0)) cfg->enrp_port = *n; });
  vty.add_command(node, "peer (A.B.C.D|X:X::X:X) <1-65535>",
                  {"A peer registrar we connect to and trust (repeatable)", kIpDoc[0], kIpDoc[1], "Its ENRP port"},
                  [cfg](CommandContext& c) {
                    const auto port = number_arg<std::uint16_t>(c, 1);
                    if (auto a = ip(c, 0); a && port) {
                      cfg->peers.push_back(TransportAddress{*a, *port});
                    }
                  });
  vty.add_command(node, "allow-peer (A.B.C.D|X:X::X:X)",
                  {"Accept ENRP associations from this address too (repeatable)", kIpDoc[0], kIpDoc[1]},
                  [cfg](CommandContext& c) {
                    if (auto a = ip(c, 0)) cfg->allowed.push_back(*a);
                  });
  vty.add_command(node, "monitor (A.B.C.D|X:X::X:X)",
                  {"A read-only ENRP client (handlespace dump, rsplib's hsdump) at this address (repeatable): it may "
                   "read the handle table and the server list, and is never a peer (every address of its "
                   "association must be listed)",
                   kIpDoc[0], kIpDoc[1]},
                  [cfg](CommandContext& c) {
                    if (auto a = ip(c, 0)) cfg->monitors.push_back(*a);
                  });
  vty.add_command(node, "max-associations <1-1000000>",
                  {"ASAP associations held at once (kept below the process's open-file limit)", "Count (4000)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::size_t>(c, 0)) cfg->max_associations = *n; });
  vty.add_command(node, "max-associations-per-address <1-1000000>",
                  {"ASAP associations one source address may hold", "Count (256)"}, [cfg](CommandContext& c) {
                    if (const auto n = number_arg<std::size_t>(c, 0)) cfg->max_associations_per_address = *n;
                  });
  vty.add_command(node, "pe-reserved-associations <0-1000000>",
                  {"Of max-associations, slots only associations carrying registered PEs may use", "Count (1000)"},
                  [cfg](CommandContext& c) {
                    if (const auto n = number_arg<std::size_t>(c, 0)) cfg->pe_reserved_associations = *n;
                  });
  vty.add_command(node, "client-idle <100-3600000>",
                  {"An association without PE or subscription idle this long makes room for a newcomer when full",
                   "Milliseconds (10000)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->client_idle_ms = *n; });
  vty.add_command(node, "max-enrp-associations <1-100000>",
                  {"Inbound ENRP associations held at once (peers and monitors)", "Count (64)"},
                  [cfg](CommandContext& c) {
                    if (const auto n = number_arg<std::size_t>(c, 0)) cfg->max_enrp_associations = *n;
                  });
  vty.add_command(node, "max-monitors <1-1000>", {"Monitors connected at once", "Count (8)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::size_t>(c, 0)) cfg->max_monitors = *n; });
  vty.add_command(node, "send-queue-limit (asap|enrp) <1-10000000> <1024-4294967295>",
                  {"What may be held for an association that does not read; over it, the association is aborted",
                   "Pool elements and users (1024 messages, 2097152 bytes)",
                   "Peer registrars (16384 messages, 33554432 bytes)", "Messages", "Bytes"},
                  [cfg](CommandContext& c) {
                    const auto messages = number_arg<std::size_t>(c, 1);
                    const auto bytes = number_arg<std::size_t>(c, 2);
                    if (!messages || !bytes) return;
                    QueueLimits q{*messages, *bytes};
                    if (c.args[0] == "asap") cfg->send_queue_asap = q;
                    else cfg->send_queue_enrp = q;
                  });
  vty.add_command(node, "accept-peers (configured|any)",
                  {"Which registrars may peer with us", "Only configured and allowed addresses", "Anyone"},
                  [cfg](CommandContext& c) { cfg->accept_any_peer = c.args[0] == "any"; });
  vty.add_command(node, "timer-profile (rfc|aggressive)",
                  {"ENRP and keep-alive timers", "RFC 5353 defaults (heartbeat 30 s, last heard 61 s)",
                   "rsplib-like (heartbeat 2.444 s, last heard 5 s, keep-alive 2 s)"},
                  [cfg](CommandContext& c) {
                    cfg->timer_profile = c.args[0] == "aggressive" ? TimerProfile::aggressive : TimerProfile::rfc;
                  });
  vty.add_command(node, "transport-profile (standard|aggressive)",
                  {"Transport failure detection", "Protocol defaults", "Sub-second dead-peer detection"},
                  [cfg](CommandContext& c) { cfg->aggressive_transport = c.args[0] == "aggressive"; });
  rserpool::ops::declare_sctp_commands(vty, node, "sctp", "the ASAP and ENRP associations",
                                       [cfg](CommandContext&) -> rserpool::ops::SctpOverrides& { return cfg->sctp; });
  vty.add_command(node,
                  "timer (keep-alive-interval|keep-alive-timeout|peer-heartbeat-cycle|max-time-last-heard|"
                  "max-time-no-response|takeover-expire|unreachable-report-interval) <1-86400000>",
                  {"Override one timer of the profile", "Mean interval of ENDPOINT_KEEP_ALIVE audits",
                   "KEEP_ALIVE_ACK deadline", "PEER-HEARTBEAT-CYCLE", "MAX-TIME-LAST-HEARD", "MAX-TIME-NO-RESPONSE",
                   "TAKEOVER-EXPIRE-INTERVAL", "Interval in which each association's ENDPOINT_UNREACHABLE counts once",
                   "Milliseconds"},
                  [cfg](CommandContext& c) {
                    const auto ms = number_arg<std::uint32_t>(c, 1);
                    if (!ms) return;
                    for (const auto& [n, s] : kTimerNames) {
                      if (c.args[0] == s) cfg->timers_ms[n] = *ms;
                    }
                  });
  vty.add_command(node, "max-bad-pe-report <1-1000>",
                  {"Distinct associations reporting a PE unreachable that make an answering PE an operator event "
                   "(MAX-BAD-PE-REPORT; a report audits the PE, only a failed audit removes it)",
                   "Reports"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->max_bad_pe_reports = *n; });
  vty.add_command(node, "rate-limit (resolution|registration|unreachable) <0-1000000> <0-1000000>",
                  {"Per-association token bucket", "HANDLE_RESOLUTION", "REGISTRATION", "ENDPOINT_UNREACHABLE",
                   "Messages per second (0: unlimited)", "Burst"},
                  [cfg](CommandContext& c) {
                    const auto rate = number_arg<std::uint32_t>(c, 1);
                    const auto burst = number_arg<std::uint32_t>(c, 2);
                    if (!rate || !burst) return;
                    RateLimit r{static_cast<double>(*rate), static_cast<double>(*burst)};
                    if (r.rate > 0 && r.burst < 1) {
                      c.error = "burst must be at least 1 when the rate is limited";
                      return;
                    }
                    if (c.args[0] == "resolution") cfg->resolution_rate = r;
                    else if (c.args[0] == "registration") cfg->registration_rate = r;
                    else cfg->unreachable_rate = r;
                  });
  vty.add_command(node, "max-pes-per-association <1-1000000>",
                  {"PEs one association may register", "Count"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::size_t>(c, 0)) cfg->max_pes_per_association = *n; });
  vty.add_command(node, "max-resolution-items <1-1024>",
                  {"Most PEs one HANDLE_RESOLUTION_RESPONSE carries (cap on option 0x803f)",
                   "Items (128; rsplib caps at 1024)"},
                  [cfg](CommandContext& c) {
                    if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->max_resolution_items = *n;
                  });
  vty.add_command(node, "check-pe-addresses (on|off)",
                  {"A PE may only register addresses its association carries (RFC 5352 security)",
                   "Foreign addresses dropped; none left: rejected with 0xa (default)",
                   "Registered as given (PEs behind NAT or registering for others)"},
                  [cfg](CommandContext& c) { cfg->check_pe_addresses = c.args[0] == "on"; });
  vty.add_command(node, "mentor (A.B.C.D|X:X::X:X) <1-65535>",
                  {"Download the handlespace at start from this registrar (RFC 5353 3.3); also a peer",
                   kIpDoc[0], kIpDoc[1], "Its ENRP port"},
                  [cfg](CommandContext& c) {
                    const auto port = number_arg<std::uint16_t>(c, 1);
                    if (auto a = ip(c, 0); a && port) {
                      cfg->mentor_mode = MentorMode::address;
                      cfg->mentor = TransportAddress{*a, *port};
                    }
                  });
  vty.add_command(node, "mentor first-peer",
                  {"Download the handlespace at start (RFC 5353 3.3)",
                   "From the first configured peer that answers (default)"},
                  [cfg](CommandContext&) {
                    cfg->mentor_mode = MentorMode::first_peer;
                    cfg->mentor.reset();
                  });
  vty.add_command(node, "no mentor", {"Negate", "No download at start: peers' PEs arrive by the checksum audit"},
                  [cfg](CommandContext&) {
                    cfg->mentor_mode = MentorMode::off;
                    cfg->mentor.reset();
                  });
  vty.add_command(node, "mentor-wait <100-600000>",
                  {"How long to wait at start for a mentor to answer", "Milliseconds (5000)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->mentor_wait_ms = *n; });
  vty.add_command(node, "announce (A.B.C.D|X:X::X:X) <1-65535>",
                  {"Send ASAP_SERVER_ANNOUNCE (rsplib's group: 239.0.0.50 3863)", "IPv4 group or address",
                   "IPv6 group or address", "UDP port"},
                  [cfg](CommandContext& c) {
                    const auto port = number_arg<std::uint16_t>(c, 1);
                    if (auto a = ip(c, 0); a && port) {
                      cfg->announce_to = TransportAddress{*a, *port};
                    }
                  });
  vty.add_command(node, "no announce", {"Negate", "No ASAP_SERVER_ANNOUNCE (the default)"},
                  [cfg](CommandContext&) { cfg->announce_to.reset(); });
  vty.add_command(node, "announce-interval <100-60000>", {"Time between announces", "Milliseconds (2000)"},
                  [cfg](CommandContext& c) {
                    if (const auto n = number_arg<std::uint32_t>(c, 0)) cfg->announce_interval_ms = *n;
                  });
  vty.add_command(node, "announce-interface (A.B.C.D|X:X::X:X)",
                  {"Outgoing interface for multicast announces", kIpDoc[0], kIpDoc[1]},
                  [cfg](CommandContext& c) {
                    if (auto a = ip(c, 0)) cfg->announce_interface = *a;
                  });
  vty.add_command(node, "metrics-port <0-65535>",
                  {"Serve Prometheus GET /metrics on 127.0.0.1", "TCP port (0: ephemeral, see --ports-file)"},
                  [cfg](CommandContext& c) { if (const auto n = number_arg<std::uint16_t>(c, 0)) cfg->metrics_port = *n; });
  vty.add_command(node, "no metrics-port", {"Negate", "No Prometheus endpoint"},
                  [cfg](CommandContext&) { cfg->metrics_port.reset(); });
  vty.add_command(node, "log-level WORD (trace|debug|info|warn|error|critical|off)", kLevelDoc,
                  [cfg](CommandContext& c) {
                    cfg->log_levels[c.args[0]] = c.args[1];
                    if (!c.from_config_file) log::set_level(c.args[0], c.args[1]);
                  });
  // The same at run time from the enable node, without touching the config.
  vty.add_command(ops::kEnableNode, "log-level WORD (trace|debug|info|warn|error|critical|off)", kLevelDoc,
                  [](CommandContext& c) {
                    if (!log::set_level(c.args[0], c.args[1])) c.error = "unknown level '" + c.args[1] + "'";
                  });
}

std::string render(const DaemonConfig& c) {
  std::ostringstream o;
  o << "registrar\n";
  if (c.server_id) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", *c.server_id);
    o << " server-id " << buf << "\n";
  }
  o << " transport " << transport::to_string(c.transport) << "\n";
  for (const auto& a : c.asap_addresses) o << " asap local-ip " << ip_text(a) << "\n";
  o << " asap-port " << c.asap_port << "\n";
  for (const auto& a : c.enrp_addresses) o << " enrp local-ip " << ip_text(a) << "\n";
  o << " enrp-port " << c.enrp_port << "\n";
  for (const auto& p : c.peers) o << " peer " << ip_text(p.ip) << " " << p.port << "\n";
  for (const auto& a : c.allowed) o << " allow-peer " << ip_text(a) << "\n";
  o << " accept-peers " << (c.accept_any_peer ? "any" : "configured") << "\n";
  for (const auto& a : c.monitors) o << " monitor " << ip_text(a) << "\n";
  if (c.max_associations) o << " max-associations " << *c.max_associations << "\n";
  if (c.max_associations_per_address) o << " max-associations-per-address " << *c.max_associations_per_address << "\n";
  if (c.pe_reserved_associations) o << " pe-reserved-associations " << *c.pe_reserved_associations << "\n";
  if (c.client_idle_ms) o << " client-idle " << *c.client_idle_ms << "\n";
  if (c.max_enrp_associations) o << " max-enrp-associations " << *c.max_enrp_associations << "\n";
  if (c.max_monitors) o << " max-monitors " << *c.max_monitors << "\n";
  if (c.send_queue_asap) o << " send-queue-limit asap " << c.send_queue_asap->max_messages << " " << c.send_queue_asap->max_bytes << "\n";
  if (c.send_queue_enrp) o << " send-queue-limit enrp " << c.send_queue_enrp->max_messages << " " << c.send_queue_enrp->max_bytes << "\n";
  o << " timer-profile " << (c.timer_profile == TimerProfile::aggressive ? "aggressive" : "rfc") << "\n";
  o << " transport-profile " << (c.aggressive_transport ? "aggressive" : "standard") << "\n";
  rserpool::ops::render_sctp(o, " ", "sctp", c.sctp);
  for (const auto& [t, ms] : c.timers_ms) o << " timer " << timer_name(t) << " " << ms << "\n";
  if (c.max_bad_pe_reports) o << " max-bad-pe-report " << *c.max_bad_pe_reports << "\n";
  auto rate = [&](const char* what, const std::optional<RateLimit>& r) {
    if (r) {
      o << " rate-limit " << what << " " << static_cast<std::uint64_t>(r->rate) << " "
        << static_cast<std::uint64_t>(r->burst) << "\n";
    }
  };
  rate("resolution", c.resolution_rate);
  rate("registration", c.registration_rate);
  rate("unreachable", c.unreachable_rate);
  if (c.max_pes_per_association) o << " max-pes-per-association " << *c.max_pes_per_association << "\n";
  if (c.max_resolution_items) o << " max-resolution-items " << *c.max_resolution_items << "\n";
  if (c.check_pe_addresses) o << " check-pe-addresses " << (*c.check_pe_addresses ? "on" : "off") << "\n";
  switch (c.mentor_mode) {
    case MentorMode::address:
      if (c.mentor) o << " mentor " << ip_text(c.mentor->ip) << " " << c.mentor->port << "\n";
      break;
    case MentorMode::off: o << " no mentor\n"; break;
    case MentorMode::first_peer: break;
  }
  if (c.mentor_wait_ms) o << " mentor-wait " << *c.mentor_wait_ms << "\n";
  if (c.announce_to) o << " announce " << ip_text(c.announce_to->ip) << " " << c.announce_to->port << "\n";
  if (c.announce_interval_ms) o << " announce-interval " << *c.announce_interval_ms << "\n";
  if (c.announce_interface) o << " announce-interface " << ip_text(*c.announce_interface) << "\n";
  if (c.metrics_port) o << " metrics-port " << *c.metrics_port << "\n";
  for (const auto& [cat, level] : c.log_levels) o << " log-level " << cat << " " << level << "\n";
  return o.str();
}

std::string validate(const DaemonConfig& c) {
  const std::uint32_t hb = c.timers_ms.count(TimerName::peer_heartbeat_cycle)
                               ? c.timers_ms.at(TimerName::peer_heartbeat_cycle)
                               : (c.timer_profile == TimerProfile::aggressive ? 2444U : 30000U);
  const std::uint32_t heard = c.timers_ms.count(TimerName::max_time_last_heard)
                                  ? c.timers_ms.at(TimerName::max_time_last_heard)
                                  : (c.timer_profile == TimerProfile::aggressive ? 5000U : 61000U);
  if (heard <= hb) {
    return "max-time-last-heard (" + std::to_string(heard) + " ms) must exceed peer-heartbeat-cycle (" +
           std::to_string(hb) + " ms), or healthy peers are declared dead";
  }
  if (c.asap_port != 0 && c.asap_port == c.enrp_port &&
      (c.asap_addresses == c.enrp_addresses || c.asap_addresses.empty() || c.enrp_addresses.empty())) {
    return "asap-port and enrp-port must differ";
  }
  if (c.max_associations && c.pe_reserved_associations && *c.pe_reserved_associations >= *c.max_associations) {
    return "pe-reserved-associations (" + std::to_string(*c.pe_reserved_associations) +
           ") must be less than max-associations (" + std::to_string(*c.max_associations) +
           "), or no pool user can connect";
  }
  if (!c.sctp.empty()) {
    const auto problem = rserpool::ops::check_rto(rserpool::ops::apply(
        c.sctp, c.aggressive_transport ? transport::SctpOptions::aggressive() : transport::SctpOptions{}));
    if (!problem.empty()) return "sctp (transport-profile, then the overrides): " + problem;
  }
  if (c.mentor_mode == MentorMode::address && c.mentor && c.mentor->port == c.enrp_port &&
      std::find(c.enrp_addresses.begin(), c.enrp_addresses.end(), c.mentor->ip) != c.enrp_addresses.end()) {
    return "mentor " + c.mentor->to_string() + " is this registrar's own ENRP endpoint";
  }
  return {};
}

ServerConfig to_server_config(const DaemonConfig& c, ServerIdentifier id) {
  ServerConfig s;
  s.core = c.timer_profile == TimerProfile::aggressive ? RegistrarConfig::aggressive(id)
                                                       : RegistrarConfig::rfc_defaults(id);
  s.core.seed = (std::uint64_t{id} << 32) ^ 0x5eedULL;
  for (const auto& [t, ms] : c.timers_ms) {
    const std::chrono::milliseconds d{ms};
    switch (t) {
      case TimerName::keep_alive_interval: s.core.keep_alive_interval = d; break;
      case TimerName::keep_alive_timeout: s.core.keep_alive_timeout = d; break;
      case TimerName::peer_heartbeat_cycle: s.core.peer_heartbeat_cycle = d; break;
      case TimerName::max_time_last_heard: s.core.max_time_last_heard = d; break;
      case TimerName::max_time_no_response: s.core.max_time_no_response = d; break;
      case TimerName::takeover_expire: s.core.takeover_expire = d; break;
      case TimerName::unreachable_report_interval: s.core.unreachable_report_interval = d; break;
    }
  }
  if (c.max_bad_pe_reports) s.core.max_bad_pe_reports = *c.max_bad_pe_reports;
  if (c.resolution_rate) s.core.resolution_rate = *c.resolution_rate;
  if (c.registration_rate) s.core.registration_rate = *c.registration_rate;
  if (c.unreachable_rate) s.core.unreachable_rate = *c.unreachable_rate;
  if (c.max_pes_per_association) s.core.max_pes_per_association = *c.max_pes_per_association;
  if (c.max_resolution_items) s.core.max_resolution_items = *c.max_resolution_items;
  if (c.check_pe_addresses) s.core.check_pe_addresses = *c.check_pe_addresses;
  s.mentor = c.mentor_mode == MentorMode::address ? c.mentor : std::nullopt;
  s.mentor_from_peers = c.mentor_mode == MentorMode::first_peer;
  if (c.mentor_wait_ms) s.mentor_wait = std::chrono::milliseconds{*c.mentor_wait_ms};
  s.kind = c.transport;
  s.asap_addresses = c.asap_addresses;
  s.asap_port = c.asap_port;
  s.enrp_addresses = c.enrp_addresses;
  s.enrp_port = c.enrp_port;
  s.enrp_peers = c.peers;
  s.enrp_allowed = c.allowed;
  s.accept_unconfigured_peers = c.accept_any_peer;
  s.enrp_monitors = c.monitors;
  if (c.max_associations) {
    s.core.caps.max_associations = *c.max_associations;
    s.core.caps.reserved_for_pes = *c.max_associations / 4;  // unless set below
  }
  if (c.max_associations_per_address) s.core.caps.max_per_address = *c.max_associations_per_address;
  if (c.pe_reserved_associations) s.core.caps.reserved_for_pes = *c.pe_reserved_associations;
  if (c.client_idle_ms) s.core.caps.client_idle = std::chrono::milliseconds{*c.client_idle_ms};
  if (c.max_enrp_associations) s.max_enrp_links = *c.max_enrp_associations;
  if (c.max_monitors) s.max_monitor_links = *c.max_monitors;
  if (c.send_queue_asap) s.outbound.asap = *c.send_queue_asap;
  if (c.send_queue_enrp) s.outbound.enrp = *c.send_queue_enrp;
  s.aggressive_transport = c.aggressive_transport;
  if (!c.sctp.empty())
    s.sctp = rserpool::ops::apply(c.sctp, c.aggressive_transport ? transport::SctpOptions::aggressive()
                                                                  : transport::SctpOptions{});
  s.announce_to = c.announce_to;
  if (c.announce_interval_ms) s.announce_interval = std::chrono::milliseconds{*c.announce_interval_ms};
  s.announce_interface = c.announce_interface;
  s.name = "registrar";
  return s;
}

}  // namespace rserpool::registrar::daemon
