#pragma once
// The selector a pool runs with: the operator's `placement` setting picks
// weighted rendezvous hashing (RendezvousMemberSelector, the default: both
// gateways of a mated pair, and a restarted gateway, place every flow
// alike) or the RFC 5356 policy the PEs registered (PolicyMemberSelector).
// The setting may change on a running pool: flows placed already stay where
// they are; only new placements follow it.
#include <cstdint>

#include "sg/routing/policy_member_selector.hpp"
#include "sg/routing/rendezvous.hpp"

namespace sg {

class PoolMemberSelector : public MemberSelector {
 public:
  explicit PoolMemberSelector(PlacementMode mode, std::uint64_t seed = 0x5347u) : mode_(mode), policy_(seed) {}

  void set_mode(PlacementMode mode) noexcept { mode_ = mode; }
  PlacementMode mode() const noexcept { return mode_; }
  // The pool's RFC 5356 policy (shown either way: it names the weights).
  rserpool::PolicyType policy() const noexcept { return policy_.policy(); }

  rserpool::PeIdentifier pick(const Placement& what, std::span<const Candidate> candidates) override {
    return mode_ == PlacementMode::rendezvous ? rendezvous_.pick(what, candidates) : policy_.pick(what, candidates);
  }
  void members_changed(std::optional<rserpool::PolicyParameters> overall,
                       std::span<const rserpool::PoolElementParameter> selectable) override {
    policy_.members_changed(overall, selectable);
  }
  bool shared() const override { return mode_ == PlacementMode::rendezvous; }

 private:
  PlacementMode mode_;
  PolicyMemberSelector policy_;
  RendezvousMemberSelector rendezvous_;
};

}  // namespace sg
