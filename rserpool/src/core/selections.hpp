#pragma once
// Factories of the PoolSelection implementations (one file per family).
#include <memory>

#include "rserpool/core/policy.hpp"

namespace rserpool::core {

std::unique_ptr<PoolSelection> make_round_robin_selection();
std::unique_ptr<PoolSelection> make_weighted_round_robin_selection();
// Tests only: rebase the pass values once the virtual time reaches rebase_at.
std::unique_ptr<PoolSelection> make_weighted_round_robin_selection(std::uint64_t rebase_at);
std::unique_ptr<PoolSelection> make_random_selection();

enum class WeightRule { weight, randomized_least_used, weight_dpf };
std::unique_ptr<PoolSelection> make_weighted_random_selection(WeightRule rule);

enum class RankRule { priority, least_used, least_used_degradation, priority_least_used, least_used_dpf };
std::unique_ptr<PoolSelection> make_ranked_selection(RankRule rule);

}  // namespace rserpool::core
