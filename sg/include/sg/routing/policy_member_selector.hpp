#pragma once
// The pool user's RFC 5356 selection, applied to new flows: the distributor
// asks for a PE among the usable ones; this picks by the pool's overall
// policy over the latest handle-resolution answer (core::PoolUserSelector),
// with the PEs that are not usable right now excluded.
#include <optional>
#include <span>
#include <vector>

#include "rserpool/core/pool_user_selection.hpp"
#include "rserpool/core/random.hpp"
#include "sg/routing/pool_distributor.hpp"

namespace sg {

class PolicyMemberSelector : public MemberSelector {
 public:
  explicit PolicyMemberSelector(std::uint64_t seed = 0x5347u) : rng_(seed) {}

  // A fresh handle-resolution answer (or subscription update), minus the
  // PEs the operator drained: the distributor calls it on every change.
  void members_changed(std::optional<rserpool::PolicyParameters> overall_policy,
                       std::span<const rserpool::PoolElementParameter> elements) override;
  const std::vector<rserpool::PoolElementParameter>& elements() const noexcept { return elements_; }
  rserpool::PolicyType policy() const noexcept { return selector_.policy(); }

  // The policy does not look at what the PE is for.
  rserpool::PeIdentifier pick(const Placement& what, std::span<const Candidate> candidates) override;

 private:
  rserpool::core::PoolUserSelector selector_;
  rserpool::core::Random rng_;
  std::vector<rserpool::PoolElementParameter> elements_;
  std::vector<rserpool::PeIdentifier> excluded_;  // scratch
};

}  // namespace sg
