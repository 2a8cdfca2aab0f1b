#include "sg/routing/policy_member_selector.hpp"

#include <algorithm>

namespace sg {

void PolicyMemberSelector::members_changed(std::optional<rserpool::PolicyParameters> overall_policy,
                                           std::span<const rserpool::PoolElementParameter> elements) {
  // No overall policy parameter means Round Robin (RFC 5352 2.2.6).
  const auto type = overall_policy ? overall_policy->type : rserpool::PolicyType::round_robin;
  if (type != selector_.policy()) selector_.set_policy(type);
  elements_.assign(elements.begin(), elements.end());
  selector_.list_changed();
}

rserpool::PeIdentifier PolicyMemberSelector::pick(const Placement& /*what*/, std::span<const Candidate> candidates) {
  excluded_.clear();
  for (const auto& e : elements_) {
    const bool usable = std::any_of(candidates.begin(), candidates.end(),
                                    [&](const Candidate& c) { return c.id == e.id; });
    if (!usable) excluded_.push_back(e.id);
  }
  if (auto index = selector_.select(elements_, excluded_, rng_)) return elements_[*index].id;
  // A usable PE that the last answer did not list (it registered since):
  // take the one with the fewest flows rather than refuse the flow.
  return std::min_element(candidates.begin(), candidates.end(),
                          [](const Candidate& a, const Candidate& b) { return a.flows < b.flows; })
      ->id;
}

}  // namespace sg
