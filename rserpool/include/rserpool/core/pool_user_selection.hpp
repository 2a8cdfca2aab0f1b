#pragma once
// Pool-user side of the selection policies (RFC 5356 "Pool User
// Considerations"): pick one PE from the list a HANDLE_RESOLUTION_RESPONSE
// returned, skipping PEs the caller knows to have failed.
//
//  overall policy           rule at the PU
//  RR, WRR                  walk the list in order from the first entry, wrap
//  RAND, WRAND, RLU,        uniformly at random among the usable entries (the
//  WRAND-DPF                registrar already drew the list by weight)
//  PRIO                     the usable entry with the highest priority
//  LU, PLU, LU-DPF          the usable entry with the lowest effective load
//                           (the registrar's order, re-checked against the
//                           values carried in the PE parameters)
//  LUD                      as LU on load + d x degradation, d counting this
//                           PU's own picks since the list arrived, so a PU
//                           that sends many messages degrades locally too
//
// Ties rotate: the next pick among equally good entries starts after the last
// one chosen, so a pool user that sends one message per pick spreads them.
// Lists are short (the registrar returns a handful of PEs), so each pick is a
// linear pass over the list: O(list size), no allocation in the steady state.
// A pool without an overall policy parameter is Round Robin (RFC 5352 2.2.6).
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "rserpool/core/random.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::core {

class PoolUserSelector {
 public:
  explicit PoolUserSelector(PolicyType overall = PolicyType::round_robin) : policy_(overall) {}

  PolicyType policy() const noexcept { return policy_; }
  // A new policy (the overall policy parameter changed) restarts the state.
  void set_policy(PolicyType overall);

  // Call when a fresh list replaces the old one: LUD's local counts restart
  // because the new list carries fresh load values. The rotation position is
  // kept (by PE identifier) so that refreshing does not reset RR to the top.
  void list_changed();

  // Index into `list` of the chosen PE, or nullopt when every entry is
  // excluded or the list is empty.
  std::optional<std::size_t> select(std::span<const PoolElementParameter> list,
                                    std::span<const PeIdentifier> excluded, Random& rng);

 private:
  std::uint64_t rank_of(const PoolElementParameter& pe) const noexcept;
  std::uint32_t local_count(PeIdentifier id) const noexcept;
  void count_pick(PeIdentifier id);

  PolicyType policy_;
  std::optional<PeIdentifier> last_;
  std::vector<std::pair<PeIdentifier, std::uint32_t>> lud_counts_;
};

}  // namespace rserpool::core
