#include "ss7_plan.hpp"

#include <map>

namespace sg::gateway {

Ss7Plan plan_ss7(const SgConfig& config, std::chrono::milliseconds retry_initial,
                 std::chrono::milliseconds retry_max) {
  Ss7Plan plan;
  const auto& ss7 = config.ss7;
  if (!ss7.listen_ips.empty()) {
    mxua::SgpConfig sgp;
    // Each configured peer with its addresses and OPC screen; each peer's
    // routing context is an AS the peer owns (peers naming the same RC
    // share its AS). Without any, one AS (RC 0) that any ASP may activate.
    // ASPs may also register keys (RKM): what they register is theirs.
    std::map<std::uint32_t, std::size_t> by_rc;
    mxua::PathOwner index = 0;
    for (const auto& p : ss7.peers) {
      sgp.peers.push_back(mxua::SgpPeerConfig{p.name, p.remote_ips, p.allowed_opcs});
      plan.return_paths.set_owned(index++, p.allowed_opcs);
      if (!p.routing_context) continue;
      auto [it, fresh] = by_rc.try_emplace(*p.routing_context, sgp.application_servers.size());
      if (fresh) {
        mxua::AsConfig as;
        as.name = p.name;
        as.routing_context = *p.routing_context;
        as.mode = p.traffic_mode;
        as.accept_peer_mode = p.negotiation == ModeNegotiation::follow;
        sgp.application_servers.push_back(as);
      }
      sgp.application_servers[it->second].owners.push_back(p.name);
    }
    if (sgp.application_servers.empty()) {
      mxua::AsConfig as;
      as.name = "default";
      as.routing_context = 0;
      sgp.application_servers.push_back(as);
    }
    // Answers for unknown destinations: through each AS in configuration
    // order (one path per owner, so a point code a peer is configured to
    // originate finds that peer's).
    for (const auto& as : sgp.application_servers) {
      if (as.owners.empty()) plan.return_paths.add_default(mxua::ReturnPath{Ss7Plan::kAnyOwner, as.routing_context});
      for (const auto& owner : as.owners) {
        mxua::PathOwner i = 0;
        for (const auto& p : ss7.peers) {
          if (p.name == owner) plan.return_paths.add_default(mxua::ReturnPath{i, as.routing_context});
          ++i;
        }
      }
    }
    sgp.rkm = mxua::RkmPermission::DynamicPermitted;
    sgp.accept_unknown_peers = ss7.accept_any_peer;
    sgp.max_associations_per_peer = ss7.max_associations_per_peer;
    plan.sgp = std::move(sgp);
  }
  mxua::PathOwner owner = Ss7Plan::kConnectionOwner;
  for (const auto& k : ss7.connects) {
    Ss7Plan::Connect c;
    c.config = k;
    c.owner = owner++;
    c.asp.activations = {mxua::AspActivation{
        k.routing_context ? std::vector<std::uint32_t>{*k.routing_context} : std::vector<std::uint32_t>{},
        k.traffic_mode}};
    c.asp.follow_peer_mode = k.negotiation == ModeNegotiation::follow;
    c.asp.retry_initial = retry_initial;
    c.asp.retry_max = retry_max;
    c.asp.originating_point_codes = k.allowed_opcs;
    plan.return_paths.set_owned(c.owner, k.allowed_opcs);
    plan.return_paths.add_default(mxua::ReturnPath{c.owner, k.routing_context});
    plan.connects.push_back(std::move(c));
  }
  return plan;
}

}  // namespace sg::gateway
