#include "sg/config/sg_config.hpp"

#include <algorithm>
#include <sstream>

namespace sg {

std::string_view to_string(TransportChoice t) noexcept {
  switch (t) {
    case TransportChoice::automatic: return "auto";
    case TransportChoice::sctp: return "sctp";
    case TransportChoice::tcp: return "tcp";
  }
  return "auto";
}

std::string_view to_string(TimerProfile t) noexcept {
  return t == TimerProfile::aggressive ? "aggressive" : "standard";
}

std::string_view to_string(ModeNegotiation n) noexcept { return n == ModeNegotiation::follow ? "follow" : "strict"; }

rserpool::transport::SctpOptions sctp_profile(TimerProfile t) {
  return t == TimerProfile::aggressive ? rserpool::transport::SctpOptions::aggressive()
                                       : rserpool::transport::SctpOptions{};
}

rserpool::transport::SctpOptions relay_sctp_profile(TimerProfile t) {
  auto o = sctp_profile(t);
  // SCTP_DELAYED_SACK sack_freq 1 turns Linux's delayed SACK off (the delay
  // stays set, for an override of the frequency to find it): the DATA
  // chunk's SACK is built and sent in the same softirq pass that queues the
  // chunk for the reader, under the socket's lock, before recvmsg can take
  // it. Its cost is one SACK packet per DATA packet instead of one per two.
  o.sack_frequency = 1;
  return o;
}

PoolSettings& SgConfig::pool(const std::string& handle) {
  auto [it, inserted] = pools.try_emplace(handle);
  if (inserted) it->second.handle = handle;
  return it->second;
}

RouteSettings& SgConfig::route(const std::string& name) {
  auto it = std::find_if(routes.begin(), routes.end(), [&](const RouteSettings& r) { return r.name == name; });
  if (it != routes.end()) return *it;
  RouteSettings r;
  r.name = name;
  return routes.emplace_back(std::move(r));
}

bool SgConfig::remove_route(const std::string& name) {
  auto it = std::find_if(routes.begin(), routes.end(), [&](const RouteSettings& r) { return r.name == name; });
  if (it == routes.end()) return false;
  routes.erase(it);
  return true;
}

std::vector<std::string> validate(const SgConfig& c) {
  std::vector<std::string> problems;
  if (!c.point_code) problems.emplace_back("sg: no point-code: the gateway needs its own point code");
  if (c.ss7.listen_ips.empty() && c.ss7.connects.empty())
    problems.emplace_back("ss7-side: neither local-ip (SGP listener) nor any connect: no SS7 traffic can arrive");
  if (!c.ss7.listen_ips.empty() && !c.ss7.accept_any_peer && c.ss7.peers.empty())
    problems.emplace_back("ss7-side: accept-peers configured but no peer is configured: every association would be refused");
  for (const auto& p : c.ss7.peers)
    if (p.remote_ips.empty()) problems.emplace_back("ss7-side peer " + p.name + ": no remote-ip");
  for (const auto& k : c.ss7.connects)
    if (k.remote_ips.empty()) problems.emplace_back("ss7-side connect " + k.name + ": no remote-ip");
  if (!c.registrar.colocated && c.registrar.remote.empty())
    problems.emplace_back("registrar: neither colocated nor any remote registrar: pools cannot be resolved");
  if (c.registrar.colocated && c.registrar.colocated->asap_ips.empty())
    problems.emplace_back("registrar colocated: no asap-ip: pool elements could not register");
  if (c.routes.empty()) problems.emplace_back("no route: no traffic would reach a pool");
  // Peers are told apart by their addresses (every address of an SCTP
  // association must be one peer's): two peers may not share one.
  for (auto a = c.ss7.peers.begin(); a != c.ss7.peers.end(); ++a)
    for (auto b = std::next(a); b != c.ss7.peers.end(); ++b) {
      for (const auto& ip : a->remote_ips)
        if (std::find(b->remote_ips.begin(), b->remote_ips.end(), ip) != b->remote_ips.end())
          problems.push_back("ss7-side peers " + a->name + " and " + b->name + " share remote-ip " + ip.to_string() +
                             ": an association from it could not be told apart");
      // Peers naming one routing context share its AS: one mode for it.
      if (a->routing_context && a->routing_context == b->routing_context &&
          (a->traffic_mode != b->traffic_mode || a->negotiation != b->negotiation))
        problems.push_back("ss7-side peers " + a->name + " and " + b->name + " share routing-context " +
                           std::to_string(*a->routing_context) + " with different traffic-mode settings");
    }
  auto check_sctp = [&](const std::string& where, const SctpOverrides& o) {
    if (o.empty()) return;
    const auto e = apply(o, sctp_profile(c.timers));
    const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
    if (e.rto_min > e.rto_initial || e.rto_initial > e.rto_max)
      problems.push_back(where + ": SCTP RTO min " + ms(e.rto_min) + ", initial " + ms(e.rto_initial) + ", max " +
                         ms(e.rto_max) + " (timer-profile " + std::string(to_string(c.timers)) +
                         " then the overrides): min <= initial <= max is required");
  };
  check_sctp("ss7-side", c.ss7.sctp);
  check_sctp("sg pe-sctp", c.pe_sctp);
  if (c.registrar.colocated) check_sctp("registrar colocated sctp", c.registrar.colocated->sctp);
  if (const auto& co = c.registrar.colocated; co && co->keep_alive_interval_ms && co->keep_alive_timeout_ms &&
                                              *co->keep_alive_timeout_ms > 2 * *co->keep_alive_interval_ms)
    problems.push_back("registrar colocated: keep-alive-timeout above twice keep-alive-interval: a dead PE would "
                       "outlive two audits");
  for (const auto& r : c.routes) {
    if (!r.has_dpc) problems.push_back("route " + r.name + ": no dpc");
    if (r.pool.empty()) problems.push_back("route " + r.name + ": no pool");
    else if (c.pools.count(r.pool) == 0) problems.push_back("route " + r.name + ": pool " + r.pool + " is not configured");
  }
  for (const auto& [name, p] : c.pools) {
    if (p.distributor.congestion_abatement >= p.distributor.congestion_onset)
      problems.push_back("pool " + name + ": congestion abatement must be below onset");
    if (p.distributor.congestion_onset > p.distributor.max_queue)
      problems.push_back("pool " + name + ": congestion onset above max-queue never triggers");
  }
  return problems;
}

namespace {

std::string ni_name(std::uint8_t ni) {
  switch (ni) {
    case 0: return "international";
    case 1: return "spare";
    case 2: return "national";
    default: return "reserved";
  }
}

std::string si_name(std::size_t si) {
  switch (si) {
    case kSiSccp: return "sccp";
    case 4: return "tup";
    case kSiIsup: return "isup";
    default: return std::to_string(si);
  }
}

long long ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

using rserpool::ops::render_sctp;

std::string mode_name(mxua::TrafficMode m) { return std::string(mxua::to_string(m)); }

}  // namespace

std::string render(const SgConfig& c) {
  std::ostringstream o;
  const auto pc = [&](std::uint32_t v) { return mxua::format_point_code(mxua::PointCode{v}, c.pc_format); };
  o << "sg\n";
  o << " point-code-format " << (c.pc_format == mxua::PcFormat::Itu ? "itu" : "ansi") << "\n";
  if (c.point_code) o << " point-code " << mxua::format_point_code(*c.point_code, c.pc_format) << "\n";
  o << " network-indicator " << ni_name(c.network_indicator) << "\n";
  o << " transport " << to_string(c.transport) << "\n";
  o << " timer-profile " << to_string(c.timers) << "\n";
  for (const auto& ip : c.pe_local_ips) o << " pe-local-ip " << ip.to_string() << "\n";
  if (c.pe_beat_ms) o << " pe-beat " << *c.pe_beat_ms << "\n";
  if (c.pe_audit_bound_ms) o << " pe-audit-bound " << *c.pe_audit_bound_ms << "\n";
  if (c.pe_suspicion_ms) o << " pe-suspicion " << *c.pe_suspicion_ms << "\n";
  render_sctp(o, " ", "pe-sctp", c.pe_sctp);
  if (c.metrics_endpoint)
    o << " metrics-endpoint " << c.metrics_endpoint->ip.to_string() << " " << c.metrics_endpoint->port << "\n";
  for (const auto& [cat, level] : c.log_levels) o << " log-level " << cat << " " << level << "\n";
  o << "ss7-side\n";
  for (const auto& ip : c.ss7.listen_ips) o << " local-ip " << ip.to_string() << "\n";
  o << " local-port " << c.ss7.listen_port << "\n";
  o << " accept-peers " << (c.ss7.accept_any_peer ? "any" : "configured") << "\n";
  o << " max-associations-per-peer " << c.ss7.max_associations_per_peer << "\n";
  render_sctp(o, " ", "sctp", c.ss7.sctp);
  const auto opcs = [&](const std::vector<mxua::MaskedPointCode>& list) {
    for (const auto& m : list) {
      o << "  allowed-opc " << pc(m.pc.value);
      if (m.mask != 0) o << " mask " << int{m.mask};
      o << "\n";
    }
  };
  for (const auto& p : c.ss7.peers) {
    o << " peer " << p.name << "\n";
    for (const auto& ip : p.remote_ips) o << "  remote-ip " << ip.to_string() << "\n";
    if (p.routing_context) o << "  routing-context " << *p.routing_context << "\n";
    o << "  traffic-mode " << mode_name(p.traffic_mode) << "\n";
    o << "  traffic-mode-negotiation " << to_string(p.negotiation) << "\n";
    opcs(p.allowed_opcs);
  }
  for (const auto& k : c.ss7.connects) {
    o << " connect " << k.name << "\n";
    for (const auto& ip : k.remote_ips) o << "  remote-ip " << ip.to_string() << "\n";
    o << "  remote-port " << k.remote_port << "\n";
    for (const auto& ip : k.local_ips) o << "  local-ip " << ip.to_string() << "\n";
    o << "  role " << (k.role == PeerRole::asp ? "asp" : "ipsp") << "\n";
    if (k.routing_context) o << "  routing-context " << *k.routing_context << "\n";
    o << "  traffic-mode " << mode_name(k.traffic_mode) << "\n";
    o << "  traffic-mode-negotiation " << to_string(k.negotiation) << "\n";
    opcs(k.allowed_opcs);
  }
  o << "registrar\n";
  if (c.registrar.colocated) {
    const auto& r = *c.registrar.colocated;
    o << " colocated\n";
    for (const auto& ip : r.asap_ips) o << "  asap-ip " << ip.to_string() << "\n";
    o << "  asap-port " << r.asap_port << "\n";
    for (const auto& ip : r.enrp_ips) o << "  enrp-ip " << ip.to_string() << "\n";
    o << "  enrp-port " << r.enrp_port << "\n";
    for (const auto& p : r.enrp_peers) o << "  enrp-peer " << p.ip.to_string() << " " << p.port << "\n";
    for (const auto& a : r.enrp_allowed) o << "  enrp-allow " << a.to_string() << "\n";
    if (r.server_id) o << "  server-id " << *r.server_id << "\n";
    if (r.keep_alive_interval_ms) o << "  keep-alive-interval " << *r.keep_alive_interval_ms << "\n";
    if (r.keep_alive_timeout_ms) o << "  keep-alive-timeout " << *r.keep_alive_timeout_ms << "\n";
    render_sctp(o, "  ", "sctp", r.sctp);
  }
  for (const auto& r : c.registrar.remote) o << " remote " << r.ip.to_string() << " " << r.port << "\n";
  for (const auto& [name, p] : c.pools) {
    o << "pool " << name << "\n";
    o << " placement " << to_string(p.distributor.placement) << "\n";
    o << " placement-settle " << ms(p.distributor.placement_settle) << "\n";
    o << " pool-wait " << ms(p.distributor.pool_wait) << "\n";
    o << " drain-deadline " << ms(p.distributor.drain_deadline) << "\n";
    o << " max-queue " << p.distributor.max_queue << "\n";
    o << " congestion onset " << p.distributor.congestion_onset << " abatement "
      << p.distributor.congestion_abatement << "\n";
  }
  for (const auto& r : c.routes) {
    o << "route " << r.name << "\n";
    if (r.has_dpc) {
      o << " dpc " << pc(r.key.dpc.point_code);
      if (r.key.dpc.wildcard_bits != 0) o << " mask " << int{r.key.dpc.wildcard_bits};
      o << "\n";
    }
    if (r.key.opc) {
      o << " opc " << pc(r.key.opc->point_code);
      if (r.key.opc->wildcard_bits != 0) o << " mask " << int{r.key.opc->wildcard_bits};
      o << "\n";
    }
    for (std::size_t si = 0; si < 16; ++si)
      if (r.key.service_indicators.test(si)) o << " si " << si_name(si) << "\n";
    if (r.key.network_indicator) o << " ni " << ni_name(*r.key.network_indicator) << "\n";
    if (r.key.cics) o << " cic-range " << r.key.cics->first << " " << r.key.cics->last << "\n";
    if (!r.pool.empty()) o << " pool " << r.pool << "\n";
  }
  return o.str();
}

}  // namespace sg
