#include "pool_text.hpp"

#include <cstdio>
#include <set>
#include <sstream>

#include "pool_runtime.hpp"

namespace sg::gateway {

using rserpool::PeIdentifier;

std::string pe_text(PeIdentifier pe) {
  char b[12];
  std::snprintf(b, sizeof b, "%08x", pe);
  return b;
}

std::string policy_text(const rserpool::PolicyParameters& p) {
  std::string s(rserpool::to_string(p.type));
  const auto percent = [](std::uint32_t load) {
    return std::to_string(static_cast<unsigned>(static_cast<double>(load) * 100.0 / 4294967295.0)) + "%";
  };
  switch (p.type) {
    case rserpool::PolicyType::weighted_round_robin:
    case rserpool::PolicyType::weighted_random:
    case rserpool::PolicyType::weighted_random_dpf: s += " weight " + std::to_string(p.weight); break;
    case rserpool::PolicyType::priority: s += " priority " + std::to_string(p.priority); break;
    case rserpool::PolicyType::least_used:
    case rserpool::PolicyType::randomized_least_used:
    case rserpool::PolicyType::least_used_dpf: s += " load " + percent(p.load); break;
    case rserpool::PolicyType::least_used_degradation:
    case rserpool::PolicyType::priority_least_used:
      s += " load " + percent(p.load) + " degradation " + std::to_string(p.degradation);
      break;
    default: break;
  }
  return s;
}

std::string transport_text(const rserpool::TransportParameter& t) {
  std::string s = t.addresses.empty() ? std::string("-") : t.addresses.front().to_string();
  if (t.addresses.size() > 1) s += "(+" + std::to_string(t.addresses.size() - 1) + ")";
  s += ":" + std::to_string(t.port);
  s += t.protocol == rserpool::TransportProtocol::sctp  ? "/sctp"
       : t.protocol == rserpool::TransportProtocol::tcp ? "/tcp"
                                                        : "/?";
  return s;
}

std::string show_pool(const PoolRuntime& pool, bool with_header) {
  std::ostringstream o;
  const auto& d = pool.distributor();
  const auto& c = d.counters();
  const auto& membership = d.membership();
  std::set<PeIdentifier> all;
  for (auto id : d.members()) all.insert(id);
  membership.for_each([&](const rserpool::PoolElementParameter& p, bool) { all.insert(p.id); });
  if (with_header) {
    o << "pool " << pool.name() << ": policy " << rserpool::to_string(pool.selector().policy()) << ", "
      << membership.listed_count() << " PE(s) registered, " << d.flow_count() << " flow(s), pool-wait "
      << d.pool_wait_depth() << ", " << (d.pool_available() ? "available" : "UNAVAILABLE") << "\n";
    const auto& cfg = d.config();
    o << "  placement " << to_string(cfg.placement);
    if (cfg.placement == PlacementMode::rendezvous)
      o << " (settle " << rserpool::to_millis(cfg.placement_settle) << " ms, "
        << (d.placement_settled() ? "settled" : "SETTLING: calls in progress wait") << ")";
    o << "\n";
    o << "  pool-wait " << rserpool::to_millis(cfg.pool_wait) << " ms, drain-deadline "
      << rserpool::to_millis(cfg.drain_deadline) << " ms, max-queue " << cfg.max_queue << ", congestion onset "
      << cfg.congestion_onset << " abatement " << cfg.congestion_abatement << "\n";
    const auto& mc = d.profile().membership;
    o << "  audit-bound " << rserpool::to_millis(mc.audit_bound) << " ms, suspicion "
      << rserpool::to_millis(mc.suspicion) << " ms, retry " << rserpool::to_millis(mc.retry_initial) << "-"
      << rserpool::to_millis(mc.retry_max) << " ms, ISUP CIC "
      << (d.profile().isup_variant == ss7::IsupVariant::ansi ? "ANSI 14-bit" : "ITU 12-bit") << "\n";
    o << "  accepted " << c.accepted << " sent " << c.sent << " queued " << c.queued << " failovers " << c.failovers
      << " flows-moved " << c.flows_moved << " cookies-echoed " << c.cookies_echoed << " resent "
      << c.resent_after_failover << " drains " << c.drains << "\n";
    o << "  fenced " << c.fenced << " audits-passed " << c.audits_passed << " reconnects " << c.reconnect_attempts
      << " suspicions " << c.suspicions << " (cleared " << c.suspicions_cleared << ", re-sent "
      << c.kept_since_notice << ") dropped-from-fenced "
      << c.dropped(DropReason::fenced_member) + pool.dropped_after_fence() << "\n";
    o << "  calls-taken-over " << c.calls_taken_over << " held-for-settle " << c.held_for_settle << "\n";
  }
  char line[256];
  std::snprintf(line, sizeof line, "  %-8s  %-26s %-10s %-13s %-28s %7s %10s %10s %6s\n", "PE", "address", "state",
                "link", "policy", "flows", "msgs-out", "msgs-in", "queue");
  o << line;
  for (auto id : all) {
    const auto* listed = membership.listed(id);
    const auto st = d.state_of(id);
    const auto link = pool.link_state(id);
    const auto& lcs = pool.link_counters();
    const auto lc = lcs.find(id);
    const std::string state = st ? std::string(to_string(*st))
                                 : std::string(membership.operator_drained(id) ? "drained" : "gone");
    const std::string link_text = link ? std::string(gwc_link::to_string(*link)) : std::string("-");
    const std::string addr = listed ? transport_text(listed->user_transport) : std::string("-");
    const std::string pol = listed ? policy_text(listed->policy) : std::string("-");
    const std::uint64_t out = lc != lcs.end() ? lc->second->out.messages : 0;
    const std::uint64_t in = lc != lcs.end() ? lc->second->in.messages : 0;
    std::snprintf(line, sizeof line, "  %-8s  %-26s %-10s %-13s %-28s %7zu %10llu %10llu %6zu\n", pe_text(id).c_str(),
                  addr.c_str(), state.c_str(), link_text.c_str(), pol.c_str(), d.flow_count(id),
                  static_cast<unsigned long long>(out), static_cast<unsigned long long>(in),
                  d.queue_depth(id) + d.kept_depth(id));
    o << line;
  }
  return o.str();
}

std::string show_flows(const PoolRuntime& pool) {
  std::ostringstream o;
  const auto& d = pool.distributor();
  o << "pool " << pool.name() << ": " << d.flow_count() << " flow(s)\n";
  for (auto id : d.members()) {
    o << "  PE " << pe_text(id) << ": " << d.flow_count(id) << " flow(s)";
    // A sample, so an operator can see what kind of traffic sticks where.
    const auto flows = d.flows_of(id);
    for (std::size_t i = 0; i < flows.size() && i < 5; ++i) {
      const auto& f = flows[i];
      o << (i == 0 ? ": " : ", ") << "opc " << f.opc << " dpc " << f.dpc << " si " << unsigned{f.si}
        << (f.circuit ? " cic " : " sls ") << f.selector;
    }
    if (flows.size() > 5) o << ", ...";
    o << "\n";
  }
  return o.str();
}

}  // namespace sg::gateway
