#pragma once
// A mated pair of gateways (or one gateway) in virtual time, for issue 15:
// the SS7 side (Ss7CallGenerator) load-shares its circuits over the
// gateways by SLS and moves them to the survivor when one dies; each
// gateway is a PoolDistributor with its own selector and nothing shared
// but the registrar's PE list; the gateway controllers are GwcCallModels
// with one association per gateway, holding what they send while no
// gateway is reachable and re-sending what a dying association handed back.
//
// Faults: a gateway killed (SIGKILL: its associations drop, what was in
// flight towards it is handed back to the senders' transports, as SCTP
// SEND_FAILED does) and restarted (a new distributor, the PE list from its
// registrar after a mentor sync, or controller by controller as they
// register again); a controller joining; a controller dying.
//
// What it measures is what issue 15 asks: failed calls, messages for
// unknown calls at the controllers, duplicates at the SS7 side, and the
// time until calls flow through a restarted gateway.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "sg/routing/pool_distributor.hpp"
#include "sg/sim/gwc_call_model.hpp"
#include "sg/sim/ss7_call_generator.hpp"

namespace sg::sim::pair {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

struct Scenario {
  int gateways = 2;
  PlacementMode placement = PlacementMode::rendezvous;
  ms placement_settle = 300ms;
  std::vector<rserpool::PeIdentifier> controllers{11, 22, 33};
  double calls_per_second = 200;
  double sccp_per_second = 50;
  ms hold_time = 300ms;
  ms stop_originating = 5000ms;
  ms end = 9000ms;
  // SIGKILL of gateway `victim` at `kill_at`; restarted `restart_after` later.
  std::optional<ms> kill_at;
  int victim = 0;
  std::optional<ms> restart_after;
  // The restarted gateway's view of the pool: its registrar's first PE
  // `relist_first` after the restart (a mentor sync from the mate's
  // registrar: all PEs at once; alone: the controllers registering again),
  // each further one `relist_spread` later.
  ms relist_first = 10ms;
  ms relist_spread = 0ms;
  // The SS7 side's association to the restarted gateway is active again.
  ms ss7_reconnect = 50ms;
  // Membership changes before the kill (for the bound on calls placed
  // before a membership change).
  std::optional<ms> join_at;
  rserpool::PeIdentifier joiner = 44;
  std::optional<ms> controller_dies_at;
  rserpool::PeIdentifier dying_controller = 22;
  // A one-sided fence: gateway `fencing_gateway` alone fails its link to
  // `fenced_controller` at `one_sided_fence_at` (M3UA BEAT missed there: a
  // controller starved just past one gateway's bound), the controller
  // itself alive and still listed; the gateway readmits it after the
  // registrar's audit (audit_bound 2 s here), as sgd does.
  std::optional<ms> one_sided_fence_at;
  int fencing_gateway = 0;
  rserpool::PeIdentifier fenced_controller = 11;
};

struct Result {
  GeneratorStats gen;
  std::map<rserpool::PeIdentifier, GwcCounters> gwc;  // controllers alive at the end
  std::uint64_t unknown_at_controllers = 0;
  std::uint64_t duplicates_at_ss7 = 0;  // ACM/ANM/RLC for a call already past that point
  // Calls in progress at the kill on the killed gateway's circuits (its
  // SLSs), and those the survivor's hash over the pool at the kill gives to
  // another controller than the one holding them (membership changed since
  // they were placed): the exposure the issue asks to bound.
  std::uint64_t calls_in_progress_at_kill = 0;
  std::uint64_t exposed_at_kill = 0;
  // Restart: from the restart to the first message the restarted gateway
  // sends a controller (traffic flows), and to the first call message it
  // brings back from one.
  std::optional<ms> restart_to_traffic;
  std::optional<ms> restart_to_first_reply;
  std::vector<DistributorCounters> gateways;
  std::uint64_t handed_back_to_ss7 = 0;
  std::uint64_t handed_back_to_controllers = 0;
};

Result run(const Scenario& s);

}  // namespace sg::sim::pair
