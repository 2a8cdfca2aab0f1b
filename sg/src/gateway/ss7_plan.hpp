#pragma once
// What the SS7 side runs, derived from the configuration alone (no I/O):
// the SGP core's configuration (peers, the ASes they own, their traffic
// modes), one ASP core configuration per `connect`, and the return-path
// table with its owners and default paths. The daemon's executor
// (ss7_side.cpp) and a deterministic simulation build the same cores from
// the same plan.
#include <chrono>
#include <optional>
#include <vector>

#include "mxua/fsm/asp_client.hpp"
#include "mxua/fsm/return_paths.hpp"
#include "mxua/fsm/sgp_node.hpp"
#include "sg/config/sg_config.hpp"

namespace sg::gateway {

struct Ss7Plan {
  // Owners of return paths: configured SGP peers by index, connections
  // from kConnectionOwner, associations of unconfigured peers from kAnyOwner.
  static constexpr mxua::PathOwner kConnectionOwner = 0x4000'0000;
  static constexpr mxua::PathOwner kAnyOwner = 0x8000'0000;

  struct Connect {
    Ss7Connect config;
    mxua::AspClientConfig asp;
    mxua::PathOwner owner = 0;
  };
  std::optional<mxua::SgpConfig> sgp;  // none: no SGP listener
  std::vector<Connect> connects;
  mxua::ReturnPaths return_paths;
};

// `retry_initial` / `retry_max`: the back-off of a refused ASPUP/ASPAC on
// the connections (the timer profile's).
Ss7Plan plan_ss7(const SgConfig& config, std::chrono::milliseconds retry_initial,
                 std::chrono::milliseconds retry_max);

}  // namespace sg::gateway
