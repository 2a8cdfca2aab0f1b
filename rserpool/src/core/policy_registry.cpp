// The table that ties a PolicyType code to its registrar-side selection.
#include <array>

#include "selections.hpp"

namespace rserpool::core {

namespace {

template <WeightRule R>
std::unique_ptr<PoolSelection> weighted_random() {
  return make_weighted_random_selection(R);
}
template <RankRule R>
std::unique_ptr<PoolSelection> ranked() {
  return make_ranked_selection(R);
}

constexpr std::array<PolicyDescriptor, 11> kPolicies{{
    {PolicyType::round_robin, "RoundRobin", &make_round_robin_selection},
    {PolicyType::weighted_round_robin, "WeightedRoundRobin", &make_weighted_round_robin_selection},
    {PolicyType::random, "Random", &make_random_selection},
    {PolicyType::weighted_random, "WeightedRandom", &weighted_random<WeightRule::weight>},
    {PolicyType::priority, "Priority", &ranked<RankRule::priority>},
    {PolicyType::least_used, "LeastUsed", &ranked<RankRule::least_used>},
    {PolicyType::least_used_degradation, "LeastUsedDegradation", &ranked<RankRule::least_used_degradation>},
    {PolicyType::priority_least_used, "PriorityLeastUsed", &ranked<RankRule::priority_least_used>},
    {PolicyType::randomized_least_used, "RandomizedLeastUsed",
     &weighted_random<WeightRule::randomized_least_used>},
    {PolicyType::weighted_random_dpf, "WeightedRandomDPF", &weighted_random<WeightRule::weight_dpf>},
    {PolicyType::least_used_dpf, "LeastUsedDPF", &ranked<RankRule::least_used_dpf>},
}};

}  // namespace

const PolicyDescriptor* find_policy(PolicyType type) noexcept {
  for (const auto& d : kPolicies)
    if (d.type == type) return &d;
  return nullptr;
}

const PolicyDescriptor* find_policy(std::uint32_t code) noexcept {
  return find_policy(static_cast<PolicyType>(code));
}

std::span<const PolicyDescriptor> supported_policies() noexcept { return kPolicies; }

}  // namespace rserpool::core
